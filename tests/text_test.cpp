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

}  // namespace
}  // namespace orchestrator
