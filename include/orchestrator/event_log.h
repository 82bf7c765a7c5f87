// --events FILE: what happens to every task, as JSON Lines, for programs.
#ifndef ORCHESTRATOR_EVENT_LOG_H_
#define ORCHESTRATOR_EVENT_LOG_H_

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "orchestrator/blueprint.h"
#include "orchestrator/clock.h"
#include "orchestrator/event_merge.h"
#include "orchestrator/outcome.h"
#include "orchestrator/output_stream.h"
#include "orchestrator/run_observer.h"
#include "orchestrator/task_event.h"

namespace orchestrator {

/// Writes one JSON object a line (strings escaped by Boost.JSON), in the order the
/// collector gets them:
///   {"ts":"2026-12-02T09:00:05.012Z","elapsed_ms":12,"task_id":101,"task_type":"ingest",
///    "event":"step_finished","step":"fetch_data","attempt":1,"duration_ms":3.2,"http_status":200}
/// Every event has ts (RFC 3339, UTC, milliseconds), elapsed_ms (since the run started),
/// task_id, task_type and event; then what the event needs (docs/events.schema.json):
///   blocked, released: "by" (dependencies or pool)
///   queued, started: nothing more
///   step_started: "step" (its name), "kind" (fetch, delay, emit), fetches "attempt"
///   step_finished: "step", "kind", "duration_ms" (fetch: the attempt; delay: its length;
///     emit: 0), fetches "attempt", "http_status" (0: no response), "outcome" (ok or the
///     failure: http_status, timeout, connect, ...)
///   retry: "step", "attempt" (the one that failed), "reason", "http_status", "wait_ms"
///   webhook: "webhook" (on_start, on_success, on_failure), "index", "outcome" (delivered
///     or given_up)
///   finished: "final_status", "error_info"
/// Lines are in the order things happened, whichever worker they happened on (EventMerge):
/// ts never goes back. The file is written as the run goes: a line waits at most
/// kReorderWindow past its event for the other workers' earlier ones, then for the
/// collector's next batch or tick (at most 64 KiB buffered); a write that fails (a full disk,
/// a closed FIFO) stops the run, as a failed --output does.
class EventLog final : public RunObserver, private MergedEvents {
 public:
  /// Opens FILE for writing (created, or truncated; a FIFO or /dev/stderr as it is): throws
  /// InputError (exit 2, nothing run) if it cannot. A FIFO with no reader yet is waited for
  /// until `interrupt_fd` (SignalWatch::fd) is readable: InterruptedWhileOpening.
  /// `blueprints[t]` names the steps of type t; `capture_columns` names the values a
  /// "finished" line's "captures" object holds.
  EventLog(const std::string& path, const std::vector<std::string>& type_names,
           std::vector<const Blueprint*> blueprints, int interrupt_fd = -1,
           const std::vector<std::string>& capture_columns = {});
  ~EventLog() override;
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  /// The longest an event waits for the other workers' earlier ones.
  static constexpr std::chrono::steady_clock::duration kReorderWindow =
      std::chrono::milliseconds(200);

  void OnRunStart(std::size_t workers) override;
  /// A worker's events, and its rows ("finished" lines).
  void OnBatch(const WorkerBatch& batch) override;
  /// Writes out the lines whose turn has come; says so if the file has failed.
  std::optional<OutputFailure> AfterBatch() override;
  bool HoldsBack() const override { return true; }

  /// Writes out every line held back, then waits until the file's reader has taken them (a
  /// FIFO's: OutputStream::WaitUntilWritten). False if `interrupt_fd` became readable first.
  bool WaitUntilWritten(int interrupt_fd);

 private:
  void Event(const TaskEvent& event) override;
  void Finished(const FinishedTask& finished) override;
  void WriteLine(const TaskEvent* event, const Task& task, const Outcome* outcome,
                 Clock::TimePoint at);
  // `,"captures":{...}` for a finished task that captured values, or nothing.
  std::string CapturesJson(const Outcome& outcome) const;
  std::string_view Timestamp(std::chrono::system_clock::time_point wall);

  int fd_;
  std::unique_ptr<OutputStream> stream_;
  std::vector<const Blueprint*> blueprints_;
  // The run's start on both clocks: an event's steady time becomes calendar time.
  std::chrono::steady_clock::time_point steady_start_;
  std::chrono::system_clock::time_point wall_start_;
  std::string line_;  // room for a line, written through a LineCursor
  // JSON strings, quoted and escaped once: each type's name, and its steps' names.
  std::vector<std::string> capture_json_;  // each capture column's name as a JSON string
  std::vector<std::string> type_json_;
  std::vector<std::vector<std::string>> step_json_;
  std::vector<std::size_t> longest_step_json_;  // per type
  std::chrono::system_clock::time_point timestamp_second_{};
  std::string timestamp_;  // its RFC 3339 text, milliseconds filled in per line
  EventMerge merge_;
  Clock::TimePoint last_at_{};  // of the line before: no line goes back in time
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_EVENT_LOG_H_
