#include "orchestrator/fetch_window.h"

#include <gtest/gtest.h>

namespace orchestrator {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kCalm{1};

// A tick of a loop that ran `lag` late and idled the rest.
LoopLoad Lag(milliseconds lag) { return LoopLoad{.lag = lag, .busy = 0}; }
constexpr milliseconds kStall = FetchWindow::kStalled;

// A window in use: as many fetches in flight as it allows, and more waiting.
bool Calm(FetchWindow& window) { return window.Observe(Lag(kCalm), window.limit(), true); }

TEST(FetchWindowTest, StartsSmallAndGrowsByAtMostSixtyFourWhileTheLoopKeepsUp) {
  FetchWindow window(1000);
  EXPECT_EQ(window.limit(), 64u);
  EXPECT_TRUE(Calm(window));
  EXPECT_EQ(window.limit(), 128u);
  EXPECT_TRUE(Calm(window));
  EXPECT_EQ(window.limit(), 192u) << "no more new connections at once than kMaxGrowth";
  for (int i = 0; i < 20; ++i) Calm(window);
  EXPECT_EQ(window.limit(), 1000u) << "growth stops at the maximum";
  EXPECT_FALSE(Calm(window));
  EXPECT_EQ(window.limit(), 1000u);
}

TEST(FetchWindowTest, ASmallMaximumIsTheWindowFromTheStart) {
  FetchWindow window(20);
  EXPECT_EQ(window.limit(), 20u);
  EXPECT_FALSE(Calm(window));
  FetchWindow one(0);
  EXPECT_EQ(one.limit(), 1u);
}

TEST(FetchWindowTest, ABusyLoopHoldsItsWindowAndAStalledOneHalvesWhatIsInFlight) {
  FetchWindow window(4000);
  Calm(window);
  Calm(window);
  Calm(window);
  ASSERT_EQ(window.limit(), 256u);
  // Busy with fetches on the connections it has: no growth, no shrinking either.
  EXPECT_FALSE(window.Observe(Lag(kStall - milliseconds(1)), 256, true));
  EXPECT_FALSE(window.Observe(Lag(FetchWindow::kKeepingUp + milliseconds(1)), 256, true));
  EXPECT_EQ(window.limit(), 256u);
  EXPECT_EQ(window.shrinks(), 0u);
  EXPECT_FALSE(window.Observe(Lag(kStall), 256, true));
  EXPECT_EQ(window.limit(), 128u);
  EXPECT_EQ(window.shrinks(), 1u);
  // Half of what is in flight, when that is less than the limit.
  window.Observe(Lag(kStall), 40, true);
  EXPECT_EQ(window.limit(), 20u);
  // Never below the floor.
  for (int i = 0; i < 10; ++i) window.Observe(Lag(kStall), window.limit(), true);
  EXPECT_EQ(window.limit(), FetchWindow::kFloor);
  EXPECT_EQ(window.shrinks(), 4u) << "a shrink that changes nothing is not counted";
  // Below kMaxGrowth it doubles back.
  Calm(window);
  EXPECT_EQ(window.limit(), 2 * FetchWindow::kFloor);
}

TEST(FetchWindowTest, GrowsOnlyAWindowInUseOnALoopThatKeepsUp) {
  FetchWindow window(1000);
  EXPECT_FALSE(window.Observe(Lag(kCalm), 10, true)) << "most of the window idles";
  EXPECT_FALSE(window.Observe(Lag(kCalm), 64, false)) << "nothing waits for a place";
  EXPECT_FALSE(window.Observe(Lag(FetchWindow::kKeepingUp + milliseconds(1)), 64, true))
      << "busy: hold";
  EXPECT_EQ(window.limit(), 64u);
  EXPECT_EQ(window.shrinks(), 0u);
  EXPECT_TRUE(window.Observe(Lag(FetchWindow::kKeepingUp), 64, true));
  EXPECT_EQ(window.limit(), 128u);
}

TEST(FetchWindowTest, GrowsOnlyWhileTheLoopHasCpuToSpare) {
  // On time but computing most of each tick (handshakes, answers from a fast server): more
  // connections would cost CPU the loop does not have, and buy nothing.
  const auto busy = [](double share) { return LoopLoad{.lag = kCalm, .busy = share}; };
  FetchWindow window(1000);
  EXPECT_FALSE(window.Observe(busy(0.6), 64, true)) << "the first tick is all it knows";
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(window.Observe(busy(0.9), 64, true));
  EXPECT_EQ(window.limit(), 64u);
  EXPECT_EQ(window.shrinks(), 0u) << "busy is no stall: it holds, it does not shrink";
  // One idle tick is not the loop having CPU to spare (the share is smoothed)...
  EXPECT_FALSE(window.Observe(busy(0), 64, true));
  EXPECT_EQ(window.limit(), 64u);
  // ...two after ten at 0.9 are.
  EXPECT_TRUE(window.Observe(busy(0), 64, true));
  EXPECT_EQ(window.limit(), 128u);
  // Exactly at the line still grows; above it holds.
  FetchWindow at_line(1000);
  EXPECT_TRUE(at_line.Observe(busy(FetchWindow::kBusy), 64, true));
  EXPECT_FALSE(at_line.Observe(busy(1.0), 128, true));
  EXPECT_EQ(at_line.limit(), 128u);
}

TEST(FetchWindowTest, AWindowThatDoesNotAdaptStaysAtItsMaximum) {
  FetchWindow window(1000, /*adaptive=*/false);
  EXPECT_EQ(window.limit(), 1000u);
  EXPECT_FALSE(window.Observe(Lag(kStall), 1000, true));
  EXPECT_EQ(window.limit(), 1000u);
}

}  // namespace
}  // namespace orchestrator
