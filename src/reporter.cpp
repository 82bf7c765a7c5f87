#include "orchestrator/reporter.h"

#include <fmt/format.h>

#include "orchestrator/result_format.h"

namespace orchestrator {
Reporter::Reporter(std::vector<OutputStream*> results, OutputStream* events, OutputStream* warnings,
                   std::vector<std::string> capture_columns, ResultFormat format)
    : results_(std::move(results)),
      capture_columns_(std::move(capture_columns)),
      format_(format),
      events_(events),
      warnings_(warnings) {}

void Reporter::WriteHeader() {
  const std::string header = ResultHeaderIn(format_, capture_columns_);
  if (!header.empty()) WriteRow(header);
}

void Reporter::CarryOver(TaskId id, const Outcome& outcome) {
  scratch_.clear();
  AppendResultRowIn(format_, scratch_, id, outcome, capture_columns_);
  WriteRow(scratch_);
  ++(outcome.status() == FinalStatus::kCompleted ? completed_ : failed_);
}

void Reporter::OnEmit(const Task& task, std::string_view type_name, std::string_view step,
                      std::string_view line) {
  if (events_ == nullptr) return;
  scratch_.clear();
  if (line.empty()) {
    fmt::format_to(std::back_inserter(scratch_), "orchestrator: {} task_id={} task_type=", step,
                   task.id);
    AppendPrintable(scratch_, type_name);
  } else {
    scratch_ += "orchestrator: ";
    AppendPrintable(scratch_, line);
  }
  scratch_ += '\n';
  events_->Write(scratch_);  // a failing stderr is not worth stopping the run for
}

void Reporter::OnRow(const Task& task, const Outcome& outcome) {
  if (outcome.status() == FinalStatus::kCompleted) {
    ++completed_;
  } else {
    ++failed_;
    if (outcome.cause == OutcomeCause::kCancelled) ++cancelled_;
  }
  scratch_.clear();
  AppendResultRowIn(format_, scratch_, task.id, outcome, capture_columns_);
  WriteRow(scratch_);
}

// Printed even when quiet: the task's row does not tell it.
void Reporter::OnWebhookGaveUp(const Task& task, std::string_view webhook,
                               std::string_view reason) {
  ++webhooks_given_up_;
  if (warnings_ == nullptr) return;
  scratch_.clear();
  fmt::format_to(std::back_inserter(scratch_), "orchestrator: warning: {} for task {}: ", webhook,
                 task.id);
  AppendPrintable(scratch_, reason);
  scratch_ += '\n';
  warnings_->Write(scratch_);
}

void Reporter::WriteRow(const std::string& row) {
  for (OutputStream* stream : results_) stream->Write(row);
  if (!reported_error_ && failed_stream() != nullptr) {
    reported_error_ = true;
    if (on_error_) on_error_();
  }
}

bool Reporter::Flush() {
  if (events_ != nullptr) events_->Flush();
  if (warnings_ != nullptr && warnings_ != events_) warnings_->Flush();
  for (OutputStream* stream : results_) stream->Flush();
  if (!reported_error_ && failed_stream() != nullptr) {
    reported_error_ = true;
    if (on_error_) on_error_();
  }
  return failed_stream() == nullptr;
}

void Reporter::set_on_pending(const std::function<void()>& on_pending) {
  if (events_ != nullptr) events_->set_on_pending(on_pending);
  if (warnings_ != nullptr && warnings_ != events_) warnings_->set_on_pending(on_pending);
  for (OutputStream* stream : results_) stream->set_on_pending(on_pending);
}

const OutputStream* Reporter::failed_stream() const {
  for (const OutputStream* stream : results_) {
    if (stream->failed()) return stream;
  }
  return nullptr;
}

}  // namespace orchestrator
