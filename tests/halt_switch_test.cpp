#include "orchestrator/halt_switch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace orchestrator {
namespace {

HaltPolicy Soon(std::uint64_t failures) {
  return {.when = HaltPolicy::When::kSoon, .failures = failures, .percent = {}};
}

TEST(HaltSwitchTest, TripsOnceAtTheMarkCountingOnlyTasksThatRan) {
  HaltSwitch halt(Soon(2));
  EXPECT_FALSE(halt.Count(Outcome::Failed("HTTP 500")));
  EXPECT_FALSE(halt.Count(Outcome::DependencyFailed(1))) << "it never ran";
  EXPECT_FALSE(halt.Count(Outcome::Completed()));
  EXPECT_FALSE(halt.tripped());
  EXPECT_TRUE(halt.Count(Outcome::Failed("HTTP 500")));
  EXPECT_TRUE(halt.tripped());
  EXPECT_EQ(halt.failures(), 2u);
  EXPECT_FALSE(halt.stops_running());
  EXPECT_FALSE(halt.Count(Outcome::Failed("HTTP 500"))) << "it trips once";
  EXPECT_EQ(halt.failures(), 2u) << "the count when it tripped";
}

TEST(HaltSwitchTest, APercentageCountsEveryEndedTask) {
  HaltSwitch halt({.when = HaltPolicy::When::kNow, .failures = 0, .percent = 50.0});
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(halt.Count(Outcome::Completed()));
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(halt.Count(Outcome::Failed("x")));
  EXPECT_TRUE(halt.Count(Outcome::Failed("x"))) << "5 of 10";
  EXPECT_TRUE(halt.stops_running());
}

TEST(HaltSwitchTest, NeverTrips) {
  HaltSwitch halt({});
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(halt.Count(Outcome::Failed("x")));
  EXPECT_FALSE(halt.tripped());
}

// Workers count from their own threads: exactly one row trips it, at exactly the mark.
TEST(HaltSwitchTest, ThreadsCountingTogetherTripItOnceAtTheMark) {
  for (int round = 0; round < 20; ++round) {
    HaltSwitch halt(Soon(1000));
    std::atomic<int> trips{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 500; ++i) trips += halt.Count(Outcome::Failed("x")) ? 1 : 0;
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(trips.load(), 1);
    EXPECT_EQ(halt.failures(), 1000u);
  }
}

}  // namespace
}  // namespace orchestrator
