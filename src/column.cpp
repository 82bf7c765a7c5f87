#include "orchestrator/column.h"

#include <fmt/format.h>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <limits>

// OpenSSL (linked for TLS already) decodes a bytes column's base64; Boost.JSON (linked:
// Boost::json, see src/template.cpp) reads a json column's values.
#include <openssl/evp.h>
#include <boost/json/stream_parser.hpp>

#include "orchestrator/duration.h"
#include "orchestrator/input_error.h"

namespace orchestrator {
namespace {

struct Named {
  std::string_view name;
  ColumnType type;
};

constexpr Named kTypes[] = {
    {"string", ColumnType::kString},     {"u32", ColumnType::kU32},
    {"u64", ColumnType::kU64},           {"i32", ColumnType::kI32},
    {"i64", ColumnType::kI64},           {"f32", ColumnType::kF32},
    {"f64", ColumnType::kF64},           {"bool", ColumnType::kBool},
    {"duration", ColumnType::kDuration}, {"bytes", ColumnType::kBytes},
    {"json", ColumnType::kJson},
};
constexpr std::string_view kTypeNames =
    "string, u32, u64, i32, i64, f32, f64, bool, duration, bytes, json";

bool AllDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "a u32", "an i64": the message names the type as people read it.
std::string NotA(ColumnType type, std::string_view text, std::string_view why = {}) {
  const std::string_view name = NameOf(type);
  const bool vowel_sound = type == ColumnType::kI32 || type == ColumnType::kI64 ||
                           type == ColumnType::kF32 || type == ColumnType::kF64;
  // "bytes" and "json" are no countable things: "is not bytes", "is not json".
  const bool article = type != ColumnType::kBytes && type != ColumnType::kJson;
  return fmt::format("{} is not {}{}{}{}", QuoteForMessage(text),
                     !article      ? ""
                     : vowel_sound ? "an "
                                   : "a ",
                     name, why.empty() ? "" : " ", why);
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

// An i64 or i32: `bits` is 64 or 32.
bool ReadSigned(ColumnType type, int bits, std::string_view text, std::string& value,
                std::string& error) {
  const bool negative = !text.empty() && text.front() == '-';
  const std::string_view digits = negative ? text.substr(1) : text;
  // The magnitude of the most negative value is one more than the largest positive one.
  const std::uint64_t largest = (std::uint64_t{1} << (bits - 1)) - 1;
  const std::uint64_t max = negative ? largest + 1 : largest;
  std::uint64_t magnitude = 0;
  switch (ReadDigits(digits, max, magnitude)) {
    case Digits::kOk:
      value = fmt::format("{}{}", negative && magnitude != 0 ? "-" : "", magnitude);
      return true;
    case Digits::kNotANumber:
      error = NotA(type, text);
      return false;
    case Digits::kTooLarge:
      error = NotA(type, text,
                   negative ? fmt::format("(smaller than -{})", largest + 1)
                            : fmt::format("(larger than {})", largest));
      return false;
  }
  return false;
}

// An f64 (Number double) or f32 (float).
template <typename Number>
bool ReadFloat(ColumnType type, std::string_view text, std::string& value, std::string& error) {
  Number number = 0;
  const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (status == std::errc::result_out_of_range) {
    error = NotA(type, text, "(out of range)");
    return false;
  }
  if (status != std::errc() || end != text.data() + text.size()) {
    error = NotA(type, text);
    return false;
  }
  if (!std::isfinite(number)) {
    error = NotA(type, text, "(finite values only)");
    return false;
  }
  char buffer[32];  // the shortest round trip of a double takes at most 24 characters
  const auto written = std::to_chars(buffer, buffer + sizeof buffer, number);
  value.assign(buffer, written.ptr);
  return true;
}

constexpr char kBase64Digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The value of a base64 character of RFC 4648's standard alphabet, or -1.
int Base64Digit(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Base64 (RFC 4648 section 4, padded) to the bytes it stands for. The text is checked here, so
// that the message can say what is wrong and where; OpenSSL's EVP_DecodeBlock then decodes it
// (it would skip blanks around the text and says nothing of where it fails).
bool ReadBytes(std::string_view text, std::string& value, std::string& error) {
  const auto fail = [&](std::string why) {
    error = NotA(ColumnType::kBytes, text, "(base64: " + why + ")");
    return false;
  };
  const auto at = [&](std::size_t i) {
    return fmt::format("{} at byte {}", QuoteForMessage(text.substr(i, 1)), i + 1);
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (Base64Digit(text[i]) >= 0 || text[i] == '=') continue;
    if (text[i] == '-' || text[i] == '_') {
      return fail(at(i) + "; the URL-safe alphabet is not read, write + and / for - and _");
    }
    return fail(at(i));
  }
  std::size_t padding = 0;
  while (padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  const std::size_t digits = text.size() - padding;
  const std::size_t inner = text.substr(0, digits).find('=');
  if (inner != std::string_view::npos) return fail(at(inner) + "; \"=\" pads the end only");
  if (text.size() % 4 != 0) {
    return fail(
        fmt::format("{} characters, not a multiple of 4; write the \"=\" padding", text.size()));
  }
  if (padding > 2) {
    return fail(fmt::format("\"=\" at byte {}; the end has 2 at most", digits + 1));
  }
  // The last digit before "=" carries 2 or 4 bits that belong to no byte; RFC 4648 3.5 lets a
  // decoder refuse them unless 0, and so a value has one spelling, which {X:json} gives back.
  if (padding > 0) {
    const int unused = padding == 1 ? 0x3 : 0xf;
    const int last = Base64Digit(text[digits - 1]);
    if ((last & unused) != 0) {
      const char canonical = kBase64Digits[last & ~unused];
      return fail(at(digits - 1) + fmt::format(" has bits that belong to no byte; write {}",
                                               QuoteForMessage(std::string_view(&canonical, 1))));
    }
  }
  // Groups of 4 characters are 3 bytes each: decoded in pieces that fit EVP_DecodeBlock's int.
  constexpr std::size_t kPiece = std::size_t{1} << 28;  // characters, a multiple of 4
  value.resize(text.size() / 4 * 3);
  std::size_t written = 0;
  for (std::size_t from = 0; from < text.size(); from += kPiece) {
    const std::size_t size = std::min(kPiece, text.size() - from);
    const int decoded = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(value.data() + written),
                                        reinterpret_cast<const unsigned char*>(text.data() + from),
                                        static_cast<int>(size));
    if (decoded < 0) return fail("OpenSSL cannot decode it");  // not after the checks above
    written += static_cast<std::size_t>(decoded);
  }
  // EVP_DecodeBlock writes a zero byte for each "=".
  value.resize(written - padding);
  return true;
}

// Any JSON value, read by Boost.JSON; kept as written.
bool ReadJson(std::string_view text, std::string& value, std::string& error) {
  boost::json::stream_parser parser;
  boost::json::error_code failure;
  const std::size_t read = parser.write(text.data(), text.size(), failure);
  if (!failure) parser.finish(failure);
  if (failure) {
    // The parser stops at the byte it cannot take; "incomplete JSON" has no such byte.
    const std::string where = read < text.size() ? fmt::format(" at byte {}", read + 1) : "";
    error = NotA(ColumnType::kJson, text, fmt::format("({}{})", failure.message(), where));
    return false;
  }
  value = text;
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

std::string_view ColumnTypeNames() { return kTypeNames; }

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
    case ColumnType::kI32:
      return ReadSigned(type, 32, text, value, error);
    case ColumnType::kI64:
      return ReadSigned(type, 64, text, value, error);
    case ColumnType::kF32:
      return ReadFloat<float>(type, text, value, error);
    case ColumnType::kF64:
      return ReadFloat<double>(type, text, value, error);
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
    case ColumnType::kBytes:
      return ReadBytes(text, value, error);
    case ColumnType::kJson:
      return ReadJson(text, value, error);
  }
  error = "unknown column type";
  return false;
}

}  // namespace orchestrator
