// What a worker tells the collector: records of its tasks, in batches.
#ifndef ORCHESTRATOR_WORKER_BATCH_H_
#define ORCHESTRATOR_WORKER_BATCH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "orchestrator/clock.h"
#include "orchestrator/outcome.h"
#include "orchestrator/parent_end.h"
#include "orchestrator/run_stats.h"
#include "orchestrator/task.h"
#include "orchestrator/task_event.h"

namespace orchestrator {

/// An emit step ran (RunObserver::OnEmit).
struct EmitRecord {
  Task task;
  std::string_view step;  ///< Its name (owned by the Blueprint).
  std::string line;       ///< Filled in; empty for the line that names the task.
};

/// A task has its row (RunObserver::OnRow).
struct RowRecord {
  Task task;
  Outcome outcome;
  Clock::TimePoint at{};  ///< When the runner gave it (the worker's clock, as TaskEvent::at)
};

/// A webhook was given up (RunObserver::OnWebhookGaveUp).
struct WebhookGaveUpRecord {
  Task task;
  std::string webhook;  ///< Which: "on_start webhook"
  std::string reason;
};

/// What a worker tells the collector about one of its tasks, in the order it happened.
using WorkerRecord = std::variant<EmitRecord, RowRecord, WebhookGaveUpRecord>;

/// What a worker hands the collector at once: the records of one burst of events.
struct WorkerBatch {
  std::vector<WorkerRecord> records;
  /// By list (TaskList::deal): what the worker of each other list must hear of its tasks'
  /// parents (Worker::ParentsEnded). Empty, or one vector per list.
  std::vector<ParentNews> parents_ended;
  bool last = false;  ///< The worker's final batch: it sends nothing after it.
  /// --events: what happened to its tasks, in order (Options::events).
  std::vector<TaskEvent> task_events;
  /// Which worker sent it (its list, TaskList::deal).
  std::uint32_t list = 0;
  /// The runner's counts, now and then (Options::stats_every) and in the last batch, when
  /// the run is watched.
  std::optional<RunStats> stats;
  /// Set on the last batch of a worker whose loop threw (a bug): what the exception said.
  /// The worker has then reported its unfinished tasks as cancelled, as far as it could.
  std::string error;
  /// When the worker sent it (its clock): it has told everything that happened until then.
  Clock::TimePoint told_until{};
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_WORKER_BATCH_H_
