// libFuzzer target: durations and byte sizes (ParseDuration, FormatDuration, ParseByteSize,
// FormatByteSize).
//
// The bytes are the text. Checked on every input:
//   - ParseDuration agrees exactly with an independent model of "DIGITS[.DIGITS][ms|s|m|h]":
//     a success is the exact value in milliseconds, and every text whose value is a whole
//     number of milliseconds that fits in an int64 is accepted, provided its digits (read
//     as one integer) fit in an int64 too (see the note at ModelDuration).
//   - FormatDuration of an accepted value is non-empty, canonical (ms below 1 s, then
//     seconds with a trimmed fraction), and parses back to the same value; formatting that
//     again gives the same text.
//   - The same for the first 8 bytes taken as a non-negative millisecond count.
//   - ParseByteSize agrees exactly with "DIGITS[B|k|K|KiB|M|MiB|G|GiB|T|TiB]" up to 2^64 - 1;
//     FormatByteSize is "N byte(s)" below 1024 and "X UNIT" otherwise.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "orchestrator/byte_size.h"
#include "orchestrator/duration.h"

namespace {

using orchestrator::Duration;
using i128 = __int128;
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

[[noreturn]] void Fail(const char* what, std::string_view input, const std::string& detail = {}) {
  std::string shown;
  for (const char c : input) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", b);
      shown += hex;
    } else {
      shown += c;
    }
  }
  std::fprintf(stderr, "\nduration_fuzz: %s: \"%s\"%s%s\n", what, shown.c_str(),
               detail.empty() ? "" : ": ", detail.c_str());
  __builtin_trap();
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// What ParseDuration must answer. `certain` is false where the model accepts (an exact,
// representable value) but the implementation may refuse because it computes with the
// written digits: more than 18 fraction digits, or digits that overflow an int64 as one
// integer ("1.0000000000000000000s", "9223372036854775.807s"). Such refusals are allowed;
// a success there must still be exact.
// The value of a run of decimal digits, or nullopt once it passes `cap`.
std::optional<i128> DecimalUpTo(std::string_view digits, i128 cap) {
  i128 value = 0;
  for (const char c : digits) {
    value = value * 10 + (c - '0');
    if (value > cap) return std::nullopt;
  }
  return value;
}

struct DurationModel {
  bool syntax_ok = false;
  bool certain = true;
  std::optional<std::int64_t> value;  // exact milliseconds when valid and representable
};

DurationModel ModelDuration(std::string_view text) {
  DurationModel m;
  std::size_t pos = 0;
  while (pos < text.size() && IsDigit(text[pos])) ++pos;
  const std::string_view whole = text.substr(0, pos);
  std::string_view fraction;
  if (pos < text.size() && text[pos] == '.') {
    const std::size_t start = ++pos;
    while (pos < text.size() && IsDigit(text[pos])) ++pos;
    fraction = text.substr(start, pos - start);
    if (fraction.empty()) return m;
  }
  if (whole.empty()) return m;
  const std::string_view unit = text.substr(pos);
  std::int64_t unit_ms;
  if (unit == "ms") {
    unit_ms = 1;
  } else if (unit == "s" || unit.empty()) {
    unit_ms = 1'000;
  } else if (unit == "m") {
    unit_ms = 60'000;
  } else if (unit == "h") {
    unit_ms = 3'600'000;
  } else {
    return m;
  }
  m.syntax_ok = true;

  // Exact rational value: digits / 10^k * unit. A numerator past 2^100 is not computed
  // (`huge`): such a value is too large to accept anyway.
  std::string digits = std::string(whole) + std::string(fraction);
  std::size_t k = fraction.size();
  // Trailing zeros of the fraction do not change the value.
  std::size_t trailing = 0;
  while (trailing < k && fraction[k - 1 - trailing] == '0') ++trailing;
  const std::string significant = digits.substr(0, digits.size() - trailing);
  const std::size_t scale = k - trailing;  // value = significant / 10^scale * unit
  const i128 kCap = static_cast<i128>(1) << 100;
  const std::optional<i128> significant_value = DecimalUpTo(significant, kCap);
  const bool huge = !significant_value;
  const i128 numerator = significant_value.value_or(0);
  // The implementation refuses when the written digits overflow an int64 or there are
  // more than 18 fraction digits, even if the value is fine.
  const std::optional<i128> written_value = DecimalUpTo(digits, kMax);
  const bool written_overflows = !written_value;
  const i128 written = written_value.value_or(0);
  const bool implementation_limit =
      written_overflows || k > 18 || (!written_overflows && written * unit_ms > kMax);
  if (huge || scale > 30) {
    // Too large, or too precise to be whole milliseconds unless the numerator is zero:
    // either way only refusal can be certain when the numerator is non-zero.
    if (numerator == 0 && !huge) {
      m.value = 0;
      m.certain = !implementation_limit;
    }
    return m;
  }
  i128 denominator = 1;
  for (std::size_t i = 0; i < scale; ++i) denominator *= 10;
  const i128 scaled = numerator * unit_ms;  // < 2^100 * 2^22: fits
  if (scaled % denominator != 0) return m;  // finer than a millisecond: refused
  const i128 value = scaled / denominator;
  if (value > kMax) return m;
  m.value = static_cast<std::int64_t>(value);
  m.certain = !implementation_limit;
  return m;
}

std::string FormatExpected(std::int64_t ms) {
  if (ms < 1'000) return std::to_string(ms) + "ms";
  std::string text = std::to_string(ms / 1'000);
  if (ms % 1'000 != 0) {
    char fraction[8];
    std::snprintf(fraction, sizeof fraction, "%03d", static_cast<int>(ms % 1'000));
    std::string f = fraction;
    while (f.back() == '0') f.pop_back();
    text += "." + f;
  }
  return text + "s";
}

void CheckFormat(std::int64_t ms, std::string_view input) {
  const std::string text = orchestrator::FormatDuration(Duration(ms));
  if (text.empty()) Fail("FormatDuration gave nothing", input);
  if (text != FormatExpected(ms)) Fail("FormatDuration is not canonical", input, text);
  const std::optional<Duration> back = orchestrator::ParseDuration(text);
  // "X.YYYs" is read back through X.YYY * 1000, which fits an int64 only while
  // X.YYY <= 9223372036854775.807 as digits, i.e. ms * 1 with the fraction's digits:
  // whole seconds and sub-second values always round-trip; others up to kMax / 1000.
  const bool must = ms < 1'000 || ms % 1'000 == 0 || ms <= kMax / 1'000;
  if (!back) {
    if (must) Fail("FormatDuration's text does not parse back", input, text);
    return;
  }
  if (back->count() != ms) {
    Fail("FormatDuration's text parses to another value", input,
         text + " -> " + std::to_string(back->count()) + " ms");
  }
  if (orchestrator::FormatDuration(*back) != text) Fail("format is not stable", input, text);
}

void CheckDuration(std::string_view input) {
  const std::optional<Duration> parsed = orchestrator::ParseDuration(input);
  const DurationModel model = ModelDuration(input);
  if (parsed) {
    if (!model.syntax_ok) Fail("ParseDuration accepted bad syntax", input);
    if (!model.value) {
      Fail("ParseDuration accepted a value that is not whole milliseconds or too large", input,
           std::to_string(parsed->count()) + " ms");
    }
    if (parsed->count() != *model.value) {
      Fail("ParseDuration gave a wrong value", input,
           std::to_string(parsed->count()) + " ms, expected " + std::to_string(*model.value));
    }
    CheckFormat(parsed->count(), input);
  } else if (model.value && model.certain) {
    Fail("ParseDuration refused a valid duration", input,
         "expected " + std::to_string(*model.value) + " ms");
  }
}

void CheckByteSize(std::string_view input) {
  const std::optional<std::uint64_t> parsed = orchestrator::ParseByteSize(input);
  // Model: DIGITS then a unit, value <= 2^64 - 1.
  std::optional<std::uint64_t> expected;
  std::size_t pos = 0;
  while (pos < input.size() && IsDigit(input[pos])) ++pos;
  if (pos > 0) {
    const std::string_view unit = input.substr(pos);
    int shift = -1;
    if (unit.empty() || unit == "B") shift = 0;
    if (unit == "k" || unit == "K" || unit == "KiB") shift = 10;
    if (unit == "M" || unit == "MiB") shift = 20;
    if (unit == "G" || unit == "GiB") shift = 30;
    if (unit == "T" || unit == "TiB") shift = 40;
    if (shift >= 0) {
      unsigned __int128 value = 0;
      bool fits = true;
      for (std::size_t i = 0; i < pos && fits; ++i) {
        value = value * 10 + static_cast<unsigned>(input[i] - '0');
        if (value > UINT64_MAX) fits = false;
      }
      if (fits) value <<= shift;
      if (fits && value <= UINT64_MAX) expected = static_cast<std::uint64_t>(value);
    }
  }
  if (parsed != expected) {
    Fail("ParseByteSize disagrees with the model", input,
         (parsed ? std::to_string(*parsed) : std::string("nullopt")) + " vs " +
             (expected ? std::to_string(*expected) : std::string("nullopt")));
  }
  if (parsed) {
    const std::string text = orchestrator::FormatByteSize(*parsed);
    if (*parsed < 1024) {
      const std::string want = std::to_string(*parsed) + (*parsed == 1 ? " byte" : " bytes");
      if (text != want) Fail("FormatByteSize below 1 KiB", input, text);
    } else {
      const auto space = text.find(' ');
      const std::string unit = space == std::string::npos ? "" : text.substr(space + 1);
      if (space == 0 || (unit != "KiB" && unit != "MiB" && unit != "GiB" && unit != "TiB")) {
        Fail("FormatByteSize has no unit", input, text);
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckDuration(input);
  CheckByteSize(input);
  if (size >= 8) {
    std::int64_t raw;
    std::memcpy(&raw, data, sizeof raw);
    const std::int64_t ms = raw & kMax;  // non-negative, over the whole range
    CheckFormat(ms, input);
    CheckFormat(ms % 100'000'000, input);  // and often a small one
  }
  return 0;
}
