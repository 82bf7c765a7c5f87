// Runs every task through its blueprint: admission, steps, retries, cancellation.
#ifndef ORCHESTRATOR_RUNNER_H_
#define ORCHESTRATOR_RUNNER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <random>
#include <string_view>
#include <vector>

#include "orchestrator/blueprint.h"
#include "orchestrator/clock.h"
#include "orchestrator/deadline_queue.h"
#include "orchestrator/http_client.h"
#include "orchestrator/outcome.h"
#include "orchestrator/retry_policy.h"
#include "orchestrator/task.h"
#include "orchestrator/task_values.h"

namespace orchestrator {

/// Where a run's output goes.
class RunSink {
 public:
  virtual ~RunSink() = default;
  /// An emit step ran for `task`: `line` is its text filled in, or empty for the line that
  /// names the task.
  virtual void Event(const Task& task, std::string_view type_name, std::string_view step,
                     std::string_view line) = 0;
  /// `task` ended. Called exactly once for every task of the run.
  virtual void Result(const Task& task, const Outcome& outcome) = 0;
};

struct RunnerOptions {
  std::size_t max_fetches = 64;  ///< Fetches in flight at once; the rest wait their turn.
  std::uint64_t seed = 0;        ///< Seeds the backoff jitter.
};

/// Drives each task through the blueprint's steps on one event loop. Knows nothing of curl or
/// Asio: it talks to an HttpClient and a Clock, so tests run it with fakes and no sleeping.
///
/// A task is a few bytes of state, not a coroutine: a million tasks waiting in their delay
/// cost a million deadline-queue entries and nothing else. Only `max_fetches` fetches are
/// handed to the HttpClient at a time; the others wait in a FIFO here, so the client's
/// timeouts measure the attempt itself and never time spent queueing.
class Runner {
 public:
  /// `blueprints[t]` is the blueprint of the tasks of type t (TaskList::type_names); one
  /// blueprint alone serves every type. The tasks and the blueprints must outlive the runner.
  Runner(const TaskList& tasks, std::vector<const Blueprint*> blueprints, RunnerOptions options,
         HttpClient& http, Clock& clock, RunSink& sink);
  /// Every task through the same blueprint.
  Runner(const TaskList& tasks, const Blueprint& blueprint, RunnerOptions options, HttpClient& http,
         Clock& clock, RunSink& sink);
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  /// Starts every task. `on_finished` runs once, when every task has its result (at once if
  /// there are no tasks).
  void Start(std::function<void()> on_finished);

  /// Starts nothing new, abandons what is in flight and reports every task without a result
  /// as Failed with error_info "cancelled", in input order. Safe to call more than once.
  void Cancel();

  bool finished() const { return finished_ == tasks_.tasks.size(); }
  bool cancelled() const { return cancelled_; }
  std::size_t fetches_in_flight() const { return in_flight_; }

 private:
  enum class Phase : std::uint8_t { kReady, kQueued, kFetching, kWaiting, kDone };
  struct TaskState {
    std::uint8_t step = 0;
    Phase phase = Phase::kReady;
    std::uint16_t attempts = 0;  // failed attempts of the current fetch step
  };

  void Advance(TaskIndex index);
  void StartFetches();
  void OnFetchDone(TaskIndex index, const FetchResult& result);
  void OnWake();
  void ArmWake();
  void Finish(TaskIndex index, const Outcome& outcome);
  void Fail(TaskIndex index, std::string reason);
  const Blueprint& BlueprintOf(TaskIndex index) const;
  const Step& CurrentStep(TaskIndex index) const;
  std::optional<FetchRequest> RequestFor(TaskIndex index, const FetchStep& fetch);

  const TaskList& tasks_;
  std::vector<const Blueprint*> blueprints_;  // by task type
  RunnerOptions options_;
  HttpClient& http_;
  Clock& clock_;
  RunSink& sink_;

  std::vector<TaskState> states_;
  std::deque<TaskIndex> queued_;  // waiting for a fetch slot, in arrival order
  DeadlineQueue waiting_;         // in a delay or a retry backoff
  std::optional<Clock::TimePoint> wake_at_;
  std::size_t in_flight_ = 0;
  std::size_t finished_ = 0;
  bool cancelled_ = false;
  std::function<void()> on_finished_;
  std::mt19937_64 random_;
  std::string line_;  // an emit step's line, filled in
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_RUNNER_H_
