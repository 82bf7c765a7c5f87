#include "orchestrator/asio_clock.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <optional>

namespace orchestrator {
namespace {

using std::chrono::milliseconds;

TEST(AsioClockTest, WakesAtOrAfterTheTimeOnTheGrid) {
  boost::asio::io_context io;
  AsioClock clock(io);
  const Clock::TimePoint asked = clock.Now() + milliseconds(3);
  std::optional<Clock::TimePoint> woke;
  clock.WakeAt(asked, [&] { woke = clock.Now(); });
  io.run_for(std::chrono::seconds(2));
  ASSERT_TRUE(woke.has_value());
  EXPECT_GE(*woke, asked);
  EXPECT_LT(*woke, asked + AsioClock::kGrid + milliseconds(200)) << "not much later";
}

TEST(AsioClockTest, AReplacedOrCancelledWakeNeverFires) {
  boost::asio::io_context io;
  AsioClock clock(io);
  int first = 0, second = 0;
  clock.WakeAt(clock.Now(), [&] { ++first; });
  clock.WakeAt(clock.Now() + milliseconds(1), [&] { ++second; });
  io.run_for(milliseconds(200));
  EXPECT_EQ(first, 0);
  EXPECT_EQ(second, 1);
  io.restart();
  clock.WakeAt(clock.Now(), [&] { ++first; });
  clock.CancelWake();
  io.run_for(milliseconds(100));
  EXPECT_EQ(first, 0);
}

}  // namespace
}  // namespace orchestrator
