#include "orchestrator/event_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serializer.hpp>
#include <cerrno>
#include <cstring>
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

EventLog::EventLog(const std::string& path, std::vector<std::string> type_names,
                   std::vector<const Blueprint*> blueprints)
    : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)),
      type_names_(std::move(type_names)),
      blueprints_(std::move(blueprints)),
      steady_start_(std::chrono::steady_clock::now()),
      wall_start_(std::chrono::system_clock::now()) {
  if (fd_ < 0) {
    throw InputError(path, 0, std::string("cannot write events: ") + std::strerror(errno));
  }
  stream_ = std::make_unique<OutputStream>(fd_, path, OutputStream::FlushPolicy::kWhenAsked);
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

void EventLog::WriteLine(const TaskEvent* event, const Task& task, const Outcome* outcome) {
  if (stream_->failed()) return;
  // One small object a line, in a buffer on the stack: no allocation for most events.
  unsigned char storage[2048];
  boost::json::monotonic_resource memory(storage, sizeof(storage));
  boost::json::object line(&memory);
  const auto steady_now = std::chrono::steady_clock::now();
  const auto at = event != nullptr ? event->at : steady_now;
  line["ts"] =
      Rfc3339(wall_start_ +
              std::chrono::duration_cast<std::chrono::system_clock::duration>(at - steady_start_));
  line["elapsed_ms"] =
      std::chrono::duration_cast<std::chrono::milliseconds>(at - steady_start_).count();
  line["task_id"] = task.id;
  line["task_type"] = type_names_[task.type];
  if (outcome != nullptr) {
    line["event"] = "finished";
    line["final_status"] = FinalStatusName(outcome->status);
    line["error_info"] = outcome->error_info;
  } else {
    line["event"] = TaskEventName(event->kind);
    const Blueprint& blueprint = *blueprints_[task.type];
    switch (event->kind) {
      case TaskEventKind::kBlocked:
      case TaskEventKind::kReleased:
        line["by"] = BlockerName(event->blocker);
        break;
      case TaskEventKind::kQueued:
      case TaskEventKind::kStarted:
        break;
      case TaskEventKind::kStepStarted:
      case TaskEventKind::kStepFinished:
      case TaskEventKind::kRetry: {
        const Step& step = blueprint.steps[event->step];
        line["step"] = step.name;
        const bool fetch = std::holds_alternative<FetchStep>(step.action);
        if (event->kind != TaskEventKind::kRetry) line["kind"] = KindOf(step);
        if (fetch) line["attempt"] = event->attempt;
        if (event->kind == TaskEventKind::kStepFinished) {
          line["duration_ms"] = Milliseconds(event->micros);
          if (fetch) {
            line["http_status"] = event->http_status;
            line["outcome"] = event->failure == FetchFailure::kNone
                                  ? std::string_view("ok")
                                  : FetchFailureName(event->failure);
          }
        }
        if (event->kind == TaskEventKind::kRetry) {
          line["reason"] = FetchFailureName(event->failure);
          line["http_status"] = event->http_status;
          line["wait_ms"] = Milliseconds(event->micros);
        }
        break;
      }
      case TaskEventKind::kWebhook:
        line["webhook"] = KeyOf(static_cast<WebhookEvent>(event->hook));
        line["index"] = event->hook_index;
        line["outcome"] = event->given_up ? "given_up" : "delivered";
        break;
    }
  }
  boost::json::serializer serializer;
  serializer.reset(&line);
  char buffer[1024];
  line_.clear();
  while (!serializer.done()) line_.append(serializer.read(buffer));
  line_ += '\n';
  stream_->Write(line_);
}

}  // namespace orchestrator
