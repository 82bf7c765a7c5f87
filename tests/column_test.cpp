#include "orchestrator/column.h"

#include <gtest/gtest.h>

#include <string>

namespace orchestrator {
namespace {

// The canonical value `text` reads as, or "error: " and the message.
std::string Read(ColumnType type, std::string_view text) {
  std::string value = "untouched";
  std::string error;
  if (ReadColumnValue(type, text, value, error)) {
    EXPECT_TRUE(error.empty());
    return value;
  }
  return "error: " + error;
}

TEST(ColumnTypeTest, NamesRoundTrip) {
  for (const char* name :
       {"string", "u32", "u64", "i32", "i64", "f32", "f64", "bool", "duration", "bytes", "json"}) {
    const std::optional<ColumnType> type = ColumnTypeNamed(name);
    ASSERT_TRUE(type.has_value()) << name;
    EXPECT_EQ(NameOf(*type), name);
  }
  for (const char* bad : {"", "String", "int", "u16", "float", "bool ", "str", "i16", "f16", "byte",
                          "base64", "JSON"}) {
    EXPECT_FALSE(ColumnTypeNamed(bad).has_value()) << bad;
  }
  EXPECT_EQ(ColumnTypeNames(), "string, u32, u64, i32, i64, f32, f64, bool, duration, bytes, json");
}

TEST(ColumnValueTest, StringsAreKeptAsGiven) {
  EXPECT_EQ(Read(ColumnType::kString, ""), "");
  EXPECT_EQ(Read(ColumnType::kString, " a,\"b\" "), " a,\"b\" ");
  EXPECT_EQ(Read(ColumnType::kString, "\xE2\x82\xAC"), "\xE2\x82\xAC");
}

TEST(ColumnValueTest, U32AcceptsDecimalUpToItsMaximum) {
  EXPECT_EQ(Read(ColumnType::kU32, "0"), "0");
  EXPECT_EQ(Read(ColumnType::kU32, "12"), "12");
  EXPECT_EQ(Read(ColumnType::kU32, "00012"), "12");
  EXPECT_EQ(Read(ColumnType::kU32, "0000"), "0");
  EXPECT_EQ(Read(ColumnType::kU32, "4294967295"), "4294967295");
  EXPECT_EQ(Read(ColumnType::kU32, "4294967296"),
            "error: \"4294967296\" is not a u32 (larger than 4294967295)");
  EXPECT_EQ(Read(ColumnType::kU32, "99999999999999999999999"),
            "error: \"99999999999999999999999\" is not a u32 (larger than 4294967295)");
  EXPECT_EQ(Read(ColumnType::kU32, "12x"), "error: \"12x\" is not a u32");
  EXPECT_EQ(Read(ColumnType::kU32, "99999999999999999999x"),
            "error: \"99999999999999999999x\" is not a u32");
  for (const char* bad : {"", "-1", "-0", "+1", " 1", "1 ", "1.0", "1e3", "0x10", "1_000", "١"}) {
    EXPECT_EQ(Read(ColumnType::kU32, bad), std::string("error: \"") + bad + "\" is not a u32")
        << bad;
  }
}

TEST(ColumnValueTest, U64AcceptsDecimalUpToItsMaximum) {
  EXPECT_EQ(Read(ColumnType::kU64, "4294967296"), "4294967296");
  EXPECT_EQ(Read(ColumnType::kU64, "018446744073709551615"), "18446744073709551615");
  EXPECT_EQ(Read(ColumnType::kU64, "18446744073709551616"),
            "error: \"18446744073709551616\" is not a u64 (larger than 18446744073709551615)");
  EXPECT_EQ(Read(ColumnType::kU64, "-5"), "error: \"-5\" is not a u64");
  EXPECT_EQ(Read(ColumnType::kU64, ""), "error: \"\" is not a u64");
}

TEST(ColumnValueTest, I64TakesAMinusSignAndBothEnds) {
  EXPECT_EQ(Read(ColumnType::kI64, "0"), "0");
  EXPECT_EQ(Read(ColumnType::kI64, "-0"), "0");
  EXPECT_EQ(Read(ColumnType::kI64, "-007"), "-7");
  EXPECT_EQ(Read(ColumnType::kI64, "9223372036854775807"), "9223372036854775807");
  EXPECT_EQ(Read(ColumnType::kI64, "-9223372036854775808"), "-9223372036854775808");
  EXPECT_EQ(Read(ColumnType::kI64, "9223372036854775808"),
            "error: \"9223372036854775808\" is not an i64 (larger than 9223372036854775807)");
  EXPECT_EQ(Read(ColumnType::kI64, "-9223372036854775809"),
            "error: \"-9223372036854775809\" is not an i64 (smaller than "
            "-9223372036854775808)");
  for (const char* bad : {"", "-", "+1", "--1", "- 1", "1-", "1.5", "1e2"}) {
    EXPECT_EQ(Read(ColumnType::kI64, bad), std::string("error: \"") + bad + "\" is not an i64")
        << bad;
  }
}

TEST(ColumnValueTest, F64IsFiniteAndCanonicalIsTheShortestRoundTrip) {
  EXPECT_EQ(Read(ColumnType::kF64, "0"), "0");
  EXPECT_EQ(Read(ColumnType::kF64, "1.50"), "1.5");
  EXPECT_EQ(Read(ColumnType::kF64, "0.1"), "0.1");
  EXPECT_EQ(Read(ColumnType::kF64, "-2.5e3"), "-2500");
  EXPECT_EQ(Read(ColumnType::kF64, "1E21"), "1e+21");
  EXPECT_EQ(Read(ColumnType::kF64, "0.30000000000000004"), "0.30000000000000004");
  EXPECT_EQ(Read(ColumnType::kF64, "1.7976931348623157e308"), "1.7976931348623157e+308");
  EXPECT_EQ(Read(ColumnType::kF64, "5e-324"), "5e-324");
  EXPECT_EQ(Read(ColumnType::kF64, "007.25"), "7.25");
  EXPECT_EQ(Read(ColumnType::kF64, "1e999"), "error: \"1e999\" is not an f64 (out of range)");
  for (const char* infinite : {"inf", "-inf", "infinity", "nan", "NaN", "-nan"}) {
    EXPECT_EQ(Read(ColumnType::kF64, infinite),
              std::string("error: \"") + infinite + "\" is not an f64 (finite values only)")
        << infinite;
  }
  for (const char* bad : {"", "+1", " 1", "1 ", "1,5", "0x1p3", "1e", "e5", "1.2.3", "-"}) {
    EXPECT_EQ(Read(ColumnType::kF64, bad), std::string("error: \"") + bad + "\" is not an f64")
        << bad;
  }
}

TEST(ColumnValueTest, I32IsASignedDecimalThatFits) {
  EXPECT_EQ(Read(ColumnType::kI32, "0"), "0");
  EXPECT_EQ(Read(ColumnType::kI32, "-0"), "0");
  EXPECT_EQ(Read(ColumnType::kI32, "-007"), "-7");
  EXPECT_EQ(Read(ColumnType::kI32, "2147483647"), "2147483647");
  EXPECT_EQ(Read(ColumnType::kI32, "-2147483648"), "-2147483648");
  EXPECT_EQ(Read(ColumnType::kI32, "2147483648"),
            "error: \"2147483648\" is not an i32 (larger than 2147483647)");
  EXPECT_EQ(Read(ColumnType::kI32, "-2147483649"),
            "error: \"-2147483649\" is not an i32 (smaller than -2147483648)");
  EXPECT_EQ(Read(ColumnType::kI32, "-9223372036854775808"),
            "error: \"-9223372036854775808\" is not an i32 (smaller than -2147483648)");
  for (const char* bad : {"", "-", "+1", "1.0", "1e3", " 1", "--1", "0x10"}) {
    EXPECT_EQ(Read(ColumnType::kI32, bad), std::string("error: \"") + bad + "\" is not an i32")
        << bad;
  }
}

TEST(ColumnValueTest, F32IsTheShortestDecimalOfTheFloat) {
  EXPECT_EQ(Read(ColumnType::kF32, "0"), "0");
  EXPECT_EQ(Read(ColumnType::kF32, "1.50"), "1.5");
  // 0.1 as a float is 0.100000001490116...: "0.1" reads back as that same float.
  EXPECT_EQ(Read(ColumnType::kF32, "0.1"), "0.1");
  EXPECT_EQ(Read(ColumnType::kF32, "0.30000000000000004"), "0.3");
  EXPECT_EQ(Read(ColumnType::kF32, "16777217"), "16777216");  // 2^24 + 1 is no float
  EXPECT_EQ(Read(ColumnType::kF32, "3.4028235e38"), "3.4028235e+38");
  EXPECT_EQ(Read(ColumnType::kF32, "-1e-45"), "-1e-45");
  EXPECT_EQ(Read(ColumnType::kF32, "1e39"), "error: \"1e39\" is not an f32 (out of range)");
  EXPECT_EQ(Read(ColumnType::kF32, "1.7976931348623157e308"),
            "error: \"1.7976931348623157e308\" is not an f32 (out of range)");
  EXPECT_EQ(Read(ColumnType::kF32, "inf"), "error: \"inf\" is not an f32 (finite values only)");
  for (const char* bad : {"", "+1", "1,5", "1e", "-"}) {
    EXPECT_EQ(Read(ColumnType::kF32, bad), std::string("error: \"") + bad + "\" is not an f32")
        << bad;
  }
}

TEST(ColumnValueTest, BytesAreBase64AndKeptDecoded) {
  EXPECT_EQ(Read(ColumnType::kBytes, ""), "");
  EXPECT_EQ(Read(ColumnType::kBytes, "aGk="), "hi");
  EXPECT_EQ(Read(ColumnType::kBytes, "aGk/"), "hi?");
  EXPECT_EQ(Read(ColumnType::kBytes, "YQ=="), "a");
  EXPECT_EQ(Read(ColumnType::kBytes, "AAEC/w=="), std::string("\0\x01\x02\xff", 4));
  EXPECT_EQ(Read(ColumnType::kBytes, "+/+/"), "\xfb\xff\xbf");
  // "AAAA" is three zero bytes.
  EXPECT_EQ(Read(ColumnType::kBytes, std::string(4000, 'A')), std::string(3000, '\0'));
}

TEST(ColumnValueTest, BytesSayWhyTheTextIsNotBase64) {
  EXPECT_EQ(Read(ColumnType::kBytes, "ab$c"),
            "error: \"ab$c\" is not bytes (base64: \"$\" at byte 3)");
  EXPECT_EQ(Read(ColumnType::kBytes, "ab c"),
            "error: \"ab c\" is not bytes (base64: \" \" at byte 3)");
  EXPECT_EQ(Read(ColumnType::kBytes, "aGk=\n"),
            "error: \"aGk=\\x0a\" is not bytes (base64: \"\\x0a\" at byte 5)");
  EXPECT_EQ(Read(ColumnType::kBytes, "a-_b"),
            "error: \"a-_b\" is not bytes (base64: \"-\" at byte 2; the URL-safe alphabet is not "
            "read, write + and / for - and _)");
  EXPECT_EQ(Read(ColumnType::kBytes, "YWI_"),
            "error: \"YWI_\" is not bytes (base64: \"_\" at byte 4; the URL-safe alphabet is not "
            "read, write + and / for - and _)");
  EXPECT_EQ(Read(ColumnType::kBytes, "YWI-"),
            "error: \"YWI-\" is not bytes (base64: \"-\" at byte 4; the URL-safe alphabet is not "
            "read, write + and / for - and _)");
  EXPECT_EQ(Read(ColumnType::kBytes, "aGk"),
            "error: \"aGk\" is not bytes (base64: 3 characters, not a multiple of 4; write the "
            "\"=\" padding)");
  EXPECT_EQ(Read(ColumnType::kBytes, "a=Gk"),
            "error: \"a=Gk\" is not bytes (base64: \"=\" at byte 2; \"=\" pads the end only)");
  // The bits of the last digit that belong to no byte are 0: one spelling for each value.
  EXPECT_EQ(Read(ColumnType::kBytes, "QR=="),
            "error: \"QR==\" is not bytes (base64: \"R\" at byte 2 has bits that belong to no "
            "byte; write \"Q\")");
  EXPECT_EQ(Read(ColumnType::kBytes, "YWJ="),
            "error: \"YWJ=\" is not bytes (base64: \"J\" at byte 3 has bits that belong to no "
            "byte; write \"I\")");
  EXPECT_EQ(Read(ColumnType::kBytes, "QQ=="), "A");
  EXPECT_EQ(Read(ColumnType::kBytes, "YWI="), "ab");
  EXPECT_EQ(Read(ColumnType::kBytes, "a==="),
            "error: \"a===\" is not bytes (base64: \"=\" at byte 2; the end has 2 at most)");
  EXPECT_EQ(Read(ColumnType::kBytes, "===="),
            "error: \"====\" is not bytes (base64: \"=\" at byte 1; the end has 2 at most)");
}

TEST(ColumnValueTest, JsonIsAnyJsonValueKeptAsWritten) {
  for (const char* good :
       {"1", "-0.5e3", "\"a\"", "null", "true", "[]", "{}", "[1, \"x\", null]",
        "{\"a\" : {\"b\": [1.0, 12345678901234567890123]}}", "\"\xe2\x82\xac\""}) {
    EXPECT_EQ(Read(ColumnType::kJson, good), good);
  }
  EXPECT_EQ(Read(ColumnType::kJson, "{a:1}"),
            "error: \"{a:1}\" is not json (syntax error at byte 2)");
  EXPECT_EQ(Read(ColumnType::kJson, "[1,2"), "error: \"[1,2\" is not json (incomplete JSON)");
  EXPECT_EQ(Read(ColumnType::kJson, ""), "error: \"\" is not json (incomplete JSON)");
  EXPECT_EQ(Read(ColumnType::kJson, "[1] [2]"),
            "error: \"[1] [2]\" is not json (extra data at byte 5)");
  EXPECT_EQ(Read(ColumnType::kJson, "[1,]"),
            "error: \"[1,]\" is not json (syntax error at byte 4)");
  EXPECT_EQ(Read(ColumnType::kJson, "01"), "error: \"01\" is not json (extra data at byte 2)");
  // JSON text is UTF-8, and a string holds no control character.
  EXPECT_EQ(Read(ColumnType::kJson, "\"\xff\""),
            "error: \"\\\"\\xff\\\"\" is not json (syntax error at byte 2)");
  EXPECT_EQ(Read(ColumnType::kJson, "\"a\tb\""),
            "error: \"\\\"a\\x09b\\\"\" is not json (syntax error at byte 3)");
}

TEST(ColumnValueTest, BoolIsExactlyTrueOrFalse) {
  EXPECT_EQ(Read(ColumnType::kBool, "true"), "true");
  EXPECT_EQ(Read(ColumnType::kBool, "false"), "false");
  for (const char* bad : {"", "True", "FALSE", "1", "0", "yes", "t", "true "}) {
    EXPECT_EQ(Read(ColumnType::kBool, bad),
              std::string("error: \"") + bad + "\" is not a bool (true or false)")
        << bad;
  }
}

TEST(ColumnValueTest, DurationsUseTheToolsSyntaxAndAreKeptAsGiven) {
  for (const char* good : {"250ms", "1.5s", "10", "0.5", "2m", "1h", "0"}) {
    EXPECT_EQ(Read(ColumnType::kDuration, good), good);
  }
  for (const char* bad : {"", "5 s", "-1s", "1d", "0.5ms", "1.", "s"}) {
    EXPECT_EQ(
        Read(ColumnType::kDuration, bad),
        std::string("error: \"") + bad + "\" is not a duration (like 250ms, 1.5s, 10, 2m or 1h)")
        << bad;
  }
}

TEST(ColumnValueTest, MessagesQuoteHostileValuesBriefly) {
  EXPECT_EQ(Read(ColumnType::kU32, "\x1b[31m" + std::string(50, '9')),
            "error: \"\\x1b[31m" + std::string(35, '9') + "...\" is not a u32");
}

}  // namespace
}  // namespace orchestrator
