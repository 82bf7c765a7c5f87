// --metrics FILE: a run's progress for Prometheus, by way of node_exporter's textfile collector.
#ifndef ORCHESTRATOR_METRICS_FILE_H_
#define ORCHESTRATOR_METRICS_FILE_H_

#include <optional>
#include <string>

#include "orchestrator/output_stream.h"
#include "orchestrator/run_progress.h"
#include "orchestrator/shard.h"

namespace orchestrator {

/// The run's progress in Prometheus's text exposition format (version 0.0.4), without
/// timestamps, as the textfile collector wants it. Names follow Prometheus's conventions:
/// base units, `_total` for counters, labels of few values (never a task_id):
///   orchestrator_tasks_total{task_type,final_status}    rows written (counter)
///   orchestrator_tasks{state}                           tasks by where they are now (gauge)
///   orchestrator_fetch_duration_seconds{task_type}      fetch attempts (histogram)
///   orchestrator_http_responses_total{code}             attempts by HTTP status, "none"
///   orchestrator_retries_total{reason}                  retries by the failure retried
///   orchestrator_webhooks_total{outcome}                delivered, given_up
///   orchestrator_run_start_timestamp_seconds            when the run started
///   orchestrator_last_completion_timestamp_seconds      the last row (0: none yet)
///   orchestrator_last_success_timestamp_seconds         the last Completed row (0: none yet)
/// Every label set known from the start (types, statuses, states, reasons, outcomes) is
/// written from the first file on, as 0; response codes appear as they are seen. A shard's
/// run (--shard K/N) labels every series shard="K", so the shards' files add up in one query.
std::string MetricsText(const RunProgress& progress, std::optional<Shard> shard = std::nullopt);

/// Writes MetricsText to FILE each time the collector says (every 5 s) and once at the end.
/// Each version is written beside FILE and renamed over it (ResultFile), so a scrape never
/// sees half a file and FILE's mtime is a heartbeat. A version that cannot be written is a
/// warning on `warnings` (once until one succeeds again); the run goes on.
class MetricsFile final : public RunWatcher {
 public:
  /// Checks that FILE can be written (its directory exists and lets us): throws InputError
  /// (exit 2, nothing run) if not.
  MetricsFile(std::string path, OutputStream& warnings, std::optional<Shard> shard);

  void Update(const RunProgress& progress) override { Write(progress); }
  void Finish(const RunProgress& progress) override { Write(progress); }

  const std::string& path() const { return path_; }

 private:
  void Write(const RunProgress& progress);

  std::string path_;
  OutputStream& warnings_;
  std::optional<Shard> shard_;
  bool failing_ = false;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_METRICS_FILE_H_
