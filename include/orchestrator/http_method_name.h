// An HTTP method by its name, as curl takes -X: in any case.
#ifndef ORCHESTRATOR_HTTP_METHOD_NAME_H_
#define ORCHESTRATOR_HTTP_METHOD_NAME_H_

#include <optional>
#include <string_view>

#include "orchestrator/http_client.h"

namespace orchestrator {

/// The method of kHttpMethods that `name` names in any case ("get", "Post"); nullopt for any
/// other name. It is sent as NameOf writes it, upper case.
std::optional<HttpMethod> MethodNamed(std::string_view name);

/// For a message: the names MethodNamed knows.
inline constexpr std::string_view kKnownMethods = "GET, HEAD, POST, PUT, PATCH, DELETE";

}  // namespace orchestrator

#endif  // ORCHESTRATOR_HTTP_METHOD_NAME_H_
