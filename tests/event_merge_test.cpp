// EventMerge: the workers' events in one time order.
#include "orchestrator/event_merge.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace orchestrator {
namespace {

using std::chrono::milliseconds;

const Clock::TimePoint kStart{std::chrono::seconds(1000)};

Clock::TimePoint At(int ms) { return kStart + milliseconds(ms); }

// What came out: "event:ID@MS" or "row:ID@MS", in order.
class Written final : public MergedEvents {
 public:
  void Event(const TaskEvent& event) override { Add("event", event.task.id, event.at); }
  void Finished(const FinishedTask& finished) override {
    Add("row", finished.task.id, finished.at);
  }
  std::vector<std::string> TakeLines() { return std::exchange(lines_, {}); }

 private:
  void Add(const char* what, TaskId id, Clock::TimePoint at) {
    lines_.push_back(std::string(what) + ":" + std::to_string(id) + "@" +
                     std::to_string((at - kStart) / milliseconds(1)));
  }
  std::vector<std::string> lines_;
};

// Worker `list`'s batch, sent at `told_until`: an event for each (id, ms) of `events`, a row
// for each of `rows`.
WorkerBatch Batch(std::uint32_t list, int told_until, std::vector<std::pair<TaskId, int>> events,
                  std::vector<std::pair<TaskId, int>> rows = {}, bool last = false) {
  WorkerBatch batch;
  batch.list = list;
  batch.told_until = At(told_until);
  batch.last = last;
  for (const auto& [id, ms] : events) {
    batch.task_events.push_back({.task = {.id = id, .type = 0}, .at = At(ms)});
  }
  for (const auto& [id, ms] : rows) {
    batch.records.emplace_back(
        RowRecord{.task = {.id = id, .type = 0}, .outcome = Outcome::Completed(), .at = At(ms)});
  }
  return batch;
}

using Lines = std::vector<std::string>;

// Worker 1's batch arrives after worker 0's, with earlier events: they go out first, and
// nothing goes before both workers have told of the time it happened.
TEST(EventMergeTest, EventsGoOutInTimeOrderOnceEveryWorkerHasToldOfThatTime) {
  EventMerge merge(2, milliseconds(200));
  Written out;
  merge.Add(Batch(0, 30, {{1, 10}, {1, 20}, {3, 30}}));
  merge.Release(At(31), out);
  EXPECT_EQ(out.TakeLines(), Lines{}) << "worker 1 has told nothing yet";
  merge.Add(Batch(1, 25, {{2, 5}, {2, 15}}, {{2, 25}}));
  merge.Release(At(32), out);
  EXPECT_EQ(out.TakeLines(),
            (Lines{"event:2@5", "event:1@10", "event:2@15", "event:1@20", "row:2@25"}))
      << "up to 25, what both have told";
  merge.Add(Batch(1, 60, {}, {}, /*last=*/true));
  merge.Release(At(61), out);
  EXPECT_EQ(out.TakeLines(), Lines{"event:3@30"});
  EXPECT_TRUE(merge.empty());
}

// A worker with nothing to tell holds the others back for the window, no longer.
TEST(EventMergeTest, ASilentWorkerHoldsNoOneBackLongerThanTheWindow) {
  EventMerge merge(2, milliseconds(200));
  Written out;
  merge.Add(Batch(0, 100, {{1, 50}, {1, 100}}));
  merge.Release(At(200), out);
  EXPECT_EQ(out.TakeLines(), Lines{});
  merge.Release(At(250), out);
  EXPECT_EQ(out.TakeLines(), Lines{"event:1@50"});
  merge.Release(At(300), out);
  EXPECT_EQ(out.TakeLines(), Lines{"event:1@100"});
}

// Once every worker has sent its last batch, everything goes.
TEST(EventMergeTest, TheLastBatchesLetEverythingGo) {
  EventMerge merge(2, milliseconds(200));
  Written out;
  merge.Add(Batch(0, 10, {{1, 10}}, {{1, 10}}, /*last=*/true));
  merge.Release(At(10), out);
  EXPECT_EQ(out.TakeLines(), Lines{}) << "worker 1 may still tell of 5";
  merge.Add(Batch(1, 8, {{2, 5}}, {}, /*last=*/true));
  merge.Release(At(11), out);
  EXPECT_EQ(out.TakeLines(), (Lines{"event:2@5", "event:1@10", "row:1@10"}))
      << "at a tie, a worker's events before its row";
}

// A worker's own events keep their order, even where their times do not (ties, or a clock
// that a test sets): the merge only ever takes the first of each.
TEST(EventMergeTest, AWorkersOwnOrderIsKept) {
  EventMerge merge(1, milliseconds(200));
  Written out;
  merge.Add(Batch(0, 40, {{1, 20}, {2, 20}, {1, 30}}, {{2, 20}, {1, 40}}));
  merge.Release(At(40), out);
  EXPECT_EQ(out.TakeLines(),
            (Lines{"event:1@20", "event:2@20", "row:2@20", "event:1@30", "row:1@40"}));
}

TEST(EventMergeTest, ReleaseAllLetsEverythingGoInOrder) {
  EventMerge merge(3, milliseconds(200));
  Written out;
  merge.Add(Batch(2, 0, {{3, 30}}));
  merge.Add(Batch(0, 0, {{1, 10}}));
  merge.ReleaseAll(out);
  EXPECT_EQ(out.TakeLines(), (Lines{"event:1@10", "event:3@30"}));
  EXPECT_TRUE(merge.empty());
}

}  // namespace
}  // namespace orchestrator
