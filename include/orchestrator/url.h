// URLs as the user gives them: which we fetch, and how we show them.
#ifndef ORCHESTRATOR_URL_H_
#define ORCHESTRATOR_URL_H_

#include <string>
#include <string_view>

#include "orchestrator/fallible.h"

namespace orchestrator {

/// Passes an absolute http or https URL with a host; says what is wrong with any other `url`
/// as a fetch target.
CheckResult CheckFetchUrl(std::string_view url);

/// `url` as curl takes it: with "http://" in front when it starts with no "scheme://"
/// (`127.0.0.1:8080/get`, `example.com`). A URL template is given its own literal text: one
/// that starts with a placeholder, or is empty, is returned as it is, so that no value can
/// decide the scheme, host or port.
std::string WithGuessedScheme(std::string_view url);

/// `url` with its password, if any, replaced by "***", for messages.
std::string RedactUrl(std::string_view url);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_URL_H_
