#include "orchestrator/duration.h"

#include <gtest/gtest.h>

namespace orchestrator {
namespace {

TEST(ParseDurationTest, AcceptsUnitsAndPlainSeconds) {
  EXPECT_EQ(ParseDuration("250ms"), Duration(250));
  EXPECT_EQ(ParseDuration("1.5s"), Duration(1500));
  EXPECT_EQ(ParseDuration("5s"), Duration(5000));
  EXPECT_EQ(ParseDuration("1m"), Duration(60'000));
  EXPECT_EQ(ParseDuration("2h"), Duration(7'200'000));
  EXPECT_EQ(ParseDuration("10"), Duration(10'000));
  EXPECT_EQ(ParseDuration("0.25"), Duration(250));
  EXPECT_EQ(ParseDuration("0"), Duration(0));
  EXPECT_EQ(ParseDuration("0.001s"), Duration(1));
  EXPECT_EQ(ParseDuration("1.5m"), Duration(90'000));
}

TEST(ParseDurationTest, RefusesMalformedNegativeAndTooPreciseValues) {
  for (const char* bad :
       {"", "s", "-1s", "+1s", " 5s", "5s ", "5 s", "5x", "5sec", "1.", ".5", "1..5s", "0.5ms",
        "1.0001s", "1e3", "5S", "ms5", "99999999999999999999"}) {
    EXPECT_FALSE(ParseDuration(bad).has_value()) << bad;
  }
}

TEST(FormatDurationTest, PrintsShortReadableValues) {
  EXPECT_EQ(FormatDuration(Duration(250)), "250ms");
  EXPECT_EQ(FormatDuration(Duration(0)), "0ms");
  EXPECT_EQ(FormatDuration(Duration(10'000)), "10s");
  EXPECT_EQ(FormatDuration(Duration(1'500)), "1.5s");
  EXPECT_EQ(FormatDuration(Duration(1'050)), "1.05s");
  EXPECT_EQ(FormatDuration(Duration(90'000)), "90s");
}

TEST(FormatDurationTest, RoundTripsThroughParse) {
  for (long ms : {1L, 999L, 1000L, 1001L, 61'500L, 3'600'000L}) {
    EXPECT_EQ(ParseDuration(FormatDuration(Duration(ms))), Duration(ms)) << ms;
  }
}

}  // namespace
}  // namespace orchestrator
