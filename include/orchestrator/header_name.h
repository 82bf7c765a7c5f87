// The name of a request header, from -H or a blueprint file: one rule for both.
#ifndef ORCHESTRATOR_HEADER_NAME_H_
#define ORCHESTRATOR_HEADER_NAME_H_

#include <string_view>

#include "orchestrator/fallible.h"

namespace orchestrator {

/// Passes an HTTP token (RFC 9110: letters, digits and !#$%&'*+-.^_`|~, at least one); says
/// what a name is made of otherwise (without quoting `name`).
CheckResult CheckHeaderName(std::string_view name);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_HEADER_NAME_H_
