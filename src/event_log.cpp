#include "orchestrator/event_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "orchestrator/input_error.h"
#include "orchestrator/open_output.h"
#include "orchestrator/result_jsonl.h"
#include "orchestrator/run_stats.h"
#include "orchestrator/text.h"
#include "orchestrator/webhook.h"

namespace orchestrator {
namespace {

std::string_view BlockerName(Blocker blocker) {
  return blocker == Blocker::kPool ? "pool" : "dependencies";
}

// The fields of a line are written through it, into room made beforehand.
struct LineCursor {
  char* at;

  LineCursor& operator<<(std::string_view text) {
    std::memcpy(at, text.data(), text.size());
    at += text.size();
    return *this;
  }
  LineCursor& operator<<(char c) {
    *at++ = c;
    return *this;
  }
  template <typename Number>
  void Integer(Number value) {
    const fmt::format_int text(value);
    *this << std::string_view(text.data(), text.size());
  }
  // Microseconds as milliseconds, in the fewest digits (3200 is 3.2, 5000000 is 5000, 1 is
  // 0.001): what fmt's "{}" writes for micros / 1000.0, without the floating point.
  void Milliseconds(std::int64_t micros) {
    if (micros < 0) {
      *this << '-';
      micros = -micros;
    }
    Integer(micros / 1000);
    const auto fraction = static_cast<int>(micros % 1000);
    if (fraction == 0) return;
    const char digits[] = {'.', static_cast<char>('0' + fraction / 100),
                           static_cast<char>('0' + fraction / 10 % 10),
                           static_cast<char>('0' + fraction % 10)};
    std::size_t length = sizeof digits;
    while (digits[length - 1] == '0') --length;
    *this << std::string_view(digits, length);
  }
};

// The most a line takes besides its task type, step name and error_info: field names and
// numbers (a 20-digit id, durations of up to 20 digits) come to under 300 bytes.
constexpr std::size_t kFixedRoom = 512;

}  // namespace

EventLog::EventLog(const std::string& path, const std::vector<std::string>& type_names,
                   std::vector<const Blueprint*> blueprints, int interrupt_fd,
                   const std::vector<std::string>& capture_columns)
    : fd_(OpenOutput(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666, interrupt_fd)),
      blueprints_(std::move(blueprints)),
      steady_start_(std::chrono::steady_clock::now()),
      wall_start_(std::chrono::system_clock::now()),
      merge_(1, kReorderWindow) {
  if (fd_ < 0) {
    throw InputError(path, 0, std::string("cannot write events: ") + std::strerror(errno));
  }
  stream_ = std::make_unique<OutputStream>(fd_, path, OutputStream::FlushPolicy::kWhenAsked,
                                           OutputStream::PaceFor(fd_));
  for (const std::string& name : capture_columns) {
    capture_json_.push_back(boost::json::serialize(boost::json::value(ValidUtf8(name))));
  }
  for (std::size_t t = 0; t < type_names.size(); ++t) {
    type_json_.push_back(boost::json::serialize(boost::json::value(ValidUtf8(type_names[t]))));
    step_json_.emplace_back();
    for (const Step& step : blueprints_[t]->steps) {
      step_json_.back().push_back(boost::json::serialize(boost::json::value(ValidUtf8(step.name))));
    }
    longest_step_json_.push_back(0);
    for (const std::string& step : step_json_.back()) {
      longest_step_json_.back() = std::max(longest_step_json_.back(), step.size());
    }
  }
}

bool EventLog::WaitUntilWritten(int interrupt_fd) {
  merge_.ReleaseAll(*this);
  return stream_->WaitUntilWritten(interrupt_fd);
}

EventLog::~EventLog() {
  merge_.ReleaseAll(*this);  // a run that ended early (a bug) writes what it has
  stream_->Flush();
  ::close(fd_);
}

void EventLog::OnRunStart(std::size_t workers) { merge_ = EventMerge(workers, kReorderWindow); }

void EventLog::OnBatch(const WorkerBatch& batch) { merge_.Add(batch); }

void EventLog::Event(const TaskEvent& event) { WriteLine(&event, event.task, nullptr, event.at); }

void EventLog::Finished(const FinishedTask& finished) {
  WriteLine(nullptr, finished.task, &finished.outcome, finished.at);
}

std::optional<OutputFailure> EventLog::AfterBatch() {
  merge_.Release(std::chrono::steady_clock::now(), *this);
  if (stream_->Flush()) return std::nullopt;
  return OutputFailure{.what = "events", .where = stream_->name(), .error = stream_->error()};
}

// A line is the five fields every event has, then its own, written piece by piece into room
// made beforehand, from numbers and from strings that Boost.JSON escaped (the task types and
// step names once, at the start): at 9 lines a task, a boost::json::object a line, or even
// fmt's parsing of a format string a field, cost the collector more than the rest of the
// run's bookkeeping (about 550 ns a line against 100 to 200 now, bench/RESULTS.md).
void EventLog::WriteLine(const TaskEvent* event, const Task& task, const Outcome* outcome,
                         Clock::TimePoint at) {
  if (stream_->failed()) return;
  at = std::max(at, last_at_);  // late news from a worker (EventMerge) keeps the line before's time
  last_at_ = at;
  const auto since_start = at - steady_start_;
  const auto wall =
      wall_start_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(since_start);
  std::string error_json;
  if (outcome != nullptr && !outcome->error_info.empty()) {
    error_json = boost::json::serialize(boost::json::value(ValidUtf8(outcome->error_info)));
  }
  const std::string captures_json = outcome != nullptr ? CapturesJson(*outcome) : std::string();
  const std::size_t room = kFixedRoom + type_json_[task.type].size() +
                           longest_step_json_[task.type] + error_json.size() + captures_json.size();
  if (line_.size() < room) line_.resize(room);
  LineCursor line{line_.data()};
  line << R"({"ts":")" << Timestamp(wall) << R"(","elapsed_ms":)";
  line.Integer(std::chrono::duration_cast<std::chrono::milliseconds>(since_start).count());
  line << R"(,"task_id":)";
  line.Integer(task.id);
  line << R"(,"task_type":)" << type_json_[task.type] << R"(,"event":")";
  if (outcome != nullptr) {
    line << R"(finished","final_status":")" << FinalStatusName(outcome->status())
         << R"(","error_info":)"
         << (error_json.empty() ? std::string_view(R"("")") : std::string_view(error_json))
         << captures_json;
  } else {
    line << TaskEventName(event->kind) << '"';
    switch (event->kind) {
      case TaskEventKind::kBlocked:
      case TaskEventKind::kReleased:
        line << R"(,"by":")" << BlockerName(event->blocker) << '"';
        break;
      case TaskEventKind::kQueued:
      case TaskEventKind::kStarted:
        break;
      case TaskEventKind::kStepStarted:
      case TaskEventKind::kStepFinished:
      case TaskEventKind::kRetry: {
        const Step& step = blueprints_[task.type]->steps[event->step];
        const bool fetch = std::holds_alternative<FetchStep>(step.action);
        line << R"(,"step":)" << step_json_[task.type][event->step];
        if (event->kind == TaskEventKind::kRetry) {
          line << R"(,"attempt":)";
          line.Integer(event->attempt);
          line << R"(,"reason":")" << FetchFailureName(event->failure) << R"(","http_status":)";
          line.Integer(event->http_status);
          line << R"(,"wait_ms":)";
          line.Milliseconds(event->micros);
          break;
        }
        line << R"(,"kind":")" << StepKindName(step.action) << '"';
        if (fetch) {
          line << R"(,"attempt":)";
          line.Integer(event->attempt);
        }
        if (event->kind == TaskEventKind::kStepFinished) {
          line << R"(,"duration_ms":)";
          line.Milliseconds(event->micros);
          if (fetch) {
            line << R"(,"http_status":)";
            line.Integer(event->http_status);
            line << R"(,"outcome":")"
                 << (event->failure == FetchFailure::kNone ? std::string_view("ok")
                                                           : FetchFailureName(event->failure))
                 << '"';
          }
        }
        break;
      }
      case TaskEventKind::kWebhook:
        line << R"(,"webhook":")" << KeyOf(static_cast<WebhookEvent>(event->hook))
             << R"(","index":)";
        line.Integer(event->hook_index);
        line << R"(,"outcome":")"
             << (event->given_up ? std::string_view("given_up") : std::string_view("delivered"))
             << '"';
        break;
    }
  }
  line << "}\n";
  stream_->Write(std::string_view(line_.data(), line.at - line_.data()));
}

std::string EventLog::CapturesJson(const Outcome& outcome) const {
  if (outcome.captured.empty()) return {};
  std::string json = R"(,"captures":{)";
  bool first = true;
  outcome.captured.ForEach([&](std::size_t column, CapturedValue value) {
    if (column >= capture_json_.size()) return;
    if (!first) json += ',';
    first = false;
    json += capture_json_[column];
    json += ':';
    AppendCapturedJson(json, value);
  });
  json += '}';
  return json;
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
  char* digits = timestamp_.data() + timestamp_.size() - 4;
  digits[0] = static_cast<char>('0' + millis / 100);
  digits[1] = static_cast<char>('0' + millis / 10 % 10);
  digits[2] = static_cast<char>('0' + millis % 10);
  return timestamp_;
}

}  // namespace orchestrator
