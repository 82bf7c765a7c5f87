// The closing report: what a run did, by task type, and why tasks failed.
#ifndef ORCHESTRATOR_RUN_REPORT_H_
#define ORCHESTRATOR_RUN_REPORT_H_

#include <boost/json/object.hpp>
#include <optional>
#include <string>

#include "orchestrator/output_stream.h"
#include "orchestrator/run_progress.h"

namespace orchestrator {

/// How many failure reasons a report names, most frequent first.
inline constexpr std::size_t kReportedFailures = 5;

/// The report as a JSON object: {"tasks", "completed", "failed", "retries", "seconds",
/// "task_types": [{"task_type", "tasks", "completed", "failed", "retries", "fetches",
/// "fetch_seconds": {"p50", "p90", "p99", "max"}}], "top_failures": [{"reason", "count"}],
/// "other_failures"}. Quantiles come from the fetch-duration histogram (LatencyHistogram),
/// null for a type without fetches. `seconds`: the run's wall time.
boost::json::object ReportJson(const RunProgress& progress, double seconds);

/// The same for a person, each line starting "orchestrator: ": a table by task type (at
/// most 20 rows), then the top failure reasons with their counts.
std::string ReportText(const RunProgress& progress);

/// Writes the report when the run ends: as text or as one line of JSON on stderr (none
/// with -q), and as JSON to --report-file FILE (beside it, then renamed over it).
class RunReport final : public RunWatcher {
 public:
  enum class Format { kText, kJson };

  /// `stderr_stream` null: nothing on stderr. `file` empty: no file; else it must be
  /// creatable, or InputError (exit 2, nothing run). `warnings` gets a file that cannot be
  /// written at the end.
  RunReport(OutputStream* stderr_stream, Format format, std::string file, OutputStream& warnings);

  void Update(const RunProgress& /*progress*/) override {}
  void Finish(const RunProgress& progress) override;

 private:
  OutputStream* stderr_stream_;
  Format format_;
  std::string file_;
  OutputStream& warnings_;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_RUN_REPORT_H_
