#include "orchestrator/asio_clock.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
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

// The clock's wake is due and another timer's handler, queued just before it, replaces or
// cancels it: the old wake's completion is already queued with success, so only the
// generation check keeps it from firing.
TEST(AsioClockTest, AReplacedOrCancelledWakeNeverFires) {
  for (const bool cancel : {false, true}) {
    SCOPED_TRACE(cancel ? "cancelled" : "replaced");
    boost::asio::io_context io;
    AsioClock clock(io);
    int first = 0, second = 0;
    bool replaced = false;
    clock.WakeAt(clock.Now(), [&] { ++first; });
    // Expired before the clock's wake (which is on the grid, at or after now), so that one
    // pass of the reactor queues this handler first and the clock's completion behind it.
    boost::asio::steady_timer other(io);
    other.expires_at(clock.Now() - std::chrono::seconds(1));
    other.async_wait([&](const boost::system::error_code& error) {
      ASSERT_FALSE(error);
      EXPECT_EQ(first, 0) << "the clock's wake ran first: the test proves nothing";
      if (cancel) {
        clock.CancelWake();
      } else {
        clock.WakeAt(clock.Now() + std::chrono::hours(1), [&] { ++second; });
      }
      replaced = true;
    });
    ::usleep(3 * AsioClock::kGrid.count() * 1000);  // both are due before the loop starts
    io.run_for(milliseconds(100));
    EXPECT_TRUE(replaced);
    EXPECT_EQ(first, 0);
    EXPECT_EQ(second, 0) << "the replaced wake's completion woke the new one early";
  }
}

TEST(AsioClockTest, AWakeReplacedBeforeTheLoopRunsNeverFires) {
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
