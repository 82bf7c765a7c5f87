#include "orchestrator/run_progress.h"

#include <algorithm>
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
  if (outcome.status() == FinalStatus::kCompleted) {
    ++completed_[task.type];
    last_success_ = now;
  } else {
    ++failed_[task.type];
    ++failed_rows_;
    const auto found = reason_index_.find(outcome.error_info);
    if (found != reason_index_.end()) {
      ++reasons_[found->second].second;
    } else if (reasons_.size() < kMaxReasons) {
      reason_index_.emplace(outcome.error_info, reasons_.size());
      reasons_.emplace_back(outcome.error_info, 1);
    } else {
      ++other_failures_;
    }
  }
}

std::vector<std::pair<std::string, std::uint64_t>> RunProgress::TopFailures(
    std::size_t count) const {
  std::vector<std::pair<std::string, std::uint64_t>> top = reasons_;
  std::stable_sort(top.begin(), top.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (top.size() > count) top.resize(count);
  return top;
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
