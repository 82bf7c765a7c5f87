// What a run tells those who write it down, as it happens.
#ifndef ORCHESTRATOR_RUN_OBSERVER_H_
#define ORCHESTRATOR_RUN_OBSERVER_H_

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "orchestrator/outcome.h"
#include "orchestrator/task.h"
#include "orchestrator/task_event.h"
#include "orchestrator/worker_batch.h"

namespace orchestrator {

/// An output of the run's that could not be written: "cannot write {what} to {where}:
/// {strerror(error)}".
struct OutputFailure {
  std::string what;   ///< "events"
  std::string where;  ///< its path
  int error = 0;      ///< errno
};

/// One who hears of each thing that happens in a run, on the collector's thread, in the order
/// the collector hears it: the result CSV and the lines on stderr (Reporter), the events file
/// (EventLog), the counts that watchers read (RunProgress). A new output of the run's events
/// is a new RunObserver and one Collector::Observe; an output redrawn now and then (the
/// metrics file, the status line) is a RunWatcher instead. Each hook does nothing unless
/// overridden.
class RunObserver {
 public:
  virtual ~RunObserver() = default;

  /// The run starts, with `workers` workers (lists, TaskList::deal).
  virtual void OnRunStart(std::size_t /*workers*/) {}
  /// A worker's batch as a whole, before its records are told one by one below: for an
  /// output that puts what workers tell in one order of its own (the events file).
  virtual void OnBatch(const WorkerBatch& /*batch*/) {}
  /// An emit step ran for `task`: `line` is its text filled in, or empty for the line that
  /// names the task.
  virtual void OnEmit(const Task& /*task*/, std::string_view /*type_name*/,
                      std::string_view /*step*/, std::string_view /*line*/) {}
  /// `task` has its row: exactly once for every task the run runs.
  virtual void OnRow(const Task& /*task*/, const Outcome& /*outcome*/) {}
  /// A webhook of `task` was given up: `webhook` names it ("on_failure webhook"), `reason`
  /// says why. The task's outcome stands.
  virtual void OnWebhookGaveUp(const Task& /*task*/, std::string_view /*webhook*/,
                               std::string_view /*reason*/) {}
  /// The end of one batch of what a worker sent: what is buffered may go out. Says so when the
  /// output has failed; the collector then stops the run (every task still gets its row on
  /// the outputs that work) and the run ends in an output error.
  virtual std::optional<OutputFailure> AfterBatch() { return std::nullopt; }
  /// True for an output that holds what it was told for a while (to put it in order): the
  /// collector then calls AfterBatch every so often too, batches or none.
  virtual bool HoldsBack() const { return false; }
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_RUN_OBSERVER_H_
