// What happens to a task as it goes, for --events: a few bytes a record.
#ifndef ORCHESTRATOR_TASK_EVENT_H_
#define ORCHESTRATOR_TASK_EVENT_H_

#include <cstdint>
#include <string_view>

#include "orchestrator/clock.h"
#include "orchestrator/http_client.h"
#include "orchestrator/task.h"

namespace orchestrator {

/// The kinds of TaskEvent, in the order a task usually meets them. A task's row ("finished")
/// is not one: the collector writes it from the row itself.
enum class TaskEventKind : std::uint8_t {
  kBlocked,       ///< waits for its parents (at the start) or for a --limit place
  kReleased,      ///< no longer: its parents have their rows, or it has its places
  kQueued,        ///< waits for a fetch slot (again after a retry's backoff)
  kStarted,       ///< its first step begins
  kStepStarted,   ///< a step begins (a fetch: each attempt)
  kStepFinished,  ///< a step ends (a fetch: each attempt, with its status)
  kRetry,         ///< a failed attempt will be tried again after `micros`
  kWebhook,       ///< one of its webhooks was delivered, or given up
};

/// What kBlocked and kReleased are about.
enum class Blocker : std::uint8_t { kNone, kDependencies, kPool };

/// One event: which task, when, and what it needs. 40 bytes.
struct TaskEvent {
  Task task;
  Clock::TimePoint at{};
  /// kStepFinished: how long the step took; kRetry: the backoff chosen.
  std::int64_t micros = 0;
  TaskEventKind kind = TaskEventKind::kStarted;
  std::uint8_t step = 0;          ///< kStepStarted, kStepFinished, kRetry: the step's index
  std::uint16_t attempt = 0;      ///< fetch steps: 1 for the first attempt
  std::uint16_t http_status = 0;  ///< kStepFinished, kRetry of a fetch: the status, 0 none
  FetchFailure failure = FetchFailure::kNone;  ///< kStepFinished, kRetry: how it failed
  Blocker blocker = Blocker::kNone;            ///< kBlocked, kReleased
  std::uint8_t hook = 0;  ///< kWebhook: WebhookEvent, then its index among that event's
  std::uint8_t hook_index = 0;
  bool given_up = false;  ///< kWebhook: given up rather than delivered
};

/// The event's name in --events: blocked, released, queued, started, step_started,
/// step_finished, retry, webhook.
std::string_view TaskEventName(TaskEventKind kind);

/// Where a runner sends its TaskEvents (the worker, with --events).
class TaskEventSink {
 public:
  virtual ~TaskEventSink() = default;
  virtual void OnTaskEvent(const TaskEvent& event) = 0;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_TASK_EVENT_H_
