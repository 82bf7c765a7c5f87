// How a task ended.
#ifndef ORCHESTRATOR_OUTCOME_H_
#define ORCHESTRATOR_OUTCOME_H_

#include <string>
#include <string_view>

namespace orchestrator {

enum class FinalStatus { kCompleted, kFailed };

/// "Completed" or "Failed", as written in the result CSV.
std::string_view FinalStatusName(FinalStatus status);

/// The final_status and error_info of one task's result row.
struct Outcome {
  FinalStatus status = FinalStatus::kCompleted;
  std::string error_info;  ///< Empty when Completed; a short reason when Failed.
  /// False for a task failed without starting (its dependency failed, the run halted): it
  /// does not count towards --halt.
  bool started = true;

  static Outcome Completed() { return {}; }
  static Outcome Failed(std::string reason) {
    return {FinalStatus::kFailed, std::move(reason), true};
  }
  static Outcome NotStarted(std::string reason) {
    return {FinalStatus::kFailed, std::move(reason), false};
  }
};

/// The error_info of tasks that a signal or an output failure stopped before they ended.
inline constexpr std::string_view kCancelledReason = "cancelled";

}  // namespace orchestrator

#endif  // ORCHESTRATOR_OUTCOME_H_
