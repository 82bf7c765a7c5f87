#include "orchestrator/rate_limiter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
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
    while (static_cast<int>(times.size()) < starts && limiter.NextStart(now) <= now) {
      limiter.Started(now);
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
  limiter.Started(now);
  EXPECT_EQ(limiter.NextStart(now), now + milliseconds(100));
  now += std::chrono::seconds(60);  // idle
  EXPECT_EQ(limiter.NextStart(now), now);
  limiter.Started(now);
  EXPECT_EQ(limiter.NextStart(now), now + milliseconds(100)) << "not a minute of starts at once";
}

}  // namespace
}  // namespace orchestrator
