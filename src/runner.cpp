#include "orchestrator/runner.h"

#include <fmt/format.h>
#include <algorithm>
#include <functional>
#include <stdexcept>
#include <utility>

#include "orchestrator/fill_request.h"
#include "orchestrator/overloaded.h"
#include "orchestrator/webhook.h"

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

bool HasCaptures(const Blueprint& blueprint) {
  return std::any_of(blueprint.steps.begin(), blueprint.steps.end(), [](const Step& step) {
    const auto* fetch = std::get_if<FetchStep>(&step.action);
    return fetch != nullptr && !fetch->captures.empty();
  });
}

bool HasWebhooks(const Blueprint& blueprint) {
  return !blueprint.on_start.empty() || !blueprint.on_success.empty() ||
         !blueprint.on_failure.empty();
}

// A steady-clock moment as calendar time, by way of the clock's present.
WebhookRecord::WallTime WallTimeOf(const Clock& clock, Clock::TimePoint moment) {
  return clock.WallNow() -
         std::chrono::duration_cast<std::chrono::system_clock::duration>(clock.Now() - moment);
}

}  // namespace

Runner::Runner(const TaskList& tasks, std::vector<const Blueprint*> blueprints,
               RunnerOptions options, HttpClient& http, Clock& clock, RunSink& sink,
               ParentEndSink* other_lists)
    : tasks_(tasks),
      blueprints_(std::move(blueprints)),
      options_(std::move(options)),
      http_(http),
      clock_(clock),
      sink_(sink),
      other_lists_(other_lists),
      states_(tasks.tasks.size()),
      webhooks_(
          http, clock, [this](const WebhookDelivery& delivery) { return PrepareWebhook(delivery); },
          [this](const WebhookProgress& progress) { OnWebhookDone(progress); },
          options_.seed ^ 0x9e3779b97f4a7c15u),
      window_(options_.max_fetches, options_.adapt_to_load),
      waiting_(DelayDurations(blueprints_)),
      retries_(options_.seed) {
  if (blueprints_.size() == 1) blueprints_.resize(tasks.type_names.size(), blueprints_[0]);
  if (blueprints_.size() < tasks.type_names.size()) {
    throw std::invalid_argument("a blueprint for every task type");
  }
  bool has_captures = false;
  for (const Blueprint* blueprint : blueprints_) {
    if (blueprint->steps.size() > 255) {
      throw std::invalid_argument("a blueprint has at most 255 steps");
    }
    for (const WebhookEvent event :
         {WebhookEvent::kStart, WebhookEvent::kSuccess, WebhookEvent::kFailure}) {
      if (WebhooksOf(*blueprint, event).size() > kMaxWebhooksPerEvent) {
        throw std::invalid_argument("too many webhooks for one event");
      }
    }
    has_webhooks_ = has_webhooks_ || HasWebhooks(*blueprint);
    has_captures = has_captures || HasCaptures(*blueprint);
    passes_dependency_values_ = passes_dependency_values_ || blueprint->uses_dependency_values;
  }
  if (has_captures) {
    captures_ = CaptureStore(tasks.tasks.size());
    for (const Blueprint* blueprint : blueprints_) {
      for (const Step& step : blueprint->steps) {
        const auto* fetch = std::get_if<FetchStep>(&step.action);
        if (fetch == nullptr) continue;
        for (const Capture& capture : fetch->captures) {
          if (capture.column >= capture_names_.size()) capture_names_.resize(capture.column + 1);
          capture_names_[capture.column] = capture.name;
        }
      }
    }
  }
  if (options_.max_fetches == 0) throw std::invalid_argument("max_fetches must be at least 1");
  RunRates& rates =
      options_.rates != nullptr ? *options_.rates : own_rates_.emplace(std::nullopt, blueprints_);
  rate_ = rates.overall();
  // A blueprint with a rate of its own gets a lane of the fetch queue; the types it serves
  // share it.
  std::vector<RateLimiter*> lane_rates;
  lane_of_type_.assign(blueprints_.size(), 0);
  for (std::size_t type = 0; type < blueprints_.size(); ++type) {
    RateLimiter* rate = rates.of_type(type);
    if (rate == nullptr) continue;
    auto found = std::find(lane_rates.begin(), lane_rates.end(), rate);
    if (found == lane_rates.end()) found = lane_rates.insert(lane_rates.end(), rate);
    lane_of_type_[type] = 1 + static_cast<std::size_t>(found - lane_rates.begin());
  }
  queued_ = FetchQueue(std::move(lane_rates));
  if (options_.limits != nullptr && !options_.limits->empty()) limits_ = options_.limits;
  if (has_webhooks_) times_.resize(tasks.tasks.size());
  stats_.fetch_seconds.resize(tasks.type_names.size());
  stats_.retries_by_type.resize(tasks.type_names.size());
  stats_.phases[static_cast<std::size_t>(Phase::kReady)] = tasks.tasks.size();
  if (passes_dependency_values_ && options_.carried != nullptr) {
    for (TaskIndex index = 0; index < tasks.tasks.size(); ++index) {
      const auto carried = options_.carried->find(tasks.tasks[index].id);
      if (carried == options_.carried->end()) continue;
      for (const CarriedParent& carried_parent : carried->second) {
        dependency_values_.Add(index, carried_parent.rank, carried_parent.parent,
                               carried_parent.values);
      }
    }
  }
  if (!tasks_.graph.empty()) {
    if (tasks_.deal.lists > 1 && other_lists_ == nullptr) {
      throw std::invalid_argument("a list dealt from a graph needs the other lists");
    }
    parents_left_.resize(tasks.tasks.size());
    for (TaskIndex index = 0; index < states_.size(); ++index) {
      parents_left_[index] = tasks_.graph.ParentCount(tasks_.deal.WholeIndex(index));
      if (parents_left_[index] > 0) SetPhase(index, Phase::kBlocked);
    }
  }
}

Runner::Runner(const TaskList& tasks, const Blueprint& blueprint, RunnerOptions options,
               HttpClient& http, Clock& clock, RunSink& sink, ParentEndSink* other_lists)
    : Runner(tasks, std::vector<const Blueprint*>{&blueprint}, std::move(options), http, clock,
             sink, other_lists) {}

template <typename Fill>
void Runner::Note(TaskIndex index, TaskEventKind kind, Fill&& fill) {
  if (events_ == nullptr) return;
  TaskEvent event{.task = tasks_.tasks[index], .at = clock_.Now(), .kind = kind};
  fill(event);
  events_->OnTaskEvent(event);
}

void Runner::Note(TaskIndex index, TaskEventKind kind) {
  Note(index, kind, [](TaskEvent&) {});
}

void Runner::Start(std::function<void()> on_finished) {
  on_finished_ = std::move(on_finished);
  for (TaskIndex index = 0; events_ != nullptr && index < states_.size(); ++index) {
    if (states_[index].phase == Phase::kBlocked) {
      Note(index, TaskEventKind::kBlocked,
           [](TaskEvent& event) { event.blocker = Blocker::kDependencies; });
    }
  }
  if (finished()) {
    std::exchange(on_finished_, nullptr)();
    return;
  }
  // A task whose parents all ended at once (emit steps, failures) was started by the last
  // of them already: only those still kReady start here. With pools, the tasks ask for their
  // places a chunk at a time (AdmitAtOnce).
  constexpr TaskIndex kChunk = 1024;
  const auto count = static_cast<TaskIndex>(states_.size());
  for (TaskIndex first = 0; first < count && !cancelled_;
       first += std::min(kChunk, count - first)) {
    const TaskIndex end = first + std::min(kChunk, count - first);
    if (limits_ && !HaltNoticed()) AdmitAtOnce(first, end);
    for (TaskIndex index = first; index < end && !cancelled_; ++index) {
      if (states_[index].phase == Phase::kReady) Advance(index);
    }
  }
  StartFetches();
  ArmWake();
}

// The ready tasks of [first, end) take their places in the pools, or their places in the
// lines, under one lock: every runner asks for all its tasks at the start, and one lock a
// task would have the threads queue on it.
void Runner::AdmitAtOnce(TaskIndex first, TaskIndex end) {
  admitting_.clear();
  for (TaskIndex index = first; index < end; ++index) {
    const TaskState& state = states_[index];
    if (state.phase == Phase::kReady && !state.admitted) admitting_.push_back(index);
  }
  limits_->TryEnterEach(tasks_, admitting_, *admissions_, entered_);
  for (std::size_t i = 0; i < admitting_.size(); ++i) {
    if (entered_[i]) {
      states_[admitting_[i]].admitted = true;
    } else {
      Pooled(admitting_[i]);
    }
  }
}

// A pool is full: the task waits in its line.
void Runner::Pooled(TaskIndex index) {
  SetPhase(index, Phase::kPooled);
  Note(index, TaskEventKind::kBlocked, [](TaskEvent& event) { event.blocker = Blocker::kPool; });
}

void Runner::ParentsEnded(std::span<const ParentEnd> news, std::span<ParentValues> values) {
  for (ParentValues& one : values) TakeParentValues(std::move(one));
  for (const ParentEnd& one : news) {
    if (cancelled_ || halted_) return;  // every task without a row got one
    ReleaseChild(one);
  }
  StartFetches();
  ArmWake();
}

void Runner::Cancel() {
  if (cancelled_ || finished()) return;
  cancelled_ = true;
  if (limits_) limits_->Withdraw(*admissions_);  // its tasks in the lines get their rows here
  http_.CancelAll();
  clock_.CancelWake();
  wake_at_.reset();
  in_flight_ = 0;
  queued_.Clear();
  waiting_.Clear();
  webhooks_.Clear();
  for (TaskIndex index = 0; index < states_.size(); ++index) {
    switch (states_[index].phase) {
      case Phase::kDone:
        break;
      case Phase::kEnding: {
        // Its steps are over: its row says how they ended, webhooks sent or not.
        const auto ending = ending_.find(index);
        SendRow(index, ending->second.outcome);
        break;
      }
      default:
        SendRow(index, UnrunOutcome(index, Outcome::Cancelled()));
    }
  }
  ending_.clear();
  failed_parent_.clear();
}

void Runner::Halt(bool stop_running, std::uint64_t failures) {
  if (cancelled_ || finished()) return;
  if (!halted_) {
    halted_ = true;
    if (limits_) limits_->Withdraw(*admissions_);  // its tasks in the lines get their rows here
    // Queued fetches of started tasks (retries) stay; the others will never start.
    queued_.EraseIf([this](TaskIndex index) { return !states_[index].started; });
    const Outcome unstarted = Outcome::Halted(failures);
    for (TaskIndex index = 0; index < states_.size() && !cancelled_; ++index) {
      const TaskState& state = states_[index];
      if (state.phase != Phase::kDone && !state.started) {
        SendRow(index, UnrunOutcome(index, unstarted));
      }
    }
    failed_parent_.clear();
  }
  if (stop_running) Cancel();
}

// Whether the run has halted (a row here or on another thread tripped the switch): if so the
// runner halts its own tasks first, as Halt says, so that nothing unstarted starts.
bool Runner::HaltNoticed() {
  if (options_.halt == nullptr || !options_.halt->tripped()) return false;
  if (!halted_) Halt(options_.halt->stops_running(), options_.halt->failures());
  return true;
}

void Runner::SetPhase(TaskIndex index, Phase phase) {
  Phase& now = states_[index].phase;
  --stats_.phases[static_cast<std::size_t>(now)];
  ++stats_.phases[static_cast<std::size_t>(phase)];
  now = phase;
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
  if (!state.started && HaltNoticed()) return;  // it has its row: not started
  if (limits_ && !state.admitted) {
    if (!limits_->TryEnter(tasks_, index, *admissions_)) {
      Pooled(index);
      return;
    }
    state.admitted = true;
  }
  const Blueprint& blueprint = BlueprintOf(index);
  if (!state.started && !blueprint.dependency_columns.empty()) {
    if (std::optional<std::string> problem = DependencyValueProblem(index)) {
      SendRow(index, Outcome::Failed(std::move(*problem)));  // before it sends anything
      return;
    }
  }
  while (!cancelled_) {
    if (state.step == blueprint.steps.size()) {
      Finish(index, Outcome::Completed());
      return;
    }
    const bool next_step_now =
        std::visit(Overloaded{[&](const FetchStep&) { return QueueFetch(index); },
                              [&](const DelayStep& delay) { return StartDelay(index, delay); },
                              [&](const EmitStep& emit) { return Emit(index, emit); }},
                   CurrentStep(index).action);
    if (!next_step_now) return;
  }
}

// A fetch waits for its slot: the task begins when it gets one (StartFetches).
bool Runner::QueueFetch(TaskIndex index) {
  SetPhase(index, Phase::kQueued);
  Note(index, TaskEventKind::kQueued);
  queued_.PushBack(index, lane_of_type_[tasks_.tasks[index].type]);
  return false;
}

// A step that needs no fetch slot begins at once, and the task with it.
void Runner::BeginStep(TaskIndex index) {
  Begin(index);
  Note(index, TaskEventKind::kStepStarted,
       [&](TaskEvent& event) { event.step = states_[index].step; });
}

bool Runner::StartDelay(TaskIndex index, const DelayStep& delay) {
  BeginStep(index);
  const Duration duration = DelayOf(index, delay);
  if (duration > Duration(0)) {
    SetPhase(index, Phase::kWaiting);
    waiting_.Push(clock_.Now(), duration, index);
    return false;
  }
  // Nothing to wait for: a wake-up would cost a tick of the clock's grid (10 ms) per task,
  // which a chain of tasks pays once per link.
  Note(index, TaskEventKind::kStepFinished,
       [&](TaskEvent& event) { event.step = states_[index].step; });
  ++states_[index].step;
  return true;
}

bool Runner::Emit(TaskIndex index, const EmitStep& emit) {
  BeginStep(index);
  const Task& task = tasks_.tasks[index];
  if (emit.text) {
    line_.clear();
    std::string error;
    const TaskValues values = ValuesOf(index);
    if (!emit.text->ExpandTo(line_, std::cref(values), error)) {
      Fail(index, std::move(error));
      return false;
    }
  }
  sink_.Event(task, tasks_.TypeName(task), CurrentStep(index).name,
              emit.text ? std::string_view(line_) : std::string_view());
  Note(index, TaskEventKind::kStepFinished,
       [&](TaskEvent& event) { event.step = states_[index].step; });
  ++states_[index].step;
  return true;
}

// How long `delay`, the task's current step, waits: its own length, or its row's value.
Duration Runner::DelayOf(TaskIndex index, const DelayStep& delay) const {
  if (!delay.column) return delay.duration;
  // The reader checked the value, so it parses.
  const TaskValues values = ValuesOf(index);
  return ParseDuration(values(*delay.column).text).value_or(Duration(0));
}

// The task's current step, which is a fetch: it is queued for one, or has one in flight.
const FetchStep& Runner::CurrentFetch(TaskIndex index) const {
  return std::get<FetchStep>(CurrentStep(index).action);
}

// The task's first step begins: its on_start webhooks go out.
void Runner::Begin(TaskIndex index) {
  TaskState& state = states_[index];
  if (state.started) return;
  state.started = true;
  Note(index, TaskEventKind::kStarted);
  if (!has_webhooks_) return;
  times_[index].started = clock_.Now();
  SendWebhooks(index, WebhookEvent::kStart);
}

void Runner::OnLoopLoad(LoopLoad load) {
  if (cancelled_ || finished()) return;
  const bool waiting = webhooks_.has_queued() || !queued_.empty();
  if (window_.Observe(load, fetches_in_flight(), waiting)) {
    StartFetches();
    ArmWake();
  }
}

// Admission: hands queued webhooks, then queued fetches, to the client while there are free
// slots. Webhooks go first: a task's row waits for its webhooks.
void Runner::StartFetches() {
  rate_wake_.reset();
  while (!cancelled_ && fetches_in_flight() < window_.limit()) {
    if (!webhooks_.has_queued() && queued_.empty()) break;
    const Clock::TimePoint now = clock_.Now();
    if (rate_ != nullptr) {
      if (const Clock::TimePoint next = rate_->NextStart(now); next > now) {
        rate_wake_ = next;  // ArmWake sets the clock for it
        break;
      }
    }
    // --rate is the whole run's: a start it allowed a moment ago may have gone to another
    // thread, and then the loop looks again (and waits).
    if (webhooks_.has_queued()) {
      if (rate_ != nullptr && !rate_->TryStart(now)) continue;
      if (std::optional<WebhookProgress> unsent = webhooks_.SendNext()) Settle(*unsent);
      continue;
    }
    std::optional<Clock::TimePoint> lane_wake;
    const std::optional<TaskIndex> next = queued_.Pop(now, lane_wake);
    if (!next) {
      rate_wake_ = lane_wake;  // every lane with tasks waits for its rate
      break;
    }
    const TaskIndex index = *next;
    if (rate_ != nullptr && !rate_->TryStart(now)) {
      queued_.PushFront(index, lane_of_type_[tasks_.tasks[index].type]);
      continue;
    }
    if (!states_[index].started && HaltNoticed()) continue;  // it has its row: not started
    Begin(index);
    FetchRequest request;
    std::string error;
    const TaskValues values = ValuesOf(index);
    if (!FillRequest(CurrentFetch(index), values, request, error)) {
      Fail(index, std::move(error));
      continue;
    }
    SetPhase(index, Phase::kFetching);
    Note(index, TaskEventKind::kStepStarted, [&](TaskEvent& event) {
      event.step = states_[index].step;
      event.attempt = static_cast<std::uint16_t>(states_[index].attempts + 1);
    });
    if (has_webhooks_) ++times_[index].attempts;
    ++in_flight_;
    http_.Fetch(std::move(request),
                [this, index, now](const FetchResult& result) { OnFetchDone(index, result, now); });
  }
}

void Runner::OnFetchDone(TaskIndex index, const FetchResult& result, Clock::TimePoint begun) {
  if (cancelled_) return;
  --in_flight_;
  TaskState& state = states_[index];
  const auto took = clock_.Now() - begun;
  stats_.fetch_seconds[tasks_.tasks[index].type].Add(std::chrono::duration<double>(took).count());
  Note(index, TaskEventKind::kStepFinished, [&](TaskEvent& event) {
    event.step = state.step;
    event.attempt = static_cast<std::uint16_t>(state.attempts + 1);
    event.micros = std::chrono::duration_cast<std::chrono::microseconds>(took).count();
    event.http_status = static_cast<std::uint16_t>(std::clamp(result.http_status, 0, 599));
    event.failure = result.failure;
  });
  ++stats_.responses[static_cast<std::size_t>(std::clamp(result.http_status, 0, 599))];
  if (result.ok()) {
    state.attempts = 0;
    if (const FetchStep& fetch = CurrentFetch(index); !fetch.captures.empty()) {
      captured_.clear();
      std::optional<std::string> missing =
          TakeCaptures(fetch.captures, fetch.keep, result, captured_);
      captures_.Add(index, captured_);  // with a missing one, the others stand in its row
      if (missing) {
        Fail(index, std::move(*missing));
        StartFetches();
        ArmWake();
        return;
      }
    }
    ++state.step;
    Advance(index);
  } else {
    ++state.attempts;
    const AfterFailure decision =
        retries_.Decide(CurrentFetch(index).retry, state.attempts, result);
    if (decision.retry) {
      ++stats_.retries[static_cast<std::size_t>(result.failure)];
      ++stats_.retries_by_type[tasks_.tasks[index].type];
      Note(index, TaskEventKind::kRetry, [&](TaskEvent& event) {
        event.step = state.step;
        event.attempt = state.attempts;
        event.micros =
            std::chrono::duration_cast<std::chrono::microseconds>(decision.delay).count();
        event.http_status = static_cast<std::uint16_t>(std::clamp(result.http_status, 0, 599));
        event.failure = result.failure;
      });
      SetPhase(index, Phase::kWaiting);
      waiting_.Push(clock_.Now(), decision.delay, index);
    } else {
      Fail(index, decision.reason);
    }
  }
  StartFetches();
  ArmWake();
}

void Runner::OnWake() {
  wake_at_.reset();
  const Clock::TimePoint now = clock_.Now();
  webhooks_.WakeDue(now);
  while (!cancelled_) {
    const std::optional<TaskIndex> index = waiting_.PopDue(now);
    if (!index) break;
    std::visit(Overloaded{[&](const FetchStep&) { RetryDue(*index); },
                          [&](const DelayStep& delay) { DelayOver(*index, delay); },
                          [](const EmitStep&) {
                            throw std::logic_error("a task waited in an emit step");
                          }},
               CurrentStep(*index).action);
  }
  StartFetches();
  ArmWake();
}

// A retry's backoff is over. It goes to the front: it has waited its turn once.
void Runner::RetryDue(TaskIndex index) {
  SetPhase(index, Phase::kQueued);
  Note(index, TaskEventKind::kQueued);
  queued_.PushFront(index, lane_of_type_[tasks_.tasks[index].type]);
}

void Runner::DelayOver(TaskIndex index, const DelayStep& delay) {
  Note(index, TaskEventKind::kStepFinished, [&](TaskEvent& event) {
    event.step = states_[index].step;
    event.micros =
        std::chrono::duration_cast<std::chrono::microseconds>(DelayOf(index, delay)).count();
  });
  ++states_[index].step;
  Advance(index);
}

// Keeps the clock's one wake-up at or before the earliest deadline: a task's, a webhook's, or
// the next start --rate allows.
void Runner::ArmWake() {
  if (cancelled_) return;
  std::optional<Clock::TimePoint> earliest = waiting_.Earliest();
  for (const std::optional<Clock::TimePoint>& other : {webhooks_.Earliest(), rate_wake_}) {
    if (other) earliest = earliest ? std::min(*earliest, *other) : *other;
  }
  if (!earliest) return;
  if (wake_at_ && *wake_at_ <= *earliest) return;
  wake_at_ = *earliest;
  clock_.WakeAt(*earliest, [this] { OnWake(); });
}

// A failed step ends its task; with a blueprint file the reason names the step.
void Runner::Fail(TaskIndex index, std::string reason) {
  const Blueprint& blueprint = BlueprintOf(index);
  if (blueprint.step_names_in_errors) reason = CurrentStep(index).name + ": " + reason;
  Finish(index, Outcome::Failed(std::move(reason)));
}

// The task's steps are over. Its row waits for its webhooks: those of its start still out,
// then those of its end.
void Runner::Finish(TaskIndex index, Outcome outcome) {
  TaskState& state = states_[index];
  outcome.captured = captures_.Take(index);  // for its end webhooks too
  const WebhookEvent end =
      outcome.status() == FinalStatus::kCompleted ? WebhookEvent::kSuccess : WebhookEvent::kFailure;
  if (state.webhooks_out == 0 && WebhooksOf(BlueprintOf(index), end).empty()) {
    SendRow(index, outcome);
    return;
  }
  SetPhase(index, Phase::kEnding);
  ending_.emplace(index, Ending{.outcome = std::move(outcome), .finished = clock_.Now()});
  if (state.webhooks_out == 0) SendEndWebhooks(index);
}

void Runner::SendEndWebhooks(TaskIndex index) {
  TaskState& state = states_[index];
  state.end_webhooks_sent = true;
  const auto ending = ending_.find(index);
  SendWebhooks(index, ending->second.outcome.status() == FinalStatus::kCompleted
                          ? WebhookEvent::kSuccess
                          : WebhookEvent::kFailure);
  if (state.webhooks_out == 0) {
    const Outcome outcome = std::move(ending->second.outcome);
    ending_.erase(ending);
    SendRow(index, outcome);
  }
}

void Runner::SendWebhooks(TaskIndex index, WebhookEvent event) {
  const std::vector<FetchStep>& hooks = WebhooksOf(BlueprintOf(index), event);
  for (std::size_t hook = 0; hook < hooks.size(); ++hook) {
    webhooks_.Post(
        {.task = index, .event = event, .hook = static_cast<std::uint8_t>(hook), .attempts = 0});
    ++states_[index].webhooks_out;
  }
}

void Runner::OnWebhookDone(const WebhookProgress& progress) {
  if (cancelled_) return;
  Settle(progress);
  StartFetches();
  ArmWake();
}

// One of a task's webhooks is over, or backing off (nothing to do yet).
void Runner::Settle(const WebhookProgress& progress) {
  if (!progress.settled) return;
  const WebhookDelivery& delivery = progress.delivery;
  const TaskIndex index = delivery.task;
  TaskState& state = states_[index];
  ++(progress.failure.empty() ? stats_.webhooks_delivered : stats_.webhooks_given_up);
  Note(delivery.task, TaskEventKind::kWebhook, [&](TaskEvent& event) {
    event.hook = static_cast<std::uint8_t>(delivery.event);
    event.hook_index = delivery.hook;
    event.given_up = !progress.failure.empty();
  });
  if (!progress.failure.empty()) {
    const std::size_t hooks = WebhooksOf(BlueprintOf(index), delivery.event).size();
    const std::string webhook =
        hooks == 1 ? fmt::format("{} webhook", KeyOf(delivery.event))
                   : fmt::format("{} webhook {}", KeyOf(delivery.event), delivery.hook + 1);
    sink_.WebhookGaveUp(tasks_.tasks[index], webhook, progress.failure);
  }
  --state.webhooks_out;
  if (state.webhooks_out > 0 || state.phase != Phase::kEnding) return;
  if (!state.end_webhooks_sent) {
    SendEndWebhooks(index);
    return;
  }
  const auto ending = ending_.find(index);
  const Outcome outcome = std::move(ending->second.outcome);
  ending_.erase(ending);
  SendRow(index, outcome);
}

// A webhook's request, filled in as it is sent, with the task's record as its body.
std::variant<WebhookQueue::Prepared, std::string> Runner::PrepareWebhook(
    const WebhookDelivery& delivery) const {
  const TaskIndex index = delivery.task;
  const Task& task = tasks_.tasks[index];
  const Blueprint& blueprint = BlueprintOf(index);
  const FetchStep& hook = WebhooksOf(blueprint, delivery.event)[delivery.hook];
  WebhookRecord record{.task_id = task.id,
                       .task_type = tasks_.TypeName(task),
                       .event = delivery.event,
                       .outcome = nullptr,
                       .attempts = times_[index].attempts,
                       .started_at = WallTimeOf(clock_, times_[index].started),
                       .finished_at = std::nullopt,
                       .capture_names = capture_names_};
  if (delivery.event != WebhookEvent::kStart) {
    const Ending& ending = ending_.at(index);
    record.outcome = &ending.outcome;
    record.finished_at = WallTimeOf(clock_, ending.finished);
  }
  WebhookQueue::Prepared prepared{.request = {}, .retry = &hook.retry};
  std::string error;
  const TaskValues values(tasks_, task, blueprint);
  if (!MakeWebhookRequest(hook, values, WebhookBody(record), prepared.request, error)) {
    return error;
  }
  return prepared;
}

// The task has its row: it goes to the sink, and the pools and children hear of it.
void Runner::SendRow(TaskIndex index, const Outcome& outcome) {
  SetPhase(index, Phase::kDone);
  ++finished_;
  // --halt counts the row before it leaves: once it trips, no task starts on any thread.
  const bool trips = options_.halt != nullptr && !cancelled_ && options_.halt->Count(outcome);
  std::optional<Outcome> with_values;
  if (CapturedValues captured = captures_.Take(index); !captured.empty()) {
    with_values.emplace(outcome);
    with_values->captured = std::move(captured);
  }
  const Outcome& row = with_values ? *with_values : outcome;
  sink_.Result(tasks_.tasks[index], row);
  if (passes_dependency_values_) dependency_values_.Forget(index);
  if (trips) {
    Halt(options_.halt->stops_running(), options_.halt->failures());
  } else if ((!parents_left_.empty() || limits_) && !cancelled_ && !halted_) {
    // After a halt every task not started has its row already.
    AfterRow(index, outcome.status(), passes_dependency_values_ ? row.captured : CapturedValues());
  }
  if (finished() && on_finished_) {
    // Moved out first: the sink may have cancelled the run, which finishes it re-entrantly.
    const auto on_finished = std::exchange(on_finished_, nullptr);
    on_finished();
  }
}

// A task has its row: its places in the pools go to tasks waiting for them, and its children
// wait for one parent less. Those may end at once (emit steps only, a failed dependency), and
// what follows their rows is done by this same loop, further up the stack.
void Runner::AfterRow(TaskIndex index, FinalStatus status, const CapturedValues& values) {
  after_row_.push_back({index, status, values});
  if (in_after_row_) return;
  in_after_row_ = true;
  while (!after_row_.empty() && !cancelled_ && !halted_) {
    const RowWritten done = std::move(after_row_.back());
    after_row_.pop_back();
    if (limits_) FreePlaces(done.index);
    if (!parents_left_.empty()) ReleaseChildren(done.index, done.status, done.values);
  }
  after_row_.clear();
  in_after_row_ = false;
}

void Runner::FreePlaces(TaskIndex index) {
  if (!states_[index].admitted) return;
  states_[index].admitted = false;
  limits_->Leave(tasks_, index);  // may start tasks of ours here (Admitted)
}

void Runner::Admitted(TaskIndex task) {
  TaskState& state = states_[task];
  state.admitted = true;
  if (state.phase != Phase::kPooled) {
    // It got its row (a halt, a cancel) while its places were on their way from another
    // thread: they go back.
    FreePlaces(task);
    return;
  }
  SetPhase(task, Phase::kReady);
  Note(task, TaskEventKind::kReleased, [](TaskEvent& event) { event.blocker = Blocker::kPool; });
  Advance(task);
  // Told from our own FreePlaces, the handler that freed the place starts the fetches;
  // told from another thread's, this is the handler.
  if (!in_after_row_) {
    StartFetches();
    ArmWake();
  }
}

// `done` has its row: each child waits for one parent less, and a child that needed it to
// complete fails without running. Children on other lists hear of it through their runners.
void Runner::ReleaseChildren(TaskIndex done, FinalStatus done_status,
                             const CapturedValues& values) {
  const Deal& deal = tasks_.deal;
  const TaskId parent = tasks_.tasks[done].id;
  const bool completed = done_status == FinalStatus::kCompleted;
  tasks_.graph.ForEachChild(deal.WholeIndex(done), [&](const Dependent& dependent) {
    const ParentEnd news{.parent = parent,
                         .child = deal.OwnIndex(dependent.child),
                         .kind = dependent.kind,
                         .completed = completed};
    // Its values first: a child released by the news may run at once.
    ParentValues captured{
        .child = news.child, .rank = dependent.rank, .parent = parent, .values = {}};
    if (const std::uint32_t list = deal.ListOf(dependent.child); list != deal.list) {
      if (passes_dependency_values_) {
        captured.values = values;
        other_lists_->ParentCaptured(list, std::move(captured));
      }
      other_lists_->ParentEnded(list, news);
    } else {
      if (passes_dependency_values_) {
        captured.values = values;
        TakeParentValues(std::move(captured));
      }
      ReleaseChild(news);
    }
  });
}

// What a parent captured, for a child whose templates name dependencies' values and that
// still waits.
void Runner::TakeParentValues(ParentValues values) {
  if (!BlueprintOf(values.child).uses_dependency_values) return;
  if (states_[values.child].phase != Phase::kBlocked) return;
  dependency_values_.Add(values.child, values.rank, values.parent, std::move(values.values));
}

std::optional<std::string> Runner::DependencyValueProblem(TaskIndex index) const {
  std::string problem;
  for (const Blueprint::DependencyColumn& used : BlueprintOf(index).dependency_columns) {
    if (!dependency_values_.One(index, used.column, used.name, problem)) return problem;
  }
  return std::nullopt;
}

TaskValues Runner::ValuesOf(TaskIndex index) const {
  return TaskValues(tasks_, tasks_.tasks[index], BlueprintOf(index), &captures_, index,
                    passes_dependency_values_ ? &dependency_values_ : nullptr);
}

void Runner::ReleaseChild(const ParentEnd& news) {
  const TaskIndex child = news.child;
  TaskState& state = states_[child];
  if (state.phase != Phase::kBlocked || cancelled_) return;
  if (news.kind == Dependency::kSuccess && !news.completed) {
    const auto [failed, first] = failed_parent_.try_emplace(child, news.parent);
    if (!first) failed->second = std::min(failed->second, news.parent);
  }
  if (--parents_left_[child] > 0) return;
  // Its row waits for every parent's, so that which parent it names does not depend on which
  // failure a thread heard of first: the same input gives the same rows.
  if (const auto failed = failed_parent_.find(child); failed != failed_parent_.end()) {
    const TaskId parent = failed->second;
    failed_parent_.erase(failed);
    SendRow(child, Outcome::DependencyFailed(parent));
    return;
  }
  SetPhase(child, Phase::kReady);
  Note(child, TaskEventKind::kReleased,
       [](TaskEvent& event) { event.blocker = Blocker::kDependencies; });
  Advance(child);
}

// The row of a task without one when the run stops: a task a failed parent kept from running
// says so, whatever stopped the run; any other says `otherwise`.
Outcome Runner::UnrunOutcome(TaskIndex index, const Outcome& otherwise) const {
  const auto failed = failed_parent_.find(index);
  return failed == failed_parent_.end() ? otherwise : Outcome::DependencyFailed(failed->second);
}

}  // namespace orchestrator
