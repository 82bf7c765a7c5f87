// Durations on the command line and in messages.
#ifndef ORCHESTRATOR_DURATION_H_
#define ORCHESTRATOR_DURATION_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace orchestrator {

/// Every duration in the tool has millisecond resolution.
using Duration = std::chrono::milliseconds;

/// Parses "250ms", "1.5s", "5s", "1m", "2h" or a plain number of seconds ("10", "0.5").
/// Returns nullopt for anything else: a sign, spaces, an unknown unit, more precision than
/// a millisecond, or a value beyond about 290 million years.
std::optional<Duration> ParseDuration(std::string_view text);

/// Formats for people: "250ms", "1.5s", "10s", "90s".
std::string FormatDuration(Duration duration);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_DURATION_H_
