#include "orchestrator/colour.h"

#include <cstdlib>

#include "orchestrator/status_line.h"

namespace orchestrator {

bool ColourFor(int fd) {
  const char* no_colour = std::getenv("NO_COLOR");
  if (no_colour != nullptr && *no_colour != '\0') return false;
  return IsStatusTerminal(fd);
}

std::string Painted(std::string_view text, Colour colour, bool on) {
  if (!on) return std::string(text);
  std::string painted = colour == Colour::kRed ? "\x1b[31m" : "\x1b[32m";
  painted += text;
  painted += "\x1b[0m";
  return painted;
}

}  // namespace orchestrator
