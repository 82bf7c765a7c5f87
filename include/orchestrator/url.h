// URLs as the user gives them: which we fetch, and how we show them.
#ifndef ORCHESTRATOR_URL_H_
#define ORCHESTRATOR_URL_H_

#include <optional>
#include <string>
#include <string_view>

namespace orchestrator {

/// Says what is wrong with `url` as a fetch target, or nullopt if it is an absolute http or
/// https URL with a host.
std::optional<std::string> CheckFetchUrl(std::string_view url);

/// `url` with its password, if any, replaced by "***", for messages.
std::string RedactUrl(std::string_view url);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_URL_H_
