// Small text helpers that several parts of the tool need alike: one copy of each.
#ifndef ORCHESTRATOR_TEXT_H_
#define ORCHESTRATOR_TEXT_H_

#include <string_view>

namespace orchestrator {

/// Spaces and tabs: what the tasks CSV and a -H value may have around their text.
inline constexpr std::string_view kBlanks = " \t";
/// Blanks, carriage returns and line feeds: what an HTTP header line received has around
/// its value.
inline constexpr std::string_view kBlanksAndLineBreaks = " \t\r\n";

/// `text` without any of the characters of `strip` at its start or its end (the middle is
/// left alone). A view into `text`; empty when `text` has nothing else.
///
/// Inline, and without find_first_not_of: the tasks reader trims every task_id, and with
/// find_first_not_of's calls to memchr it ran 5% more instructions (cachegrind, 1M rows).
inline std::string_view Trim(std::string_view text, std::string_view strip = kBlanks) {
  const auto stripped = [strip](char c) {
    for (const char s : strip) {
      if (c == s) return true;
    }
    return false;
  };
  while (!text.empty() && stripped(text.front())) text.remove_prefix(1);
  while (!text.empty() && stripped(text.back())) text.remove_suffix(1);
  return text;
}

/// Whether `text` is an RFC 9110 token (section 5.6.2), what an HTTP header name is made of:
/// one or more ASCII letters, digits and !#$%&'*+-.^_`|~ (so no space, colon or control
/// character, and nothing beyond ASCII).
bool IsHttpToken(std::string_view text);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_TEXT_H_
