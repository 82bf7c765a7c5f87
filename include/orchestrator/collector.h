// The collector: where the workers' records become the result CSV, and where a run is stopped.
#ifndef ORCHESTRATOR_COLLECTOR_H_
#define ORCHESTRATOR_COLLECTOR_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>

#include "orchestrator/halt_switch.h"
#include "orchestrator/interrupts.h"
#include "orchestrator/reporter.h"
#include "orchestrator/run_observer.h"
#include "orchestrator/run_progress.h"
#include "orchestrator/worker.h"

namespace orchestrator {

/// How a run ended, beyond its rows (which the Reporter counts).
struct RunEnd {
  int signal = 0;            ///< The signal that stopped it, or 0.
  bool reader_gone = false;  ///< stdout's reader went away.
  /// What a thread's loop threw (a bug), or empty. The first one, if several did.
  std::string internal_error;
  /// Set when --halt stopped the run: the failures counted then.
  std::optional<std::uint64_t> halted_after;
  std::uint64_t not_started = 0;  ///< Tasks the halt left unstarted.
  /// The output (a RunObserver's: the --events file) whose failure stopped the run.
  std::optional<OutputFailure> output_failure;
};

/// Runs the collector's side of a run on its io_context (the main thread): it starts the
/// workers, hands each record they deliver to the Reporter, passes the news of parents
/// between them, and stops every worker at the
/// first of a signal, a closed stdout, a failed result stream or an exception in a loop.
/// Once the run's HaltSwitch trips (in whichever worker), it tells every worker to halt, so
/// that those with nothing else to do hear of it too.
/// Every task still gets its row (the stopped ones as cancelled), because Run() returns only
/// once every worker has delivered its last batch.
class Collector {
 public:
  /// `io`, `reporter` and `signals` must outlive the collector. `type_names` names the
  /// tasks' types in event lines. `watched_output` is the descriptor whose reader is watched
  /// (stdout).
  Collector(boost::asio::io_context& io, Reporter& reporter, std::vector<std::string> type_names,
            const SignalWatch& signals, int watched_output, const HaltSwitch* halt = nullptr);
  ~Collector();  // stops and joins the workers
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  /// What a worker made for this collector must deliver to.
  Worker::Deliver Deliverer();
  /// The collector owns its workers. Add them all before Run(), in the order of their lists
  /// (TaskList::deal): it passes the news of parents to the worker of each child's list.
  void Add(std::unique_ptr<Worker> worker);

  /// `watcher` is told of the run's progress at its start, every `every` while it goes (0:
  /// never), and once at its end (RunWatcher). It must outlive Run(). Call before Run().
  void Watch(RunWatcher& watcher, std::chrono::milliseconds every);

  /// `observer` hears of every record the workers send, as it comes, after the reporter
  /// (and before the progress watchers read). An observer whose output fails stops the run
  /// (RunEnd::output_failure). It must outlive Run(). Call before Run().
  void Observe(RunObserver& observer) { observers_.push_back(&observer); }

  /// Starts the workers and runs the loop until each has delivered its last batch. Call once.
  RunEnd Run();

 private:
  void Deliver(WorkerBatch batch);
  void StopAll();
  void OnInternalError(std::string what);
  void HaltIfTripped();
  void ArmWatch(std::size_t index);
  void EndWatches();
  void AfterBatch(RunObserver& observer);
  void ArmHoldBack();

  boost::asio::io_context& io_;
  Reporter& reporter_;
  std::vector<std::string> type_names_;
  const SignalWatch& signals_;
  int watched_output_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::size_t workers_running_ = 0;
  // Keeps run() going while a worker still owes its last batch: between the batches of
  // workers on their own threads the collector's loop may have nothing else to wait for.
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> owed_;
  RunEnd end_;
  const HaltSwitch* halt_;  // null without --halt
  struct Watching {
    RunWatcher* watcher;
    std::chrono::milliseconds every;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };
  std::vector<Watching> watches_;
  std::optional<RunProgress> progress_;  // while Run() runs, when watched
  std::vector<RunObserver*> observers_;  // the reporter first, the progress (if watched) last
  // Ticks while an observer holds back what it was told (RunObserver::HoldsBack).
  std::optional<boost::asio::steady_timer> hold_back_timer_;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_COLLECTOR_H_
