#include "orchestrator/metrics_file.h"

#include <fmt/format.h>
#include <unistd.h>
#include <utf8.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <iterator>
#include <string_view>

#include "orchestrator/result_file.h"

namespace orchestrator {
namespace {

// A label value as the text format wants it: valid UTF-8, with backslash, double quote and
// line feed escaped (the format's only escapes).
std::string LabelValue(std::string_view text) {
  std::string valid;
  utf8::replace_invalid(text.begin(), text.end(), std::back_inserter(valid));
  std::string escaped;
  escaped.reserve(valid.size());
  for (const char c : valid) {
    switch (c) {
      case '\\':
        escaped += "\\\\";
        break;
      case '"':
        escaped += "\\\"";
        break;
      case '\n':
        escaped += "\\n";
        break;
      default:
        escaped += c;
    }
  }
  return escaped;
}

double Seconds(RunProgress::WallTime time) {
  if (time == RunProgress::WallTime()) return 0;
  return std::chrono::duration<double>(time.time_since_epoch()).count();
}

void Family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

// Labels are written in the order node_exporter gives them back (by name, `le` last), so a
// series reads the same in the file and in a scrape.
std::string MetricsText(const RunProgress& progress) {
  const RunStats stats = progress.Combined();
  const std::vector<std::string>& types = progress.type_names();
  std::vector<std::string> type_labels;
  for (const std::string& type : types) type_labels.push_back(LabelValue(type));
  std::string out;
  const auto to = std::back_inserter(out);

  Family(out, "orchestrator_tasks_total", "counter",
         "Tasks that have their result row, by task type and final status.");
  for (std::size_t t = 0; t < types.size(); ++t) {
    fmt::format_to(to,
                   "orchestrator_tasks_total{{final_status=\"Completed\",task_type=\"{}\"}} {}\n",
                   type_labels[t], progress.completed(t));
    fmt::format_to(to, "orchestrator_tasks_total{{final_status=\"Failed\",task_type=\"{}\"}} {}\n",
                   type_labels[t], progress.failed(t));
  }

  Family(out, "orchestrator_tasks", "gauge",
         "Tasks of this run by where they are now: blocked (waiting for dependencies), pending, "
         "pooled (waiting for a --limit place), queued (for a fetch slot), fetching, waiting (a "
         "delay or a retry's backoff), ending (webhooks), done.");
  for (std::size_t p = 0; p < kTaskPhaseCount; ++p) {
    const auto phase = static_cast<TaskPhase>(p);
    // Done is the collector's count: the workers' may lag behind the rows.
    const std::uint64_t count = phase == TaskPhase::kDone ? progress.rows() : stats.phases[p];
    fmt::format_to(to, "orchestrator_tasks{{state=\"{}\"}} {}\n", TaskPhaseName(phase), count);
  }

  Family(out, "orchestrator_fetch_duration_seconds", "histogram",
         "How long each fetch attempt took, retries included, webhooks not, by task type.");
  for (std::size_t t = 0; t < types.size(); ++t) {
    const LatencyHistogram& histogram = stats.fetch_seconds[t];
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < LatencyHistogram::kBounds.size(); ++b) {
      cumulative += histogram.buckets()[b];
      fmt::format_to(
          to, "orchestrator_fetch_duration_seconds_bucket{{task_type=\"{}\",le=\"{}\"}} {}\n",
          type_labels[t], LatencyHistogram::kBounds[b], cumulative);
    }
    fmt::format_to(
        to, "orchestrator_fetch_duration_seconds_bucket{{task_type=\"{}\",le=\"+Inf\"}} {}\n",
        type_labels[t], histogram.count());
    fmt::format_to(to, "orchestrator_fetch_duration_seconds_sum{{task_type=\"{}\"}} {}\n",
                   type_labels[t], histogram.sum());
    fmt::format_to(to, "orchestrator_fetch_duration_seconds_count{{task_type=\"{}\"}} {}\n",
                   type_labels[t], histogram.count());
  }

  Family(out, "orchestrator_http_responses_total", "counter",
         "Fetch attempts by the HTTP status of their response; code \"none\": no response.");
  for (std::size_t code = 0; code < stats.responses.size(); ++code) {
    if (stats.responses[code] == 0) continue;
    fmt::format_to(to, "orchestrator_http_responses_total{{code=\"{}\"}} {}\n",
                   code == 0 ? std::string("none") : std::to_string(code), stats.responses[code]);
  }

  Family(out, "orchestrator_retries_total", "counter",
         "Fetch attempts retried, by the failure that led to the retry.");
  for (std::size_t r = 1; r < kFetchFailureCount; ++r) {
    fmt::format_to(to, "orchestrator_retries_total{{reason=\"{}\"}} {}\n",
                   FetchFailureName(static_cast<FetchFailure>(r)), stats.retries[r]);
  }

  Family(out, "orchestrator_webhooks_total", "counter",
         "Webhooks settled: delivered, or given up after their retries.");
  fmt::format_to(to, "orchestrator_webhooks_total{{outcome=\"delivered\"}} {}\n",
                 stats.webhooks_delivered);
  fmt::format_to(to, "orchestrator_webhooks_total{{outcome=\"given_up\"}} {}\n",
                 stats.webhooks_given_up);

  Family(out, "orchestrator_run_start_timestamp_seconds", "gauge",
         "When this run started, in seconds since the Unix epoch.");
  fmt::format_to(to, "orchestrator_run_start_timestamp_seconds {:.3f}\n",
                 Seconds(progress.started()));
  Family(out, "orchestrator_last_completion_timestamp_seconds", "gauge",
         "When the last task got its row, in seconds since the Unix epoch; 0 before any.");
  fmt::format_to(to, "orchestrator_last_completion_timestamp_seconds {:.3f}\n",
                 Seconds(progress.last_row()));
  Family(out, "orchestrator_last_success_timestamp_seconds", "gauge",
         "When the last task Completed, in seconds since the Unix epoch; 0 before any.");
  fmt::format_to(to, "orchestrator_last_success_timestamp_seconds {:.3f}\n",
                 Seconds(progress.last_success()));
  return out;
}

MetricsFile::MetricsFile(std::string path, OutputStream& warnings)
    : path_(std::move(path)), warnings_(warnings) {
  ResultFile::Create(path_, "metrics");  // throws if it cannot; the unpublished file goes
}

void MetricsFile::Write(const RunProgress& progress) {
  int error = 0;
  try {
    ResultFile file = ResultFile::Create(path_, "metrics");
    const std::string text = MetricsText(progress);
    error = file.Write(text);
    if (error == 0) error = file.Publish();
  } catch (const std::exception& failure) {
    if (!failing_) {
      warnings_.Write(fmt::format("orchestrator: warning: --metrics: {}\n", failure.what()));
    }
    failing_ = true;
    return;
  }
  if (error != 0 && !failing_) {
    warnings_.Write(fmt::format("orchestrator: warning: --metrics: cannot write {}: {}\n", path_,
                                std::strerror(error)));
  }
  failing_ = error != 0;
}

}  // namespace orchestrator
