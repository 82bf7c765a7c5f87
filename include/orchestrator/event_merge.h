// --events with several workers: their events in one order, by time.
#ifndef ORCHESTRATOR_EVENT_MERGE_H_
#define ORCHESTRATOR_EVENT_MERGE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "orchestrator/clock.h"
#include "orchestrator/outcome.h"
#include "orchestrator/task.h"
#include "orchestrator/task_event.h"
#include "orchestrator/worker_batch.h"

namespace orchestrator {

/// A task's row, as the events file tells it (its "finished" line).
struct FinishedTask {
  Task task;
  Outcome outcome;
  Clock::TimePoint at{};
};

/// Where EventMerge hands what it lets go, in time order.
class MergedEvents {
 public:
  virtual ~MergedEvents() = default;
  virtual void Event(const TaskEvent& event) = 0;
  virtual void Finished(const FinishedTask& finished) = 0;
};

/// Each worker tells what happened to its tasks in the order it happened, in batches that
/// reach the collector later and in any order among workers. EventMerge holds them until no
/// worker can still tell of something earlier, then lets them go in time order: an event goes
/// once every worker still running has sent a batch made after it (WorkerBatch::told_until),
/// or once it is `window` old, so that a worker with nothing to tell holds no one up for
/// long. A task's own events keep their order (a tie goes to its events before its row).
///
/// Only a batch that reaches the collector more than `window` after it was made can bring an
/// event older than one let go already (the events file then writes it with the time of the
/// line before: its times never go back).
class EventMerge {
 public:
  EventMerge(std::size_t workers, std::chrono::steady_clock::duration window);

  /// A batch of worker `batch.list`: its TaskEvents and its rows.
  void Add(const WorkerBatch& batch);
  /// Hands `out` everything no worker can precede any more, as of `now`; everything, once
  /// every worker has sent its last batch.
  void Release(Clock::TimePoint now, MergedEvents& out);
  /// Hands `out` everything held, in time order (the run is over, or the file has failed).
  void ReleaseAll(MergedEvents& out);

  bool empty() const { return held_ == 0; }

 private:
  struct Stream {
    std::deque<TaskEvent> events;
    std::deque<FinishedTask> rows;
    Clock::TimePoint told_until = Clock::TimePoint::min();
    bool done = false;  // its last batch came
  };

  void ReleaseUntil(Clock::TimePoint horizon, MergedEvents& out);

  std::vector<Stream> streams_;
  std::chrono::steady_clock::duration window_;
  std::size_t held_ = 0;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_EVENT_MERGE_H_
