#include "orchestrator/runner.h"

#include "orchestrator/url.h"

#include <fmt/format.h>
#include <algorithm>
#include <functional>
#include <stdexcept>
#include <utility>

namespace orchestrator {
namespace {

// The fixed delays of every blueprint, each once: they get the deadline queue's FIFO lanes.
std::vector<Duration> DelayDurations(const std::vector<const Blueprint*>& blueprints) {
  std::vector<Duration> durations;
  for (const Blueprint* blueprint : blueprints) {
    for (const Step& step : blueprint->steps) {
      const auto* delay = std::get_if<DelayStep>(&step.action);
      if (delay != nullptr && !delay->column &&
          std::find(durations.begin(), durations.end(), delay->duration) == durations.end()) {
        durations.push_back(delay->duration);
      }
    }
  }
  return durations;
}

// The error_info of a task whose fetch failed for good: the reason, and what led there.
std::string FailureReason(const FetchResult& result, int attempts, const std::string& note) {
  std::string reason = result.message;
  std::string context;
  if (attempts > 1) context = fmt::format("after {} attempts", attempts);
  if (!note.empty()) context += (context.empty() ? "" : "; ") + note;
  if (!context.empty()) reason += fmt::format(" ({})", context);
  return reason;
}

}  // namespace

Runner::Runner(const TaskList& tasks, std::vector<const Blueprint*> blueprints,
               RunnerOptions options, HttpClient& http, Clock& clock, RunSink& sink)
    : tasks_(tasks),
      blueprints_(std::move(blueprints)),
      options_(std::move(options)),
      http_(http),
      clock_(clock),
      sink_(sink),
      states_(tasks.tasks.size()),
      waiting_(DelayDurations(blueprints_)),
      random_(options_.seed) {
  if (blueprints_.size() == 1) blueprints_.resize(tasks.type_names.size(), blueprints_[0]);
  if (blueprints_.size() < tasks.type_names.size()) {
    throw std::invalid_argument("a blueprint for every task type");
  }
  for (const Blueprint* blueprint : blueprints_) {
    if (blueprint->steps.size() > 255) {
      throw std::invalid_argument("a blueprint has at most 255 steps");
    }
  }
  if (options_.max_fetches == 0) throw std::invalid_argument("max_fetches must be at least 1");
}

Runner::Runner(const TaskList& tasks, const Blueprint& blueprint, RunnerOptions options,
               HttpClient& http, Clock& clock, RunSink& sink)
    : Runner(tasks, std::vector<const Blueprint*>{&blueprint}, std::move(options), http, clock,
             sink) {}

void Runner::Start(std::function<void()> on_finished) {
  on_finished_ = std::move(on_finished);
  if (finished()) {
    std::exchange(on_finished_, nullptr)();
    return;
  }
  for (TaskIndex index = 0; index < states_.size() && !cancelled_; ++index) Advance(index);
  StartFetches();
  ArmWake();
}

void Runner::Cancel() {
  if (cancelled_ || finished()) return;
  cancelled_ = true;
  http_.CancelAll();
  clock_.CancelWake();
  wake_at_.reset();
  in_flight_ = 0;
  queued_.clear();
  waiting_.Clear();
  for (TaskIndex index = 0; index < states_.size(); ++index) {
    if (states_[index].phase != Phase::kDone) {
      Finish(index, Outcome::Failed(std::string(kCancelledReason)));
    }
  }
}

const Blueprint& Runner::BlueprintOf(TaskIndex index) const {
  return *blueprints_[tasks_.tasks[index].type];
}

const Step& Runner::CurrentStep(TaskIndex index) const {
  return BlueprintOf(index).steps[states_[index].step];
}

// Runs the task's steps from its current one until a step has to wait or the task ends.
void Runner::Advance(TaskIndex index) {
  TaskState& state = states_[index];
  const Blueprint& blueprint = BlueprintOf(index);
  const Task& task = tasks_.tasks[index];
  while (!cancelled_) {
    if (state.step == blueprint.steps.size()) {
      Finish(index, Outcome::Completed());
      return;
    }
    const Step& step = CurrentStep(index);
    if (std::holds_alternative<FetchStep>(step.action)) {
      state.phase = Phase::kQueued;
      queued_.push_back(index);
      return;
    }
    if (const auto* delay = std::get_if<DelayStep>(&step.action)) {
      Duration duration = delay->duration;
      if (delay->column) {
        // The reader checked the value, so it parses.
        const TaskValues values(tasks_, task, blueprint);
        duration = ParseDuration(values(*delay->column).text).value_or(Duration(0));
      }
      state.phase = Phase::kWaiting;
      waiting_.Push(clock_.Now(), duration, index);
      return;
    }
    const auto& emit = std::get<EmitStep>(step.action);
    if (emit.text) {
      line_.clear();
      std::string error;
      const TaskValues values(tasks_, task, blueprint);
      if (!emit.text->ExpandTo(line_, std::cref(values), error)) {
        Fail(index, std::move(error));
        return;
      }
    }
    sink_.Event(task, tasks_.TypeName(task), step.name,
                emit.text ? std::string_view(line_) : std::string_view());
    ++state.step;
  }
}

// Admission: hands queued fetches to the client while there are free slots.
void Runner::StartFetches() {
  while (!cancelled_ && in_flight_ < options_.max_fetches && !queued_.empty()) {
    const TaskIndex index = queued_.front();
    queued_.pop_front();
    std::optional<FetchRequest> request =
        RequestFor(index, std::get<FetchStep>(CurrentStep(index).action));
    if (!request) continue;  // the task failed: its request could not be filled in
    states_[index].phase = Phase::kFetching;
    ++in_flight_;
    http_.Fetch(std::move(*request),
                [this, index](const FetchResult& result) { OnFetchDone(index, result); });
  }
}

void Runner::OnFetchDone(TaskIndex index, const FetchResult& result) {
  if (cancelled_) return;
  --in_flight_;
  TaskState& state = states_[index];
  if (result.ok()) {
    state.attempts = 0;
    ++state.step;
    Advance(index);
  } else {
    ++state.attempts;
    const double random01 = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
    const auto& fetch = std::get<FetchStep>(CurrentStep(index).action);
    const RetryDecision decision = fetch.retry.Decide(state.attempts, result, random01);
    if (decision.retry) {
      state.phase = Phase::kWaiting;
      waiting_.Push(clock_.Now(), decision.delay, index);
    } else {
      Fail(index, FailureReason(result, state.attempts, decision.note));
    }
  }
  StartFetches();
  ArmWake();
}

void Runner::OnWake() {
  wake_at_.reset();
  const Clock::TimePoint now = clock_.Now();
  while (!cancelled_) {
    const std::optional<TaskIndex> index = waiting_.PopDue(now);
    if (!index) break;
    if (std::holds_alternative<FetchStep>(CurrentStep(*index).action)) {
      // A retry's backoff is over. It goes to the front: it has waited its turn once.
      states_[*index].phase = Phase::kQueued;
      queued_.push_front(*index);
    } else {
      ++states_[*index].step;  // the delay is over
      Advance(*index);
    }
  }
  StartFetches();
  ArmWake();
}

// Keeps the clock's one wake-up at or before the earliest deadline.
void Runner::ArmWake() {
  if (cancelled_) return;
  const std::optional<Clock::TimePoint> earliest = waiting_.Earliest();
  if (!earliest) return;
  if (wake_at_ && *wake_at_ <= *earliest) return;
  wake_at_ = *earliest;
  clock_.WakeAt(*earliest, [this] { OnWake(); });
}

// Fills the step's request in for the task, when it is about to be sent. A value that cannot
// go where its template puts it fails the task. The values go by reference (std::cref): a
// std::function holds that without allocating, once per template and request.
std::optional<FetchRequest> Runner::RequestFor(TaskIndex index, const FetchStep& fetch) {
  const TaskValues values(tasks_, tasks_.tasks[index], BlueprintOf(index));
  FetchRequest request{.url = {},
                       .timeout = fetch.timeout,
                       .connect_timeout = fetch.connect_timeout,
                       .method = fetch.method,
                       .headers = {},
                       .body = std::nullopt,
                       .expect = fetch.expect,
                       .max_body = fetch.max_body};
  std::string error;
  bool filled = fetch.url.ExpandTo(request.url, std::cref(values), error);
  for (std::size_t h = 0; filled && h < fetch.headers.size(); ++h) {
    request.headers.emplace_back(fetch.headers[h].name, std::string());
    filled =
        fetch.headers[h].value.ExpandTo(request.headers.back().second, std::cref(values), error);
  }
  if (filled && fetch.body) {
    request.body.emplace();
    filled = fetch.body->ExpandTo(*request.body, std::cref(values), error);
  }
  if (!filled) {
    Fail(index, std::move(error));
    return std::nullopt;
  }
  // A URL whose shape comes from the row (`{base:raw}/items`) is checked as it is sent.
  if (fetch.url.has_placeholders()) {
    if (std::optional<std::string> problem = CheckFetchUrl(request.url)) {
      Fail(index, "URL " + *problem);
      return std::nullopt;
    }
  }
  return request;
}

// A failed step ends its task; with a blueprint file the reason names the step.
void Runner::Fail(TaskIndex index, std::string reason) {
  const Blueprint& blueprint = BlueprintOf(index);
  if (blueprint.step_names_in_errors) reason = CurrentStep(index).name + ": " + reason;
  Finish(index, Outcome::Failed(std::move(reason)));
}

void Runner::Finish(TaskIndex index, const Outcome& outcome) {
  states_[index].phase = Phase::kDone;
  ++finished_;
  sink_.Result(tasks_.tasks[index], outcome);
  if (finished() && on_finished_) {
    // Moved out first: the sink may have cancelled the run, which finishes it re-entrantly.
    const auto on_finished = std::exchange(on_finished_, nullptr);
    on_finished();
  }
}

}  // namespace orchestrator
