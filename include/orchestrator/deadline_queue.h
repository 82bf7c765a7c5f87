// Tasks waiting for a point in time: delays and retry backoffs.
#ifndef ORCHESTRATOR_DEADLINE_QUEUE_H_
#define ORCHESTRATOR_DEADLINE_QUEUE_H_

#include <cstddef>
#include <deque>
#include <optional>
#include <vector>

#include "orchestrator/clock.h"
#include "orchestrator/duration.h"
#include "orchestrator/task.h"

namespace orchestrator {

/// Tasks ordered by the time they are due, 16 bytes per waiting task.
///
/// Every task of a blueprint waits the same delay, and time only moves forward, so waits of
/// one fixed duration arrive in deadline order: each such duration gets a FIFO lane with
/// O(1) push and pop. Other waits (retry backoffs, with jitter) go to a binary heap.
class DeadlineQueue {
 public:
  using TimePoint = Clock::TimePoint;

  /// `lane_durations`: the durations that get FIFO lanes (the blueprint's delays).
  explicit DeadlineQueue(std::vector<Duration> lane_durations = {});

  /// Queues `task` to be due at `now + after`. `now` must not go backwards between calls.
  void Push(TimePoint now, Duration after, TaskIndex task);

  /// The earliest deadline, if any task is waiting.
  std::optional<TimePoint> Earliest() const;

  /// Removes and returns the task with the earliest deadline if that deadline is <= `now`.
  std::optional<TaskIndex> PopDue(TimePoint now);

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void Clear();

 private:
  struct Entry {
    TimePoint due;
    TaskIndex task;
  };
  struct Lane {
    Duration duration;
    std::deque<Entry> entries;
  };

  std::vector<Lane> lanes_;
  std::vector<Entry> heap_;  // min-heap on `due`
  std::size_t size_ = 0;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_DEADLINE_QUEUE_H_
