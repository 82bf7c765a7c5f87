#include "orchestrator/rate_limiter.h"
#include "orchestrator/run_rates.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <thread>
#include <vector>

namespace orchestrator {
namespace {

using std::chrono::milliseconds;
using TimePoint = Clock::TimePoint;

double RateOf(std::string_view text) {
  auto parsed = ParseRate(text);
  EXPECT_TRUE(std::holds_alternative<double>(parsed)) << text;
  return std::holds_alternative<double>(parsed) ? std::get<double>(parsed) : 0;
}

TEST(RateLimiterTest, ParsesPerSecondMinuteAndHour) {
  EXPECT_EQ(RateOf("200/s"), 200);
  EXPECT_EQ(RateOf("6000/m"), 100);
  EXPECT_EQ(RateOf("3600/h"), 1);
  EXPECT_EQ(RateOf("50"), 50);
  EXPECT_EQ(RateOf("0.5"), 0.5);
  for (const char* bad : {"", "0", "-1", "x/s", "10/d", "10/", "/s", "1e400", "nan", "10 /s"}) {
    EXPECT_TRUE(std::holds_alternative<std::string>(ParseRate(bad))) << bad;
  }
  EXPECT_EQ(std::get<std::string>(ParseRate("10/d")),
            "--rate \"10/d\": expected starts per second, minute or hour above 0, like 200/s, "
            "6000/m, 3/h or 50");
  EXPECT_EQ(std::get<std::string>(ParseRate("2000001")), "--rate \"2000001\": at most 1000000/s");
}

// Drives a limiter the way the runner does: at each wake-up (on a 10 ms grid, as AsioClock
// wakes) start every due start; then sleep until the next one. Returns the start times.
std::vector<TimePoint> Simulate(double rate, int starts, milliseconds grid = milliseconds(10)) {
  RateLimiter limiter(rate);
  std::vector<TimePoint> times;
  TimePoint now{};
  while (static_cast<int>(times.size()) < starts) {
    while (static_cast<int>(times.size()) < starts && limiter.TryStart(now)) {
      times.push_back(now);
    }
    const TimePoint next = limiter.NextStart(now);
    // The wake-up lands at or after `next`, on the grid.
    const auto since = next.time_since_epoch();
    now = TimePoint((since + grid - TimePoint::duration(1)) / grid * grid);
  }
  return times;
}

// Most starts in any window of `window` that begins at a start.
std::size_t MostInAWindow(const std::vector<TimePoint>& times, std::chrono::nanoseconds window) {
  std::size_t most = 0;
  std::size_t j = 0;
  for (std::size_t i = 0; i < times.size(); ++i) {
    while (times[i] - times[j] >= window) ++j;
    most = std::max(most, i - j + 1);
  }
  return most;
}

TEST(RateLimiterTest, AThousandStartsAtAHundredASecondTakeTenSeconds) {
  const std::vector<TimePoint> times = Simulate(100, 1000);
  const double seconds = std::chrono::duration<double>(times.back() - times.front()).count();
  EXPECT_NEAR(seconds, 9.99, 0.5);
  EXPECT_LE(MostInAWindow(times, std::chrono::seconds(1)), 110u);
  EXPECT_LE(MostInAWindow(times, milliseconds(10)), 2u) << "evenly spaced";
}

TEST(RateLimiterTest, AHighRateCatchesUpOnTheGridWithoutBursting) {
  const std::vector<TimePoint> times = Simulate(5000, 20'000);
  const double seconds = std::chrono::duration<double>(times.back() - times.front()).count();
  EXPECT_NEAR(seconds, 4.0, 0.2);
  EXPECT_LE(MostInAWindow(times, std::chrono::seconds(1)), 5100u);
}

TEST(RateLimiterTest, NoBurstAfterAnIdleSpell) {
  RateLimiter limiter(10);  // 100 ms apart
  TimePoint now{std::chrono::hours(1)};
  EXPECT_EQ(limiter.NextStart(now), now) << "the first starts at once";
  EXPECT_TRUE(limiter.TryStart(now));
  EXPECT_FALSE(limiter.TryStart(now)) << "the next is 100 ms away";
  EXPECT_EQ(limiter.NextStart(now), now + milliseconds(100));
  now += std::chrono::seconds(60);  // idle
  EXPECT_EQ(limiter.NextStart(now), now);
  EXPECT_TRUE(limiter.TryStart(now));
  EXPECT_EQ(limiter.NextStart(now), now + milliseconds(100)) << "not a minute of starts at once";
}

// The workers' runners share one limiter: together they start no faster than its rate, from
// the very first start, however their claims interleave.
TEST(RateLimiterTest, ThreadsSharingALimiterTakeEachSlotOnce) {
  RateLimiter limiter(1000);  // 1 ms apart
  const TimePoint start{std::chrono::hours(1)};
  std::atomic<int> started{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      // Each thread tries at every 100 us of a simulated second, as fast as it can.
      for (int step = 0; step < 10'000; ++step) {
        const TimePoint now = start + std::chrono::microseconds(100 * step);
        while (limiter.TryStart(now)) ++started;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  // A second at 1000/s: 1000 starts, and at most the catch-up's worth (10) more, whatever
  // order the threads' clocks went in.
  EXPECT_GE(started.load(), 1000);
  EXPECT_LE(started.load(), 1011);
}

// One limiter per rate of the run: the types one blueprint serves share its limiter.
TEST(RunRatesTest, OneLimiterPerRateOfTheRun) {
  Blueprint a, b, plain;
  a.rate = 10.0;
  b.rate = 10.0;
  const RunRates rates(std::nullopt, {&a, &b, &a, &plain});
  EXPECT_NE(rates.of_type(0), nullptr);
  EXPECT_EQ(rates.of_type(0), rates.of_type(2)) << "one blueprint, one schedule";
  EXPECT_NE(rates.of_type(0), rates.of_type(1)) << "two blueprints, two schedules";
  EXPECT_EQ(rates.of_type(3), nullptr);
  RunRates overall(5.0, {&plain});
  ASSERT_NE(overall.overall(), nullptr);
  EXPECT_TRUE(overall.overall()->TryStart(Clock::TimePoint{}));
  EXPECT_FALSE(overall.overall()->TryStart(Clock::TimePoint{})) << "5/s: the next in 200 ms";
}

}  // namespace
}  // namespace orchestrator
