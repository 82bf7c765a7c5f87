#include "orchestrator/header_name.h"

#include "orchestrator/text.h"

namespace orchestrator {

CheckResult CheckHeaderName(std::string_view name) {
  if (IsHttpToken(name)) return kPassed;
  return std::string("an invalid name (letters, digits and !#$%&'*+-.^_`|~)");
}

}  // namespace orchestrator
