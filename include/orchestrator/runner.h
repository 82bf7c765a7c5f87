// Runs every task through its blueprint: admission, steps, retries, cancellation.
#ifndef ORCHESTRATOR_RUNNER_H_
#define ORCHESTRATOR_RUNNER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "orchestrator/blueprint.h"
#include "orchestrator/capture_store.h"
#include "orchestrator/clock.h"
#include "orchestrator/deadline_queue.h"
#include "orchestrator/dependency_values.h"
#include "orchestrator/fetch_queue.h"
#include "orchestrator/fetch_window.h"
#include "orchestrator/halt_switch.h"
#include "orchestrator/http_client.h"
#include "orchestrator/outcome.h"
#include "orchestrator/parent_end.h"
#include "orchestrator/rate_limiter.h"
#include "orchestrator/retry_policy.h"
#include "orchestrator/run_rates.h"
#include "orchestrator/run_stats.h"
#include "orchestrator/running_limits.h"
#include "orchestrator/task.h"
#include "orchestrator/task_event.h"
#include "orchestrator/task_values.h"
#include "orchestrator/webhook_queue.h"

namespace orchestrator {

/// Where a run's output goes.
class RunSink {
 public:
  virtual ~RunSink() = default;
  /// An emit step ran for `task`: `line` is its text filled in, or empty for the line that
  /// names the task.
  virtual void Event(const Task& task, std::string_view type_name, std::string_view step,
                     std::string_view line) = 0;
  /// `task` ended. Called exactly once for every task of the run, after its webhooks.
  virtual void Result(const Task& task, const Outcome& outcome) = 0;
  /// A webhook of `task` was given up: `webhook` names it ("on_failure webhook"), `reason`
  /// says why ("HTTP 500 Internal Server Error (after 3 attempts)"). The outcome stands.
  virtual void WebhookGaveUp(const Task& task, std::string_view webhook,
                             std::string_view reason) = 0;
};

struct RunnerOptions {
  /// Fetches in flight at once, webhooks included; the rest wait their turn.
  std::size_t max_fetches = 64;
  std::uint64_t seed = 0;  ///< Seeds the backoff jitter.
  /// --rate and the blueprints' rates, shared by every runner of the run: fetch attempts
  /// (retries and webhooks included) start at most so many a second, evenly spaced, in the
  /// whole run. Null: the blueprints' rates alone, for this runner alone.
  RunRates* rates = nullptr;
  /// --limit (and the blueprints' max_running): at most so many tasks running at once, per
  /// type or per value of a column, in the whole run; shared by every runner of the run (null:
  /// no limit). It must outlive the runner.
  RunningLimits* limits = nullptr;
  /// Fewer than `max_fetches` while the event loop lags or has no CPU to spare (FetchWindow),
  /// as OnLoopLoad reports it. Off: always `max_fetches`.
  bool adapt_to_load = false;
  /// --halt, shared by every runner of the run (null: no --halt). It must outlive the runner.
  HaltSwitch* halt = nullptr;
  /// --resume: what parents carried over captured, for their children's {dep.NAME} (null:
  /// none). Read by every runner; it must outlive them.
  const CarriedParentValues* carried = nullptr;
};

/// Drives each task through the blueprint's steps on one event loop. Knows nothing of curl or
/// Asio: it talks to an HttpClient and a Clock, so tests run it with fakes and no sleeping.
///
/// A task is a few bytes of state, not a coroutine: a million tasks waiting in their delay
/// cost a million deadline-queue entries and nothing else. Only `max_fetches` fetches are
/// handed to the HttpClient at a time; the others wait in a FetchQueue here, so the client's
/// timeouts measure the attempt itself and never time spent queueing.
///
/// The rules of a run each live in their own class, which the runner consults at one step
/// of a task's phases: RunningLimits (--limit) before a task starts, FetchQueue and
/// RateLimiter (--rate) before each fetch, the graph (TaskList::graph) after each row, and
/// Halt() when the collector says the run has failed enough.
///
/// With dependencies (TaskList::graph) a task waits until each of its parents has its row; a
/// task whose `depends_on` parent failed never runs, and its row says which parent failed.
/// A parent may be a task of another list (TaskList::deal), another runner's: runners tell
/// each other through a ParentEndSink and ParentsEnded, as their tasks get their rows.
///
/// Webhooks take fetch slots too, ahead of the tasks' fetches. A task starts when its first
/// step does (a fetch when it gets its slot): its on_start webhooks go out then, beside its
/// steps. When its steps are over it waits for those, then sends its on_success or
/// on_failure webhooks, and only once they are delivered or given up is its row written.
class Runner final : private AdmissionSink {
 public:
  /// `blueprints[t]` is the blueprint of the tasks of type t (TaskList::type_names); one
  /// blueprint alone serves every type. The tasks and the blueprints must outlive the runner.
  /// `other_lists` hears of the rows other lists' tasks wait for; it may be null only if
  /// `tasks` is a whole input (TaskList::deal) or without dependencies.
  Runner(const TaskList& tasks, std::vector<const Blueprint*> blueprints, RunnerOptions options,
         HttpClient& http, Clock& clock, RunSink& sink, ParentEndSink* other_lists = nullptr);
  /// Every task through the same blueprint.
  Runner(const TaskList& tasks, const Blueprint& blueprint, RunnerOptions options, HttpClient& http,
         Clock& clock, RunSink& sink, ParentEndSink* other_lists = nullptr);
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  /// Starts every task. `on_finished` runs once, when every task has its result (at once if
  /// there are no tasks).
  void Start(std::function<void()> on_finished);

  /// Parents on other lists have their rows (what their runners sent to their
  /// ParentEndSink): each child waits for one parent less, or fails as its dependency did.
  /// News of a task that has its row already (cancelled, halted, failed by another parent)
  /// is ignored. Call after Start. `values`: what those parents captured, for children whose
  /// templates name it (ParentEndSink::ParentCaptured), taken before the news.
  void ParentsEnded(std::span<const ParentEnd> news, std::span<ParentValues> values = {});

  /// A task that waited for a place in a pool (RunnerOptions::limits) has it: it starts.
  /// Call on the runner's own loop; a runner on another thread's is told through the sink
  /// set by set_admission_sink.
  void Admitted(TaskIndex task) override;

  /// Starts nothing new, abandons what is in flight and reports every task without a result
  /// as Failed with error_info "cancelled", in input order. Safe to call more than once.
  void Cancel();

  /// --halt: every task not yet started gets its row now, Outcome::Halted(failures) ("not
  /// started (halted after 3 failures)"), and none starts after. With `stop_running` the started
  /// ones are cancelled too (Cancel); else they run to their end. Safe to call more than once.
  void Halt(bool stop_running, std::uint64_t failures);

  /// The event loop's load over the last FetchWindow::kTick: with
  /// RunnerOptions::adapt_to_load the fetch window shrinks or grows, and fetches start if it
  /// grew.
  void OnLoopLoad(LoopLoad load);
  /// Fetches that may be in flight now.
  std::size_t fetch_window() const { return window_.limit(); }

  bool finished() const { return finished_ == tasks_.tasks.size(); }
  bool cancelled() const { return cancelled_; }
  std::size_t fetches_in_flight() const { return in_flight_ + webhooks_.in_flight(); }
  /// Its tasks by phase now, and what its fetches and webhooks did so far.
  const RunStats& stats() const { return stats_; }
  /// --events: what happens to each task from now on goes to `sink` (null: nowhere, at no
  /// cost). Call before Start.
  void set_event_sink(TaskEventSink* sink) { events_ = sink; }
  /// Where the pools tell that a task of this runner's has its places (RunningLimits::Leave,
  /// on any thread): a sink that brings the news to this runner's loop, then Admitted. By
  /// default the runner itself, for a runner whose pools no other thread shares. Call before
  /// Start.
  void set_admission_sink(AdmissionSink* sink) { admissions_ = sink; }

 private:
  using Phase = TaskPhase;
  struct TaskState {
    std::uint8_t step = 0;
    Phase phase = Phase::kReady;
    std::uint16_t attempts = 0;      // failed attempts of the current fetch step
    std::uint8_t webhooks_out = 0;   // its webhooks not yet delivered or given up
    bool started = false;            // its first step has begun
    bool end_webhooks_sent = false;  // on_success or on_failure went out
    bool admitted = false;           // it has its places in its --limit pools
  };
  // For tasks whose blueprints have webhooks: what their records tell.
  struct TaskTimes {
    Clock::TimePoint started{};
    std::uint32_t attempts = 0;  // HTTP attempts of its fetch steps
  };
  struct Ending {
    Outcome outcome;
    Clock::TimePoint finished;
  };

  void Advance(TaskIndex index);
  void AdmitAtOnce(TaskIndex first, TaskIndex end);
  void Pooled(TaskIndex index);
  // Each kind of step, entered by Advance: true when the task goes on to its next step at
  // once, false when it waits (or ended).
  bool QueueFetch(TaskIndex index);
  bool StartDelay(TaskIndex index, const DelayStep& delay);
  bool Emit(TaskIndex index, const EmitStep& emit);
  void BeginStep(TaskIndex index);
  // What ends a wait in the deadline queue, by the kind of the task's step.
  void RetryDue(TaskIndex index);
  void DelayOver(TaskIndex index, const DelayStep& delay);
  void StartFetches();
  void OnFetchDone(TaskIndex index, const FetchResult& result, Clock::TimePoint begun);
  void SetPhase(TaskIndex index, Phase phase);
  // With an event sink: `fill` completes the task's event of `kind` before it goes out.
  template <typename Fill>
  void Note(TaskIndex index, TaskEventKind kind, Fill&& fill);
  void Note(TaskIndex index, TaskEventKind kind);
  void OnWake();
  void ArmWake();
  void Begin(TaskIndex index);
  void Finish(TaskIndex index, Outcome outcome);
  void Fail(TaskIndex index, std::string reason);
  void SendWebhooks(TaskIndex index, WebhookEvent event);
  void SendEndWebhooks(TaskIndex index);
  void OnWebhookDone(const WebhookProgress& progress);
  void Settle(const WebhookProgress& progress);
  std::variant<WebhookQueue::Prepared, std::string> PrepareWebhook(
      const WebhookDelivery& delivery) const;
  void SendRow(TaskIndex index, const Outcome& outcome);
  bool HaltNoticed();
  void AfterRow(TaskIndex index, FinalStatus status, const CapturedValues& values);
  void ReleaseChildren(TaskIndex parent, FinalStatus status, const CapturedValues& values);
  void ReleaseChild(const ParentEnd& news);
  Outcome UnrunOutcome(TaskIndex index, const Outcome& otherwise) const;
  void TakeParentValues(ParentValues values);
  // Why the task cannot run, if its templates name a {dep.NAME} that not exactly one of its
  // dependencies captured.
  std::optional<std::string> DependencyValueProblem(TaskIndex index) const;
  TaskValues ValuesOf(TaskIndex index) const;
  void FreePlaces(TaskIndex index);
  const Blueprint& BlueprintOf(TaskIndex index) const;
  const Step& CurrentStep(TaskIndex index) const;
  Duration DelayOf(TaskIndex index, const DelayStep& delay) const;
  const FetchStep& CurrentFetch(TaskIndex index) const;

  const TaskList& tasks_;
  std::vector<const Blueprint*> blueprints_;  // by task type
  RunnerOptions options_;
  HttpClient& http_;
  Clock& clock_;
  RunSink& sink_;
  ParentEndSink* other_lists_;

  bool has_webhooks_ = false;  // some blueprint has webhooks
  std::vector<TaskState> states_;
  std::vector<TaskTimes> times_;  // by task, when has_webhooks_
  std::unordered_map<TaskIndex, Ending> ending_;
  // With dependencies: the parents each task still waits for.
  std::vector<std::uint32_t> parents_left_;
  // Tasks that will not run, a depends_on parent having failed, and still wait for other
  // parents: the failed parent with the lowest task_id, which their row will name.
  std::unordered_map<TaskIndex, TaskId> failed_parent_;
  RunningLimits* limits_ = nullptr;   // with --limit
  AdmissionSink* admissions_ = this;  // hears that a task of ours entered its pools
  std::vector<TaskIndex> admitting_;  // AdmitAtOnce's tasks
  std::vector<bool> entered_;         // and whether each entered
  // Tasks whose rows are written but whose children and pools have not yet heard. They are
  // told from one loop, not by recursion: a chain of a million tasks that fail at once must
  // not need a million frames.
  struct RowWritten {
    TaskIndex index;
    FinalStatus status;
    CapturedValues values;  // for children, when templates name dependencies' values
  };
  std::vector<RowWritten> after_row_;
  bool in_after_row_ = false;
  WebhookQueue webhooks_;
  FetchWindow window_;                     // how many fetches may be in flight
  FetchQueue queued_;                      // waiting for a fetch slot, in arrival order
  std::vector<std::size_t> lane_of_type_;  // its FetchQueue lane, by task type
  DeadlineQueue waiting_;                  // in a delay or a retry backoff
  std::optional<Clock::TimePoint> wake_at_;
  std::optional<RunRates> own_rates_;          // without RunnerOptions::rates
  RateLimiter* rate_ = nullptr;                // --rate's, shared
  std::optional<Clock::TimePoint> rate_wake_;  // when --rate lets the next fetch start
  std::size_t in_flight_ = 0;
  std::size_t finished_ = 0;
  bool cancelled_ = false;
  bool halted_ = false;
  std::function<void()> on_finished_;
  RetryDecider retries_;                    // the tasks' fetches
  std::string line_;                        // an emit step's line, filled in
  CaptureStore captures_;                   // what each task's fetches captured, until its row
  std::vector<std::string> capture_names_;  // by capture column, for webhooks
  CapturedValues captured_;                 // one fetch's captures, taken
  // {dep.NAME}, {deps.NAME}: when a blueprint names them, each task's parents' values.
  bool passes_dependency_values_ = false;
  DependencyValues dependency_values_;
  RunStats stats_;
  TaskEventSink* events_ = nullptr;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_RUNNER_H_
