#include "orchestrator/text.h"

#include <utf8.h>
#include <algorithm>
#include <cstdint>
#include <iterator>

namespace orchestrator {

bool IsHttpToken(std::string_view text) {
  constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           kSpecials.find(c) != std::string_view::npos;
  });
}

namespace {

bool IsTerminalUnsafe(std::uint32_t code_point) {
  return code_point < 0x20 || (code_point >= 0x7f && code_point <= 0x9f) || code_point == 0x061c ||
         code_point == 0x200e || code_point == 0x200f ||
         (code_point >= 0x202a && code_point <= 0x202e) ||
         (code_point >= 0x2066 && code_point <= 0x2069);
}

void AppendShown(std::string& out, std::string_view unsafe, UnsafeShownAs shown_as) {
  switch (shown_as) {
    case UnsafeShownAs::kQuestionMark:
      out += '?';
      return;
    case UnsafeShownAs::kSpace:
      out += ' ';
      return;
    case UnsafeShownAs::kReplacementCharacter:
      out += "\xEF\xBF\xBD";
      return;
    case UnsafeShownAs::kHexEscapes:
      for (const char c : unsafe) {
        constexpr std::string_view kHex = "0123456789abcdef";
        const auto byte = static_cast<unsigned char>(c);
        out += "\\x";
        out += kHex[byte >> 4];
        out += kHex[byte & 0xf];
      }
      return;
  }
}

}  // namespace

void AppendTerminalSafe(std::string& out, std::string_view text, UnsafeShownAs shown_as) {
  const char* kept = text.data();  // start of the run not yet appended
  const char* p = text.data();
  const char* const end = text.data() + text.size();
  while (p < end) {
    const char* const invalid = utf8::find_invalid(p, end);
    // [p, invalid) is valid UTF-8.
    while (p < invalid) {
      const char* const start = p;
      if (!IsTerminalUnsafe(utf8::unchecked::next(p))) continue;
      out.append(kept, start);
      AppendShown(out, std::string_view(start, static_cast<std::size_t>(p - start)), shown_as);
      kept = p;
    }
    if (invalid == end) break;
    out.append(kept, invalid);
    AppendShown(out, std::string_view(invalid, 1), shown_as);
    p = kept = invalid + 1;
  }
  out.append(kept, end);
}

std::string TerminalSafe(std::string_view text, UnsafeShownAs shown_as) {
  std::string safe;
  AppendTerminalSafe(safe, text, shown_as);
  return safe;
}

std::string ValidUtf8(std::string_view text) {
  if (utf8::is_valid(text.begin(), text.end())) return std::string(text);
  std::string valid;
  utf8::replace_invalid(text.begin(), text.end(), std::back_inserter(valid));
  return valid;
}

}  // namespace orchestrator
