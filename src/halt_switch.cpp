#include "orchestrator/halt_switch.h"

namespace orchestrator {

bool HaltSwitch::Count(const Outcome& outcome) {
  if (policy_.when == HaltPolicy::When::kNever || !outcome.started()) return false;
  const std::lock_guard lock(mutex_);
  if (tripped_.load(std::memory_order_relaxed)) return false;
  ++ended_;
  if (outcome.status() == FinalStatus::kFailed) ++failed_;
  if (!policy_.Reached(failed_, ended_)) return false;
  failures_at_trip_.store(failed_, std::memory_order_release);
  tripped_.store(true, std::memory_order_release);
  return true;
}

}  // namespace orchestrator
