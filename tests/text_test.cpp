#include "orchestrator/text.h"

#include <gtest/gtest.h>

namespace orchestrator {
namespace {

TEST(TextTest, TrimTakesBlanksOffBothEndsOnly) {
  EXPECT_EQ(Trim(""), "");
  EXPECT_EQ(Trim(" \t "), "");
  EXPECT_EQ(Trim("abc"), "abc");
  EXPECT_EQ(Trim(" \tabc\t "), "abc");
  EXPECT_EQ(Trim("  a b\tc  "), "a b\tc");
  // Only spaces and tabs by default: line breaks and other space stay.
  EXPECT_EQ(Trim("\r\nabc\r\n"), "\r\nabc\r\n");
  EXPECT_EQ(Trim(" \vabc\f "), "\vabc\f");
}

TEST(TextTest, TrimTakesTheCharactersItIsGiven) {
  EXPECT_EQ(Trim(" 120\r\n", kBlanksAndLineBreaks), "120");
  EXPECT_EQ(Trim("\r\n \t\r\n", kBlanksAndLineBreaks), "");
  EXPECT_EQ(Trim("\na\r\nb\n", kBlanksAndLineBreaks), "a\r\nb");
  EXPECT_EQ(Trim("xxaxx", "x"), "a");
}

TEST(TextTest, TrimGivesAViewIntoItsArgument) {
  const std::string_view text = "  abc  ";
  EXPECT_EQ(Trim(text).data(), text.data() + 2);
}

TEST(TextTest, IsHttpTokenTakesRfc9110TokenCharactersOnly) {
  for (const char* token :
       {"a", "X-Request-Id", "Content-Type", "x_y.z", "0", "!#$%&'*+-.^_`|~", "ABCxyz0129"}) {
    EXPECT_TRUE(IsHttpToken(token)) << token;
  }
  for (std::string_view text :
       {"",      " ",   "Bad Name", "Name:", ":",           "a\tb", "a\r\nb",
        "\"q\"", "(c)", "a,b",      "a;b",   "a/b",         "a=b",  "[x]",
        "{x}",   "a@b", "a?b",      "a\\b",  "caf\xc3\xa9", "\x7f", "\x01"}) {
    EXPECT_FALSE(IsHttpToken(text)) << text;
  }
  EXPECT_FALSE(IsHttpToken(std::string_view("a\0b", 3)));
}

// Issue 24: only C0 and DEL were taken out; U+009B (8-bit CSI) reached error_info and stderr.
TEST(TextTest, TerminalSafeTakesOutControlsBidiControlsAndBytesThatAreNotUtf8) {
  using As = UnsafeShownAs;
  struct Case {
    std::string_view text;
    std::string_view question_marks;
    std::string_view spaces;
    std::string_view escaped;
  };
  const Case cases[] = {
      {"plain text", "plain text", "plain text", "plain text"},
      {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
       "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
      // C0, DEL.
      {"a\x1b[31mb\r\n\t\x7f", "a?[31mb????", "a [31mb    ", "a\\x1b[31mb\\x0d\\x0a\\x09\\x7f"},
      {std::string_view("\0x", 2), "?x", " x", "\\x00x"},
      // C1 as UTF-8: U+0080, U+009B (CSI), U+009F; U+00A0 is not one.
      {"\xc2\x80|\xc2\x9b"
       "31m|\xc2\x9f|\xc2\xa0",
       "?|?31m|?|\xc2\xa0", " | 31m| |\xc2\xa0", "\\xc2\\x80|\\xc2\\x9b31m|\\xc2\\x9f|\xc2\xa0"},
      // C1 as raw bytes, and other bytes that are not UTF-8.
      {"\x9b"
       "31m\x80\xff\xfe",
       "?31m???", " 31m   ", "\\x9b31m\\x80\\xff\\xfe"},
      // Bidi controls: U+202A..U+202E, U+2066..U+2069, U+200E, U+200F, U+061C.
      {"a\xe2\x80\xaa\xe2\x80\xae"
       "b",
       "a??b", "a  b", "a\\xe2\\x80\\xaa\\xe2\\x80\\xaeb"},
      {"\xe2\x81\xa6\xe2\x81\xa9\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", "?????", "     ",
       "\\xe2\\x81\\xa6\\xe2\\x81\\xa9\\xe2\\x80\\x8e\\xe2\\x80\\x8f\\xd8\\x9c"},
      // Their neighbours stay: U+2029, U+202F, U+2065, U+206A, U+200D, U+061B.
      {"\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa\xe2\x80\x8d\xd8\x9b",
       "\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa\xe2\x80\x8d\xd8\x9b",
       "\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa\xe2\x80\x8d\xd8\x9b",
       "\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa\xe2\x80\x8d\xd8\x9b"},
      // Overlong forms, surrogates, a sequence cut short: not UTF-8.
      {"\xc0\xaf|\xed\xa0\x80|\xe2\x80", "??|???|??", "  |   |  ",
       "\\xc0\\xaf|\\xed\\xa0\\x80|\\xe2\\x80"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(TerminalSafe(c.text, As::kQuestionMark), c.question_marks);
    EXPECT_EQ(TerminalSafe(c.text, As::kSpace), c.spaces);
    EXPECT_EQ(TerminalSafe(c.text, As::kHexEscapes), c.escaped);
  }
  std::string out = "kept ";
  AppendTerminalSafe(out, "\xc2\x9b", As::kQuestionMark);
  EXPECT_EQ(out, "kept ?");
}

TEST(TextTest, ValidUtf8ReplacesWhatIsNotUtf8WithTheReplacementCharacter) {
  EXPECT_EQ(ValidUtf8(""), "");
  EXPECT_EQ(ValidUtf8("caf\xc3\xa9 \xc2\x9b"), "caf\xc3\xa9 \xc2\x9b");
  EXPECT_EQ(ValidUtf8("\xff\xfe"), "\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(ValidUtf8("a\x9b"
                      "b"),
            "a\xef\xbf\xbd"
            "b");
  EXPECT_EQ(ValidUtf8("\xed\xa0\x80"), "\xef\xbf\xbd");
}

}  // namespace
}  // namespace orchestrator
