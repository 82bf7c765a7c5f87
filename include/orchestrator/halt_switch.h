// --halt for the whole run: one switch that every worker's runner counts into and reads.
#ifndef ORCHESTRATOR_HALT_SWITCH_H_
#define ORCHESTRATOR_HALT_SWITCH_H_

#include <atomic>
#include <cstdint>
#include <mutex>

#include "orchestrator/halt_policy.h"
#include "orchestrator/outcome.h"

namespace orchestrator {

/// Counts the rows of the tasks that ran, from every thread, and trips once `policy`'s mark
/// is reached. A runner counts each row here before the row leaves its worker, and reads
/// tripped() wherever a task could start (its first step, a fetch taken from the queue, a
/// release by a parent, a pool or a wake-up), so no task starts anywhere once the row that
/// tripped it is written, whichever thread its parents or pools are on.
///
/// Reading tripped() is one atomic load; counting takes a mutex, so that a percentage is
/// judged on counts that belong together, and only runs with a --halt pay it.
class HaltSwitch {
 public:
  explicit HaltSwitch(HaltPolicy policy) : policy_(policy) {}
  HaltSwitch(const HaltSwitch&) = delete;
  HaltSwitch& operator=(const HaltSwitch&) = delete;

  /// A task's row: counted if it ran (Outcome::started). True for the one row that trips the
  /// switch; false for every other, before and after.
  bool Count(const Outcome& outcome);

  /// Whether the run has halted: no task may start.
  bool tripped() const { return tripped_.load(std::memory_order_acquire); }
  /// Once tripped: the failures counted when it tripped.
  std::uint64_t failures() const { return failures_at_trip_.load(std::memory_order_acquire); }
  /// Once tripped: whether the running tasks stop too (`now`).
  bool stops_running() const { return policy_.when == HaltPolicy::When::kNow; }

 private:
  const HaltPolicy policy_;
  std::mutex mutex_;
  std::uint64_t ended_ = 0;   // guarded by mutex_
  std::uint64_t failed_ = 0;  // guarded by mutex_
  std::atomic<std::uint64_t> failures_at_trip_{0};
  std::atomic<bool> tripped_{false};
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_HALT_SWITCH_H_
