#include "orchestrator/halt_policy.h"

#include <fmt/format.h>

#include <charconv>

namespace orchestrator {

bool HaltPolicy::Reached(std::uint64_t failed, std::uint64_t ended) const {
  if (when == When::kNever || failed == 0) return false;
  if (!percent) return failed >= failures;
  if (ended < kPercentAfter) return false;
  return static_cast<double>(failed) * 100.0 >= *percent * static_cast<double>(ended);
}

std::variant<HaltPolicy, std::string> ParseHaltPolicy(std::string_view text) {
  const std::string usage = fmt::format(
      "--halt \"{}\": expected never, soon,fail=N, soon,fail=P%, now,fail=N or now,fail=P%", text);
  HaltPolicy policy;
  if (text == "never") return policy;
  const std::size_t comma = text.find(',');
  if (comma == std::string_view::npos) return usage;
  const std::string_view when = text.substr(0, comma);
  std::string_view condition = text.substr(comma + 1);
  if (when == "soon") {
    policy.when = HaltPolicy::When::kSoon;
  } else if (when == "now") {
    policy.when = HaltPolicy::When::kNow;
  } else {
    return usage;
  }
  if (!condition.starts_with("fail=")) return usage;
  condition.remove_prefix(5);
  const bool is_percent = condition.ends_with('%');
  if (is_percent) condition.remove_suffix(1);
  if (condition.empty()) return usage;
  const char* end = condition.data() + condition.size();
  if (is_percent) {
    double value = 0;
    const auto [ptr, error] = std::from_chars(condition.data(), end, value);
    if (error != std::errc() || ptr != end || !(value > 0) || value > 100) {
      return fmt::format("--halt \"{}\": the percentage must be above 0 and at most 100", text);
    }
    policy.percent = value;
  } else {
    std::uint64_t value = 0;
    const auto [ptr, error] = std::from_chars(condition.data(), end, value);
    if (error != std::errc() || ptr != end || value == 0) {
      return fmt::format("--halt \"{}\": the number of failures must be a whole number from 1",
                         text);
    }
    policy.failures = value;
  }
  return policy;
}

}  // namespace orchestrator
