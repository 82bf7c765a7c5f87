#include "orchestrator/run_progress.h"

#include <utility>

namespace orchestrator {

RunProgress::RunProgress(std::vector<std::string> type_names, std::size_t workers,
                         std::size_t tasks, WallTime started)
    : type_names_(std::move(type_names)),
      tasks_(tasks),
      completed_(type_names_.size()),
      failed_(type_names_.size()),
      workers_(workers),
      reported_(workers, false),
      started_(started) {}

void RunProgress::Row(const Task& task, const Outcome& outcome, WallTime now) {
  ++rows_;
  last_row_ = now;
  if (outcome.status == FinalStatus::kCompleted) {
    ++completed_[task.type];
    last_success_ = now;
  } else {
    ++failed_[task.type];
    ++failed_rows_;
  }
}

void RunProgress::WorkerStats(std::size_t worker, RunStats stats) {
  if (worker >= workers_.size()) return;
  workers_[worker] = std::move(stats);
  reported_[worker] = true;
}

RunStats RunProgress::Combined() const {
  RunStats total;
  total.fetch_seconds.resize(type_names_.size());
  for (const RunStats& worker : workers_) total.Add(worker);
  // The tasks of workers that have not reported yet have not started.
  std::uint64_t known = 0;
  for (std::size_t w = 0; w < workers_.size(); ++w) {
    if (!reported_[w]) continue;
    for (const std::uint64_t count : workers_[w].phases) known += count;
  }
  if (known < tasks_) total.phases[static_cast<std::size_t>(TaskPhase::kReady)] += tasks_ - known;
  return total;
}

}  // namespace orchestrator
