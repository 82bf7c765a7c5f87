#include "orchestrator/duration.h"

#include <fmt/format.h>
#include <cstdint>
#include <limits>

namespace orchestrator {
namespace {

struct Unit {
  std::string_view suffix;
  std::int64_t milliseconds;
};

constexpr Unit kUnits[] = {{"ms", 1}, {"s", 1'000}, {"m", 60'000}, {"h", 3'600'000}, {"", 1'000}};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// value = digits * unit, kept exact: false if it does not fit in an int64.
bool MultiplyAdd(std::int64_t& value, std::int64_t factor, std::int64_t add) {
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  if (value > (kMax - add) / factor) return false;
  value = value * factor + add;
  return true;
}

}  // namespace

std::optional<Duration> ParseDuration(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size() && IsDigit(text[pos])) ++pos;
  const std::string_view whole = text.substr(0, pos);
  std::string_view fraction;
  if (pos < text.size() && text[pos] == '.') {
    const std::size_t start = ++pos;
    while (pos < text.size() && IsDigit(text[pos])) ++pos;
    fraction = text.substr(start, pos - start);
    if (fraction.empty()) return std::nullopt;  // "1." is a typo, not a number
  }
  if (whole.empty()) return std::nullopt;  // also refuses signs and ".5"

  const std::string_view suffix = text.substr(pos);
  const Unit* unit = nullptr;
  for (const Unit& candidate : kUnits) {
    if (candidate.suffix == suffix) unit = &candidate;
  }
  if (unit == nullptr) return std::nullopt;

  // Exact arithmetic: "1.5s" is 15 tenths of 1000 ms. A result that is not a whole number
  // of milliseconds ("0.5ms", "1.0001s") is refused rather than silently rounded.
  std::int64_t numerator = 0;
  for (char c : whole) {
    if (!MultiplyAdd(numerator, 10, c - '0')) return std::nullopt;
  }
  std::int64_t denominator = 1;
  for (char c : fraction) {
    if (!MultiplyAdd(numerator, 10, c - '0') || !MultiplyAdd(denominator, 10, 0)) {
      return std::nullopt;
    }
  }
  std::int64_t scaled = numerator;
  if (!MultiplyAdd(scaled, unit->milliseconds, 0) || scaled % denominator != 0) {
    return std::nullopt;
  }
  return Duration(scaled / denominator);
}

std::string FormatDuration(Duration duration) {
  const std::int64_t ms = duration.count();
  if (ms < 1'000) return fmt::format("{}ms", ms);
  if (ms % 1'000 == 0) return fmt::format("{}s", ms / 1'000);
  std::string fraction = fmt::format("{:03}", ms % 1'000);
  while (fraction.back() == '0') fraction.pop_back();
  return fmt::format("{}.{}s", ms / 1'000, fraction);
}

}  // namespace orchestrator
