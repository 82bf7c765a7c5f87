// The status line: its text, its width, its rate, and how it stays below the other output.
#include "orchestrator/status_line.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

namespace orchestrator {
namespace {

using std::chrono::milliseconds;

// 100,000 tasks, 45,210 with their rows (12 failed), and one worker's counts.
RunProgress Halfway() {
  RunProgress progress({"t"}, 1, 100'000, RunProgress::WallTime());
  for (int i = 0; i < 45'210; ++i) {
    progress.Row(Task{.id = static_cast<TaskId>(i), .type = 0},
                 i < 12 ? Outcome::Failed("HTTP 500") : Outcome::Completed(),
                 RunProgress::WallTime());
  }
  RunStats stats;
  stats.phases[static_cast<std::size_t>(TaskPhase::kFetching)] = 64;
  stats.phases[static_cast<std::size_t>(TaskPhase::kWaiting)] = 1203;
  stats.phases[static_cast<std::size_t>(TaskPhase::kBlocked)] = 3;
  stats.phases[static_cast<std::size_t>(TaskPhase::kReady)] = 100'000 - 45'210 - 64 - 1203 - 3;
  stats.phases[static_cast<std::size_t>(TaskPhase::kDone)] = 45'210;
  progress.WorkerStats(0, stats);
  return progress;
}

TEST(StatusTextTest, SaysWhereTheRunIsWhatMattersFirst) {
  EXPECT_EQ(StatusText(Halfway(), 3400, 0),
            "[45210/100000 45%] 12 failed, 3400/s, ETA 0:16 | 64 fetching, 1203 waiting, 3 blocked")
      << "counts in plain digits, as the summary line and the report print them";
}

TEST(StatusTextTest, ShowsFetchingAndWaitingAlwaysAndTheRestWhenThereAreAny) {
  const RunProgress start({"t"}, 1, 5, RunProgress::WallTime());
  EXPECT_EQ(StatusText(start, 0, 0), "[0/5 0%] 0/s, ETA -- | 0 fetching, 0 waiting");
}

TEST(StatusTextTest, ANarrowLineDropsWherePhasesAreFirstWholeThenIsCut) {
  const std::string head = "[45210/100000 45%] 12 failed, 3400/s, ETA 0:16";
  const std::string full = StatusText(Halfway(), 3400, 0);
  EXPECT_EQ(StatusText(Halfway(), 3400, 500), full);
  EXPECT_EQ(StatusText(Halfway(), 3400, full.size()), full);
  EXPECT_EQ(StatusText(Halfway(), 3400, full.size() - 1), head + " | 64 fetching, 1203 waiting");
  EXPECT_EQ(StatusText(Halfway(), 3400, head.size() + 14), head + " | 64 fetching");
  EXPECT_EQ(StatusText(Halfway(), 3400, head.size() + 13), head);
  EXPECT_EQ(StatusText(Halfway(), 3400, 30), head.substr(0, 30)) << "never wrapped";
}

TEST(StatusTextTest, TheFailedCountIsRedWhenColoured) {
  EXPECT_EQ(StatusText(Halfway(), 3400, 0, true),
            "[45210/100000 45%] \x1b[31m12 failed\x1b[0m, 3400/s, ETA 0:16 | 64 fetching, 1203 "
            "waiting, 3 blocked");
  // Fit first, by columns: a count that is cut gets no colour, and escapes take none.
  EXPECT_EQ(StatusText(Halfway(), 3400, 24, true), "[45210/100000 45%] 12 fa");
  EXPECT_EQ(StatusText(Halfway(), 3400, 60, true),
            "[45210/100000 45%] \x1b[31m12 failed\x1b[0m, 3400/s, ETA 0:16 | 64 fetching");
  const RunProgress start({"t"}, 1, 5, RunProgress::WallTime());
  EXPECT_EQ(StatusText(start, 0, 0, true), StatusText(start, 0, 0)) << "nothing failed";
}

TEST(StatusTextTest, TheTimeLeftInHoursWhenItIsLong) {
  EXPECT_NE(StatusText(Halfway(), 5, 0).find("ETA 3:02:38"), std::string::npos)
      << StatusText(Halfway(), 5, 0);  // 54,790 tasks at 5 a second: 10,958 s
}

TEST(RateMeterTest, RowsASecondOverTheLastFewSeconds) {
  RateMeter meter(std::chrono::seconds(5));
  const RateMeter::TimePoint t0;
  EXPECT_EQ(meter.PerSecond(), 0);
  meter.Sample(t0, 0);
  EXPECT_EQ(meter.PerSecond(), 0) << "one sample";
  meter.Sample(t0 + milliseconds(50), 100);
  EXPECT_EQ(meter.PerSecond(), 0) << "too short a span";
  meter.Sample(t0 + milliseconds(1000), 1000);
  EXPECT_DOUBLE_EQ(meter.PerSecond(), 1000);
  // Then nothing for ten seconds: the window forgets the fast start.
  for (int s = 2; s <= 12; ++s) meter.Sample(t0 + std::chrono::seconds(s), 1000);
  EXPECT_DOUBLE_EQ(meter.PerSecond(), 0);
}

// What a stream with a bottom line writes, through a pipe.
class BottomLineTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(::pipe(fds_), 0); }
  void TearDown() override {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  std::string Written() {
    std::string text(4096, '\0');
    const ssize_t n = ::read(fds_[0], text.data(), text.size());
    text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return text;
  }
  int fds_[2];
};

TEST_F(BottomLineTest, TextGoesAboveTheLineWhichIsDrawnAgainBelowIt) {
  OutputStream stream(fds_[1], "pipe", OutputStream::FlushPolicy::kWhenAsked);
  stream.SetBottomLine("[1/3 33%]");
  EXPECT_EQ(Written(), "\r\x1b[K[1/3 33%]");
  stream.Write("orchestrator: emit_event task_id=1\n");
  stream.Flush();
  EXPECT_EQ(Written(), "\r\x1b[Korchestrator: emit_event task_id=1\n[1/3 33%]");
  stream.Flush();  // nothing new: nothing written
  stream.SetBottomLine("[2/3 66%]");
  EXPECT_EQ(Written(), "\r\x1b[K[2/3 66%]");
  stream.SetBottomLine({});
  EXPECT_EQ(Written(), "\r\x1b[K") << "erased, not drawn again";
  stream.Write("orchestrator: 3 unique tasks\n");
  stream.Flush();
  EXPECT_EQ(Written(), "orchestrator: 3 unique tasks\n");
}

}  // namespace
}  // namespace orchestrator
