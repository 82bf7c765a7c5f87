// The collector's picture of a run as it goes, which those who watch it read.
#ifndef ORCHESTRATOR_RUN_PROGRESS_H_
#define ORCHESTRATOR_RUN_PROGRESS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "orchestrator/outcome.h"
#include "orchestrator/run_observer.h"
#include "orchestrator/run_stats.h"
#include "orchestrator/task.h"

namespace orchestrator {

/// Rows by task type and final status, and the latest counts (RunStats) of each worker.
/// Lives on the collector's thread; the workers' counts arrive in their batches.
class RunProgress final : public RunObserver {
 public:
  using WallTime = std::chrono::system_clock::time_point;

  /// `tasks`: the unique tasks this run is to give a row (carried-over ones not included).
  RunProgress(std::vector<std::string> type_names, std::size_t workers, std::size_t tasks,
              WallTime started);

  /// A task got its row at `now`.
  void Row(const Task& task, const Outcome& outcome, WallTime now);
  /// A task got its row now.
  void OnRow(const Task& task, const Outcome& outcome) override {
    Row(task, outcome, std::chrono::system_clock::now());
  }
  /// Worker `worker`'s counts now (they replace its earlier ones).
  void WorkerStats(std::size_t worker, RunStats stats);

  const std::vector<std::string>& type_names() const { return type_names_; }
  std::size_t tasks() const { return tasks_; }
  std::uint64_t completed(std::size_t type) const { return completed_[type]; }
  std::uint64_t failed(std::size_t type) const { return failed_[type]; }
  std::uint64_t rows() const { return rows_; }
  std::uint64_t failed_rows() const { return failed_rows_; }
  WallTime started() const { return started_; }
  /// When the last row, and the last Completed one, came; the epoch if none has.
  WallTime last_row() const { return last_row_; }
  WallTime last_success() const { return last_success_; }
  /// Every worker's counts added up; the tasks of a worker that has not sent any yet count
  /// as pending.
  RunStats Combined() const;
  /// The error_info of failed rows, with how many rows gave each, most first (then in
  /// order of first appearance); at most `count`. The first kMaxReasons distinct reasons are
  /// counted; the rows with any other are in `other_failures()`.
  std::vector<std::pair<std::string, std::uint64_t>> TopFailures(std::size_t count) const;
  std::uint64_t other_failures() const { return other_failures_; }
  static constexpr std::size_t kMaxReasons = 1000;

 private:
  std::vector<std::string> type_names_;
  std::size_t tasks_;
  std::vector<std::uint64_t> completed_;  // by type
  std::vector<std::uint64_t> failed_;     // by type
  std::uint64_t rows_ = 0;
  std::uint64_t failed_rows_ = 0;
  std::vector<RunStats> workers_;
  std::vector<bool> reported_;                                  // by worker: its counts have come
  std::vector<std::pair<std::string, std::uint64_t>> reasons_;  // in order of appearance
  std::unordered_map<std::string, std::size_t> reason_index_;   // into reasons_
  std::uint64_t other_failures_ = 0;
  WallTime started_;
  WallTime last_row_{};
  WallTime last_success_{};
};

/// One who watches a run from the collector's thread: the metrics file, the status line.
class RunWatcher {
 public:
  virtual ~RunWatcher() = default;
  /// Now and then while the run goes (Collector::Watch says how often).
  virtual void Update(const RunProgress& progress) = 0;
  /// Once, when every task has its row.
  virtual void Finish(const RunProgress& progress) = 0;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_RUN_PROGRESS_H_
