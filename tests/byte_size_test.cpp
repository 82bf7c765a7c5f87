#include "orchestrator/byte_size.h"

#include <gtest/gtest.h>

namespace orchestrator {
namespace {

TEST(ByteSizeTest, ParsesBytesAndBinaryUnits) {
  EXPECT_EQ(ParseByteSize("0"), 0u);
  EXPECT_EQ(ParseByteSize("4096"), 4096u);
  EXPECT_EQ(ParseByteSize("100B"), 100u);
  EXPECT_EQ(ParseByteSize("512k"), 512u * 1024);
  EXPECT_EQ(ParseByteSize("512K"), 512u * 1024);
  EXPECT_EQ(ParseByteSize("512KiB"), 512u * 1024);
  EXPECT_EQ(ParseByteSize("10M"), 10u << 20);
  EXPECT_EQ(ParseByteSize("10MiB"), 10u << 20);
  EXPECT_EQ(ParseByteSize("1G"), std::uint64_t{1} << 30);
  EXPECT_EQ(ParseByteSize("2T"), std::uint64_t{2} << 40);
  EXPECT_EQ(ParseByteSize("18446744073709551615"), UINT64_MAX);
}

TEST(ByteSizeTest, RefusesAnythingElse) {
  for (const char* text : {"", "-1", "+1", "1.5M", " 1M", "1M ", "1 M", "1m", "1MB", "M", "0x10",
                           "1e6", "18446744073709551616", "16777216T"}) {
    EXPECT_EQ(ParseByteSize(text), std::nullopt) << text;
  }
}

TEST(ByteSizeTest, FormatsForPeople) {
  EXPECT_EQ(FormatByteSize(1), "1 byte");
  EXPECT_EQ(FormatByteSize(512), "512 bytes");
  EXPECT_EQ(FormatByteSize(1024), "1 KiB");
  EXPECT_EQ(FormatByteSize(10 << 20), "10 MiB");
  EXPECT_EQ(FormatByteSize(std::uint64_t{3} << 29), "1.5 GiB");
  // Just under a unit rounds up into it rather than printing "1024.0 KiB".
  EXPECT_EQ(FormatByteSize((1 << 20) - 1), "1.0 MiB");
  EXPECT_EQ(FormatByteSize(1023 * 1024 + 900), "1023.9 KiB");
}

}  // namespace
}  // namespace orchestrator
