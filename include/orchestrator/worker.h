// One thread's share of a run.
#ifndef ORCHESTRATOR_WORKER_H_
#define ORCHESTRATOR_WORKER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>

#include "orchestrator/asio_clock.h"
#include "orchestrator/blueprint.h"
#include "orchestrator/http_client.h"
#include "orchestrator/loop_load_probe.h"
#include "orchestrator/outcome.h"
#include "orchestrator/parent_end.h"
#include "orchestrator/run_stats.h"
#include "orchestrator/runner.h"
#include "orchestrator/task.h"
#include "orchestrator/task_event.h"
#include "orchestrator/worker_batch.h"

namespace orchestrator {

/// One share of a run: its own tasks, HTTP engine, clock and runner on its own io_context,
/// which its own thread runs; or, when a run has one worker, on the collector's io_context
/// and thread. A worker shares nothing mutable with the collector or other workers: records
/// travel to the collector in batches, by value, through asio::post, and Cancel travels the
/// other way the same way. So does the news of parents whose children are on other workers:
/// in the batches to the collector, which passes it to those workers (ParentsEnded). The
/// one thing workers share is the run's rules (RunnerOptions: rates, pools, halt), each made
/// safe to share; a place freed in a pool on another thread reaches this worker's runner on
/// its own loop (Admitted).
class Worker final : private RunSink,
                     private ParentEndSink,
                     private TaskEventSink,
                     private AdmissionSink {
 public:
  /// Runs on the collector's io_context with each batch, in the order the worker made them.
  using Deliver = std::function<void(WorkerBatch batch)>;

  /// Makes the worker's HTTP engine on the loop its tasks run on: the curl engine in a run,
  /// a fake in tests (tests/fakes.h), an engine that only prints in a dry run.
  using MakeHttpClient = std::function<std::unique_ptr<HttpClient>(boost::asio::io_context& io)>;

  struct Options {
    RunnerOptions runner;
    MakeHttpClient http;
    bool own_thread = true;  ///< false: run on the collector's io_context and thread
    /// How often a batch carries the runner's counts (WorkerBatch::stats), the last batch
    /// always; 0: only the last batch; none: no batch (nobody watches the run).
    std::optional<std::chrono::milliseconds> stats_every{};
    /// --events: the batches carry the runner's TaskEvents.
    bool events = false;
  };

  /// `blueprints` (and what they point to) and `collector` must outlive the worker.
  /// `blueprints[t]` is the blueprint of the worker's tasks of type t; one alone serves all.
  Worker(TaskList tasks, std::vector<const Blueprint*> blueprints, Options options,
         boost::asio::io_context& collector, Deliver deliver);
  /// Every task through `blueprint`.
  Worker(TaskList tasks, const Blueprint& blueprint, Options options,
         boost::asio::io_context& collector, Deliver deliver);
  ~Worker() override;  // joins the thread
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /// Starts the tasks (and the thread). Call once, from the collector's thread.
  void Start();
  /// Stops the run as Runner::Cancel does; the cancelled rows arrive as records. Call from
  /// the collector's thread, any number of times.
  void Cancel();
  /// Halts the run as Runner::Halt does. Call from the collector's thread.
  void Halt(bool stop_running, std::uint64_t failures);
  /// Hands the runner what other workers sent (WorkerBatch::parents_ended) for its tasks.
  /// Call from the collector's thread, after Start.
  void ParentsEnded(ParentNews news);

  /// How many tasks it runs.
  std::size_t task_count() const { return tasks_.tasks.size(); }
  /// Which list of the run's tasks it runs (TaskList::deal).
  std::uint32_t list() const { return tasks_.deal.list; }

  /// The loop the worker's tasks run on (its own, or the collector's).
  boost::asio::io_context& io() { return io_; }

 private:
  void Event(const Task& task, std::string_view type_name, std::string_view step,
             std::string_view line) override;
  void Result(const Task& task, const Outcome& outcome) override;
  void WebhookGaveUp(const Task& task, std::string_view webhook, std::string_view reason) override;
  void ParentEnded(std::uint32_t list, const ParentEnd& news) override;
  void ParentCaptured(std::uint32_t list, ParentValues values) override;
  void OnTaskEvent(const TaskEvent& event) override;
  void Admitted(TaskIndex task) override;
  void Add(WorkerRecord record);
  void SendSoon();
  void SendBatch(bool last);
  void RunOwnLoop();
  void ArmStatsTimer();
  void Fail(std::string what);

  TaskList tasks_;
  boost::asio::io_context& collector_;
  std::unique_ptr<boost::asio::io_context> own_io_;  // null without a thread of its own
  boost::asio::io_context& io_;
  // Keeps the loop running while every task left waits for parents on other workers: there
  // may be nothing else to wait for until their news comes.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> busy_;
  std::unique_ptr<HttpClient> http_;
  AsioClock clock_;
  Runner runner_;
  Deliver deliver_;
  std::vector<WorkerRecord> batch_;        // records made since the last batch went out
  std::vector<ParentNews> parents_ended_;  // by list, since the last batch
  std::vector<TaskEvent> task_events_;     // since the last batch
  std::optional<std::chrono::milliseconds> stats_every_;
  boost::asio::steady_timer stats_timer_;
  LoopLoadProbe load_probe_;  // tells the runner how loaded its loop is
  bool stats_due_ = false;    // the next batch carries the runner's counts
  bool send_posted_ = false;  // a SendBatch is on its way
  bool sent_last_ = false;
  std::string error_;  // what the loop threw, for the last batch
  std::thread thread_;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_WORKER_H_
