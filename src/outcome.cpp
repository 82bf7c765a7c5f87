#include "orchestrator/outcome.h"

#include <fmt/format.h>

namespace orchestrator {

Outcome Outcome::Cancelled() { return {OutcomeCause::kCancelled, "cancelled", {}}; }

Outcome Outcome::Halted(std::uint64_t failures) {
  return {
      OutcomeCause::kHalted,
      fmt::format("not started (halted after {} failure{})", failures, failures == 1 ? "" : "s"),
      {}};
}

Outcome Outcome::DependencyFailed(std::uint64_t parent_id) {
  return {OutcomeCause::kDependencyFailed, fmt::format("dependency {} failed", parent_id), {}};
}

Outcome Outcome::NotRun() { return {OutcomeCause::kNotRun, "not run (no shard reported it)", {}}; }

}  // namespace orchestrator
