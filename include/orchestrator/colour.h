// Colour on stderr: on a terminal only, and never when the user says no (no-color.org).
#ifndef ORCHESTRATOR_COLOUR_H_
#define ORCHESTRATOR_COLOUR_H_

#include <string>
#include <string_view>

namespace orchestrator {

/// Whether what is written to `fd` may be coloured: it is a terminal that can draw
/// (IsStatusTerminal: a tty, TERM set and not "dumb"), and NO_COLOR is unset or empty. Never
/// a file or a pipe.
bool ColourFor(int fd);

enum class Colour { kRed, kGreen };

/// `text` in `colour` (an SGR escape, then a reset) when `on`; else `text` as it is.
std::string Painted(std::string_view text, Colour colour, bool on);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_COLOUR_H_
