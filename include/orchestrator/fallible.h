// The one shape of a step that can fail: its value, or what is wrong.
#ifndef ORCHESTRATOR_FALLIBLE_H_
#define ORCHESTRATOR_FALLIBLE_H_

#include <string>
#include <variant>

namespace orchestrator {

/// What a step that can fail returns: its value, or a message saying what is wrong, in words
/// for the user (a usage error's text, or a task's error_info). The caller reads the message
/// with std::get_if<std::string>.
///
/// Why this shape: the parsers of the command line have always returned it (ParseShard,
/// ParseRate, ParseHaltPolicy, ParseRunningLimit: std::variant<T, std::string> is this type),
/// so the checks take it too, rather than std::optional<std::string>, which read as the error
/// in CheckFetchUrl and CheckLimitColumns but as the value in ExpandShardPath. A step whose
/// value is itself a string cannot take it: split it into a check and a plain function (see
/// NamesShard and ExpandShardPath). Template::Parse keeps its own Error, which has an offset.
template <typename T>
using Fallible = std::variant<T, std::string>;

/// A check, which has no value to give: kPassed, or what is wrong.
using CheckResult = Fallible<std::monostate>;
inline constexpr std::monostate kPassed{};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_FALLIBLE_H_
