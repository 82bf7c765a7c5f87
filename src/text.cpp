#include "orchestrator/text.h"

#include <algorithm>

namespace orchestrator {

bool IsHttpToken(std::string_view text) {
  constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           kSpecials.find(c) != std::string_view::npos;
  });
}

}  // namespace orchestrator
