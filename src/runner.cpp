#include "orchestrator/runner.h"

#include <fmt/format.h>
#include <stdexcept>
#include <utility>

namespace orchestrator {
namespace {

std::vector<Duration> DelayDurations(const Blueprint& blueprint) {
  std::vector<Duration> durations;
  for (const Step& step : blueprint.steps) {
    if (const auto* delay = std::get_if<DelayStep>(&step.action)) {
      durations.push_back(delay->duration);
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

Runner::Runner(const TaskList& tasks, const Blueprint& blueprint, RunnerOptions options,
               HttpClient& http, Clock& clock, RunSink& sink)
    : tasks_(tasks),
      blueprint_(blueprint),
      options_(std::move(options)),
      http_(http),
      clock_(clock),
      sink_(sink),
      states_(tasks.tasks.size()),
      waiting_(DelayDurations(blueprint)),
      random_(options_.seed) {
  if (blueprint.steps.size() > 255)
    throw std::invalid_argument("a blueprint has at most 255 steps");
  if (options_.max_fetches == 0) throw std::invalid_argument("max_fetches must be at least 1");
}

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

const Step& Runner::CurrentStep(TaskIndex index) const {
  return blueprint_.steps[states_[index].step];
}

// Runs the task's steps from its current one until a step has to wait or the task ends.
void Runner::Advance(TaskIndex index) {
  TaskState& state = states_[index];
  while (!cancelled_) {
    if (state.step == blueprint_.steps.size()) {
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
      state.phase = Phase::kWaiting;
      waiting_.Push(clock_.Now(), delay->duration, index);
      return;
    }
    const Task& task = tasks_.tasks[index];
    sink_.Event(task, tasks_.TypeName(task), step.name);
    ++state.step;
  }
}

// Admission: hands queued fetches to the client while there are free slots.
void Runner::StartFetches() {
  while (!cancelled_ && in_flight_ < options_.max_fetches && !queued_.empty()) {
    const TaskIndex index = queued_.front();
    queued_.pop_front();
    states_[index].phase = Phase::kFetching;
    const auto& fetch = std::get<FetchStep>(CurrentStep(index).action);
    ++in_flight_;
    http_.Fetch({fetch.url, fetch.timeout, fetch.connect_timeout},
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
    const RetryDecision decision = options_.retry.Decide(state.attempts, result, random01);
    if (decision.retry) {
      state.phase = Phase::kWaiting;
      waiting_.Push(clock_.Now(), decision.delay, index);
    } else {
      Finish(index, Outcome::Failed(FailureReason(result, state.attempts, decision.note)));
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
