#include "orchestrator/halt_policy.h"

#include <gtest/gtest.h>

namespace orchestrator {
namespace {

HaltPolicy Parsed(std::string_view text) {
  auto parsed = ParseHaltPolicy(text);
  EXPECT_TRUE(std::holds_alternative<HaltPolicy>(parsed)) << text;
  return std::holds_alternative<HaltPolicy>(parsed) ? std::get<HaltPolicy>(parsed) : HaltPolicy{};
}

std::string ErrorOf(std::string_view text) {
  auto parsed = ParseHaltPolicy(text);
  return std::holds_alternative<std::string>(parsed) ? std::get<std::string>(parsed) : "parsed";
}

TEST(HaltPolicyTest, ParsesGnuParallelsWords) {
  EXPECT_EQ(Parsed("never").when, HaltPolicy::When::kNever);
  const HaltPolicy soon = Parsed("soon,fail=3");
  EXPECT_EQ(soon.when, HaltPolicy::When::kSoon);
  EXPECT_EQ(soon.failures, 3u);
  EXPECT_FALSE(soon.percent);
  const HaltPolicy now = Parsed("now,fail=12.5%");
  EXPECT_EQ(now.when, HaltPolicy::When::kNow);
  EXPECT_EQ(now.percent, 12.5);
}

TEST(HaltPolicyTest, RefusesWhatItDoesNotKnow) {
  const std::string expected =
      "expected never, soon,fail=N, soon,fail=P%, now,fail=N or now,fail=P%";
  for (const char* text :
       {"", "soon", "later,fail=1", "soon,success=1", "soon,fail=", "soon,fail=%"}) {
    EXPECT_EQ(ErrorOf(text), "--halt \"" + std::string(text) + "\": " + expected) << text;
  }
  EXPECT_EQ(ErrorOf("soon,fail=0"),
            "--halt \"soon,fail=0\": the number of failures must be a whole number from 1");
  EXPECT_EQ(ErrorOf("now,fail=-1"),
            "--halt \"now,fail=-1\": the number of failures must be a whole number from 1");
  EXPECT_EQ(ErrorOf("soon,fail=1x"),
            "--halt \"soon,fail=1x\": the number of failures must be a whole number from 1");
  EXPECT_EQ(ErrorOf("soon,fail=0%"),
            "--halt \"soon,fail=0%\": the percentage must be above 0 and at most 100");
  EXPECT_EQ(ErrorOf("soon,fail=101%"),
            "--halt \"soon,fail=101%\": the percentage must be above 0 and at most 100");
}

TEST(HaltPolicyTest, ACountHaltsAtItsNumber) {
  const HaltPolicy policy = Parsed("soon,fail=3");
  EXPECT_FALSE(policy.Reached(2, 1000));
  EXPECT_TRUE(policy.Reached(3, 3));
  EXPECT_FALSE(HaltPolicy{}.Reached(1000, 1000)) << "never";
}

TEST(HaltPolicyTest, APercentageWaitsForTenEndedTasks) {
  const HaltPolicy policy = Parsed("soon,fail=50%");
  EXPECT_FALSE(policy.Reached(9, 9)) << "fewer than 10 ended";
  EXPECT_TRUE(policy.Reached(5, 10));
  EXPECT_FALSE(policy.Reached(4, 10));
  EXPECT_FALSE(policy.Reached(0, 100));
}

}  // namespace
}  // namespace orchestrator
