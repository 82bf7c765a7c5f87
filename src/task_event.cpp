#include "orchestrator/task_event.h"

namespace orchestrator {

std::string_view TaskEventName(TaskEventKind kind) {
  switch (kind) {
    case TaskEventKind::kBlocked:
      return "blocked";
    case TaskEventKind::kReleased:
      return "released";
    case TaskEventKind::kQueued:
      return "queued";
    case TaskEventKind::kStarted:
      return "started";
    case TaskEventKind::kStepStarted:
      return "step_started";
    case TaskEventKind::kStepFinished:
      return "step_finished";
    case TaskEventKind::kRetry:
      return "retry";
    case TaskEventKind::kWebhook:
      return "webhook";
  }
  return "unknown";
}

}  // namespace orchestrator
