// The tasks waiting for a fetch slot, in lanes: one per blueprint with a rate of its own.
#ifndef ORCHESTRATOR_FETCH_QUEUE_H_
#define ORCHESTRATOR_FETCH_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <vector>

#include "orchestrator/clock.h"
#include "orchestrator/rate_limiter.h"
#include "orchestrator/task.h"

namespace orchestrator {

/// Tasks waiting for a fetch slot. Lane 0 has no rate; each other lane has its blueprint's
/// `rate`, and a task of a lane whose rate says "not yet" does not hold up the tasks behind
/// it in other lanes. Across lanes, the task that came first goes first; a retry comes
/// before every task that has not been sent yet.
class FetchQueue {
 public:
  /// `lane_rates[k]` is the rate of lane k + 1 (shared with the other workers' queues of the
  /// run); each must outlive the queue.
  explicit FetchQueue(std::vector<RateLimiter*> lane_rates = {});

  void PushBack(TaskIndex task, std::size_t lane);
  /// A retry: ahead of the tasks never sent.
  void PushFront(TaskIndex task, std::size_t lane);

  /// The task to send at `now`, taken out (its lane's rate counts the start); or none, with
  /// `wake` set to when a lane's rate lets its first task go, if one is held back.
  std::optional<TaskIndex> Pop(Clock::TimePoint now, std::optional<Clock::TimePoint>& wake);

  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  void EraseIf(const std::function<bool(TaskIndex)>& erase);
  void Clear();

 private:
  struct Entry {
    std::int64_t order;  // smaller goes first; retries are negative
    TaskIndex task;
  };
  struct Lane {
    std::deque<Entry> entries;
    RateLimiter* rate = nullptr;
  };

  std::vector<Lane> lanes_;
  std::int64_t next_back_ = 0;
  std::int64_t next_front_ = -1;
  std::size_t size_ = 0;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_FETCH_QUEUE_H_
