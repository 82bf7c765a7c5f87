// How a task ended.
#ifndef ORCHESTRATOR_OUTCOME_H_
#define ORCHESTRATOR_OUTCOME_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "orchestrator/captured_values.h"

namespace orchestrator {

enum class FinalStatus { kCompleted, kFailed };

/// "Completed" or "Failed", as written in the result CSV.
std::string_view FinalStatusName(FinalStatus status);

/// Why a task ended as it did. Code that counts or decides by how a task ended asks this,
/// never the text of its error_info.
enum class OutcomeCause : std::uint8_t {
  kCompleted,         ///< Every step succeeded.
  kFailed,            ///< A step failed; error_info says why.
  kCancelled,         ///< A signal or an output failure stopped the run before it ended.
  kHalted,            ///< --halt stopped the run before it started.
  kDependencyFailed,  ///< A parent it needed to complete failed: it never started.
  kNotRun,            ///< No shard reported it (`orchestrator merge`).
};

/// The final_status and error_info of one task's result row, and why, and what its captures
/// took for the row's capture columns. The factories write error_info from the cause; only a
/// failed step's reason is free text.
struct Outcome {
  OutcomeCause cause = OutcomeCause::kCompleted;
  std::string error_info;   ///< Empty when Completed; a short reason when Failed.
  CapturedValues captured;  ///< By capture column (the run's CaptureColumns).

  FinalStatus status() const {
    return cause == OutcomeCause::kCompleted ? FinalStatus::kCompleted : FinalStatus::kFailed;
  }
  /// Whether the task was started, as --halt counts: false for those a halt, a failed
  /// dependency or a missing shard left unstarted. A cancelled task counts as started.
  bool started() const {
    return cause == OutcomeCause::kCompleted || cause == OutcomeCause::kFailed ||
           cause == OutcomeCause::kCancelled;
  }

  static Outcome Completed() { return {}; }
  /// A step failed, for `reason` ("HTTP 503 Service Unavailable (after 3 attempts)").
  static Outcome Failed(std::string reason) {
    return {OutcomeCause::kFailed, std::move(reason), {}};
  }
  /// "cancelled".
  static Outcome Cancelled();
  /// "not started (halted after 3 failures)": the run had `failures` when it halted.
  static Outcome Halted(std::uint64_t failures);
  /// "dependency 7 failed".
  static Outcome DependencyFailed(std::uint64_t parent_id);
  /// "not run (no shard reported it)".
  static Outcome NotRun();
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_OUTCOME_H_
