#include "orchestrator/http_method_name.h"

#include <algorithm>

namespace orchestrator {

std::optional<HttpMethod> MethodNamed(std::string_view name) {
  const auto same_letters = [](char a, char b) {
    const auto upper = [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; };
    return upper(a) == upper(b);
  };
  for (const HttpMethod method : kHttpMethods) {
    if (std::ranges::equal(NameOf(method), name, same_letters)) return method;
  }
  return std::nullopt;
}

}  // namespace orchestrator
