#include "orchestrator/column.h"

#include <fmt/format.h>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "orchestrator/duration.h"
#include "orchestrator/input_error.h"

namespace orchestrator {
namespace {

struct Named {
  std::string_view name;
  ColumnType type;
};

constexpr Named kTypes[] = {
    {"string", ColumnType::kString},     {"u32", ColumnType::kU32}, {"u64", ColumnType::kU64},
    {"i64", ColumnType::kI64},           {"f64", ColumnType::kF64}, {"bool", ColumnType::kBool},
    {"duration", ColumnType::kDuration},
};

bool AllDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "a u32", "an i64": the message names the type as people read it.
std::string NotA(ColumnType type, std::string_view text, std::string_view why = {}) {
  const std::string_view name = NameOf(type);
  const bool vowel_sound = type == ColumnType::kI64 || type == ColumnType::kF64;
  return fmt::format("{} is not {} {}{}{}", QuoteForMessage(text), vowel_sound ? "an" : "a", name,
                     why.empty() ? "" : " ", why);
}

// Reads plain decimal digits (leading zeros allowed) into `magnitude`; false on anything else
// or on a value above `max`.
enum class Digits { kOk, kNotANumber, kTooLarge };
Digits ReadDigits(std::string_view text, std::uint64_t max, std::uint64_t& magnitude) {
  if (!AllDigits(text)) return Digits::kNotANumber;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), magnitude);
  if (error == std::errc::result_out_of_range || (error == std::errc() && magnitude > max)) {
    return Digits::kTooLarge;
  }
  if (error != std::errc() || end != text.data() + text.size()) return Digits::kNotANumber;
  return Digits::kOk;
}

bool ReadUnsigned(ColumnType type, std::uint64_t max, std::string_view text, std::string& value,
                  std::string& error) {
  std::uint64_t magnitude = 0;
  switch (ReadDigits(text, max, magnitude)) {
    case Digits::kOk:
      value = fmt::format("{}", magnitude);
      return true;
    case Digits::kNotANumber:
      error = NotA(type, text);
      return false;
    case Digits::kTooLarge:
      error = NotA(type, text, fmt::format("(larger than {})", max));
      return false;
  }
  return false;
}

bool ReadI64(std::string_view text, std::string& value, std::string& error) {
  const bool negative = !text.empty() && text.front() == '-';
  const std::string_view digits = negative ? text.substr(1) : text;
  // The magnitude of the most negative i64 is one more than the largest positive one.
  const std::uint64_t max = negative ? std::uint64_t{1} << 63 : (std::uint64_t{1} << 63) - 1;
  std::uint64_t magnitude = 0;
  switch (ReadDigits(digits, max, magnitude)) {
    case Digits::kOk:
      value = fmt::format("{}{}", negative && magnitude != 0 ? "-" : "", magnitude);
      return true;
    case Digits::kNotANumber:
      error = NotA(ColumnType::kI64, text);
      return false;
    case Digits::kTooLarge:
      error = NotA(
          ColumnType::kI64, text,
          negative ? "(smaller than -9223372036854775808)" : "(larger than 9223372036854775807)");
      return false;
  }
  return false;
}

bool ReadF64(std::string_view text, std::string& value, std::string& error) {
  double number = 0;
  const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (status == std::errc::result_out_of_range) {
    error = NotA(ColumnType::kF64, text, "(out of range)");
    return false;
  }
  if (status != std::errc() || end != text.data() + text.size()) {
    error = NotA(ColumnType::kF64, text);
    return false;
  }
  if (!std::isfinite(number)) {
    error = NotA(ColumnType::kF64, text, "(finite values only)");
    return false;
  }
  char buffer[32];  // the shortest round trip of a double takes at most 24 characters
  const auto written = std::to_chars(buffer, buffer + sizeof buffer, number);
  value.assign(buffer, written.ptr);
  return true;
}

}  // namespace

std::optional<ColumnType> ColumnTypeNamed(std::string_view name) {
  for (const Named& named : kTypes) {
    if (named.name == name) return named.type;
  }
  return std::nullopt;
}

std::string_view NameOf(ColumnType type) {
  for (const Named& named : kTypes) {
    if (named.type == type) return named.name;
  }
  return "?";
}

bool ReadColumnValue(ColumnType type, std::string_view text, std::string& value,
                     std::string& error) {
  switch (type) {
    case ColumnType::kString:
      value = text;
      return true;
    case ColumnType::kU32:
      return ReadUnsigned(type, std::numeric_limits<std::uint32_t>::max(), text, value, error);
    case ColumnType::kU64:
      return ReadUnsigned(type, std::numeric_limits<std::uint64_t>::max(), text, value, error);
    case ColumnType::kI64:
      return ReadI64(text, value, error);
    case ColumnType::kF64:
      return ReadF64(text, value, error);
    case ColumnType::kBool:
      if (text == "true" || text == "false") {
        value = text;
        return true;
      }
      error = NotA(type, text, "(true or false)");
      return false;
    case ColumnType::kDuration:
      if (ParseDuration(text)) {
        value = text;
        return true;
      }
      error = NotA(type, text, "(like 250ms, 1.5s, 10, 2m or 1h)");
      return false;
  }
  error = "unknown column type";
  return false;
}

}  // namespace orchestrator
