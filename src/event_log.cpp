#include "orchestrator/event_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <string_view>

#include "orchestrator/input_error.h"
#include "orchestrator/run_stats.h"
#include "orchestrator/webhook.h"

namespace orchestrator {
namespace {

std::string_view KindOf(const Step& step) {
  if (std::holds_alternative<FetchStep>(step.action)) return "fetch";
  if (std::holds_alternative<DelayStep>(step.action)) return "delay";
  return "emit";
}

std::string_view BlockerName(Blocker blocker) {
  return blocker == Blocker::kPool ? "pool" : "dependencies";
}

double Milliseconds(std::int64_t micros) { return static_cast<double>(micros) / 1000.0; }

}  // namespace

EventLog::EventLog(const std::string& path, const std::vector<std::string>& type_names,
                   std::vector<const Blueprint*> blueprints)
    : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)),
      blueprints_(std::move(blueprints)),
      steady_start_(std::chrono::steady_clock::now()),
      wall_start_(std::chrono::system_clock::now()) {
  if (fd_ < 0) {
    throw InputError(path, 0, std::string("cannot write events: ") + std::strerror(errno));
  }
  stream_ = std::make_unique<OutputStream>(fd_, path, OutputStream::FlushPolicy::kWhenAsked);
  for (std::size_t t = 0; t < type_names.size(); ++t) {
    type_json_.push_back(boost::json::serialize(boost::json::value(type_names[t])));
    step_json_.emplace_back();
    for (const Step& step : blueprints_[t]->steps) {
      step_json_.back().push_back(boost::json::serialize(boost::json::value(step.name)));
    }
  }
}

EventLog::~EventLog() {
  stream_->Flush();
  ::close(fd_);
}

void EventLog::Write(std::span<const TaskEvent> events) {
  for (const TaskEvent& event : events) WriteLine(&event, event.task, nullptr);
}

void EventLog::Finished(const Task& task, const Outcome& outcome) {
  WriteLine(nullptr, task, &outcome);
}

bool EventLog::Flush() { return stream_->Flush(); }

// A line is the five fields every event has, then its own, built with fmt from numbers
// and from strings that Boost.JSON escaped (the task types and step names once, at the
// start): 9 lines a task at a million tasks cost too much as a boost::json::object each.
void EventLog::WriteLine(const TaskEvent* event, const Task& task, const Outcome* outcome) {
  if (stream_->failed()) return;
  const auto at = event != nullptr ? event->at : std::chrono::steady_clock::now();
  const auto since_start = at - steady_start_;
  const auto wall =
      wall_start_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(since_start);
  line_.clear();
  auto out = std::back_inserter(line_);
  fmt::format_to(out, R"({{"ts":"{}","elapsed_ms":{},"task_id":{},"task_type":{},"event":")",
                 Timestamp(wall),
                 std::chrono::duration_cast<std::chrono::milliseconds>(since_start).count(),
                 task.id, type_json_[task.type]);
  if (outcome != nullptr) {
    fmt::format_to(out, R"(finished","final_status":"{}","error_info":{}}})",
                   FinalStatusName(outcome->status),
                   boost::json::serialize(boost::json::value(outcome->error_info)));
  } else {
    line_ += TaskEventName(event->kind);
    line_ += '"';
    const Blueprint& blueprint = *blueprints_[task.type];
    switch (event->kind) {
      case TaskEventKind::kBlocked:
      case TaskEventKind::kReleased:
        fmt::format_to(out, R"(,"by":"{}")", BlockerName(event->blocker));
        break;
      case TaskEventKind::kQueued:
      case TaskEventKind::kStarted:
        break;
      case TaskEventKind::kStepStarted:
      case TaskEventKind::kStepFinished:
      case TaskEventKind::kRetry: {
        const Step& step = blueprint.steps[event->step];
        const bool fetch = std::holds_alternative<FetchStep>(step.action);
        fmt::format_to(out, R"(,"step":{})", step_json_[task.type][event->step]);
        if (event->kind == TaskEventKind::kRetry) {
          fmt::format_to(out, R"(,"attempt":{},"reason":"{}","http_status":{},"wait_ms":{})",
                         event->attempt, FetchFailureName(event->failure), event->http_status,
                         Milliseconds(event->micros));
          break;
        }
        fmt::format_to(out, R"(,"kind":"{}")", KindOf(step));
        if (fetch) fmt::format_to(out, R"(,"attempt":{})", event->attempt);
        if (event->kind == TaskEventKind::kStepFinished) {
          fmt::format_to(out, R"(,"duration_ms":{})", Milliseconds(event->micros));
          if (fetch) {
            fmt::format_to(out, R"(,"http_status":{},"outcome":"{}")", event->http_status,
                           event->failure == FetchFailure::kNone
                               ? std::string_view("ok")
                               : FetchFailureName(event->failure));
          }
        }
        break;
      }
      case TaskEventKind::kWebhook:
        fmt::format_to(out, R"(,"webhook":"{}","index":{},"outcome":"{}")",
                       KeyOf(static_cast<WebhookEvent>(event->hook)), event->hook_index,
                       event->given_up ? "given_up" : "delivered");
        break;
    }
    line_ += '}';
  }
  line_ += '\n';
  stream_->Write(line_);
}

// RFC 3339 in UTC with milliseconds; the part up to the second is made once a second.
std::string_view EventLog::Timestamp(std::chrono::system_clock::time_point wall) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(wall);
  if (seconds != timestamp_second_ || timestamp_.empty()) {
    timestamp_second_ = seconds;
    timestamp_ = Rfc3339(seconds);  // "...:05.000Z"
  }
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(wall - seconds).count();
  // Replace the ".000Z" with this moment's milliseconds.
  fmt::format_to_n(timestamp_.end() - 4, 3, "{:03}", millis);
  return timestamp_;
}

}  // namespace orchestrator
