#include "orchestrator/byte_size.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <utility>

namespace orchestrator {

std::optional<std::uint64_t> ParseByteSize(std::string_view text) {
  std::uint64_t number = 0;
  const char* const end = text.data() + text.size();
  const auto [rest, error] = std::from_chars(text.data(), end, number);
  if (error != std::errc() || rest == text.data()) return std::nullopt;

  constexpr std::array<std::pair<std::string_view, int>, 11> kUnits{{
      {"", 0},
      {"B", 0},
      {"k", 10},
      {"K", 10},
      {"KiB", 10},
      {"M", 20},
      {"MiB", 20},
      {"G", 30},
      {"GiB", 30},
      {"T", 40},
      {"TiB", 40},
  }};
  const std::string_view unit(rest, static_cast<std::size_t>(end - rest));
  for (const auto& [name, shift] : kUnits) {
    if (unit != name) continue;
    if (shift > 0 && number > (UINT64_MAX >> shift)) return std::nullopt;
    return number << shift;
  }
  return std::nullopt;
}

std::string FormatByteSize(std::uint64_t bytes) {
  constexpr std::array<std::string_view, 4> kUnits{"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return fmt::format("{} byte{}", bytes, bytes == 1 ? "" : "s");
  double value = static_cast<double>(bytes) / 1024;
  std::size_t unit = 0;
  // 1023.95 and up would print as "1024.0": that is the next unit's "1.0".
  while (value >= 1023.95 && unit + 1 < kUnits.size()) {
    value /= 1024;
    ++unit;
  }
  // Whole numbers without a fraction; otherwise one decimal, as people read sizes.
  if (value == static_cast<double>(static_cast<std::uint64_t>(value))) {
    return fmt::format("{} {}", static_cast<std::uint64_t>(value), kUnits[unit]);
  }
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

}  // namespace orchestrator
