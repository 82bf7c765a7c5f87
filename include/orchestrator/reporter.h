// Turns a run's results and events into the result CSV and event lines.
#ifndef ORCHESTRATOR_REPORTER_H_
#define ORCHESTRATOR_REPORTER_H_

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "orchestrator/outcome.h"
#include "orchestrator/output_stream.h"
#include "orchestrator/result_format.h"
#include "orchestrator/run_observer.h"
#include "orchestrator/task.h"

namespace orchestrator {

/// Writes each result row to every result stream (stdout and, optionally, a results file),
/// each event line to the event stream and each warning to the warning stream, and counts
/// outcomes for the exit status and the summary.
class Reporter final : public RunObserver {
 public:
  /// `events` may be null (quiet); `warnings` too (tests). Streams must outlive the reporter.
  /// Each row has a column per name of `capture_columns` after error_info, and is written in
  /// `format`.
  Reporter(std::vector<OutputStream*> results, OutputStream* events, OutputStream* warnings,
           std::vector<std::string> capture_columns = {}, ResultFormat format = ResultFormat::kCsv);

  /// The CSV header line (nothing for JSON Lines).
  void WriteHeader();
  /// A row that needs no run (carried over from an earlier result file).
  void CarryOver(TaskId id, const Outcome& outcome);

  void OnEmit(const Task& task, std::string_view type_name, std::string_view step,
              std::string_view line) override;
  void OnRow(const Task& task, const Outcome& outcome) override;
  void OnWebhookGaveUp(const Task& task, std::string_view webhook,
                       std::string_view reason) override;

  /// Flushes every stream. Returns false if a result stream has failed.
  bool Flush();

  /// Called once, when a result stream first fails: the run should stop, since its rows
  /// can no longer be recorded.
  void set_on_output_error(std::function<void()> on_error) { on_error_ = std::move(on_error); }
  /// Called when text waits in a stream's buffer and no flush has been asked for since the
  /// last one (OutputStream::set_on_pending), so the owner can flush once per burst.
  void set_on_pending(const std::function<void()>& on_pending);
  /// The result stream that failed, if one did.
  const OutputStream* failed_stream() const;

  std::size_t completed() const { return completed_; }
  std::size_t failed() const { return failed_; }
  std::size_t cancelled() const { return cancelled_; }
  std::size_t webhooks_given_up() const { return webhooks_given_up_; }

 private:
  void WriteRow(const std::string& row);

  std::vector<OutputStream*> results_;
  std::vector<std::string> capture_columns_;
  ResultFormat format_;
  OutputStream* events_;
  OutputStream* warnings_;
  std::function<void()> on_error_;
  bool reported_error_ = false;
  std::string scratch_;
  std::size_t completed_ = 0;
  std::size_t failed_ = 0;
  std::size_t cancelled_ = 0;
  std::size_t webhooks_given_up_ = 0;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_REPORTER_H_
