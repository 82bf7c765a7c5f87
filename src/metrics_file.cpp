#include "orchestrator/metrics_file.h"

#include <fmt/format.h>
#include <unistd.h>
#include <utf8.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iterator>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

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

// A label: its name, and its value as the text format wants it (LabelValue).
struct Label {
  std::string_view name;
  std::string_view value;
};

// Writes sample lines, `name{labels} value`, with the run's own labels (shard) added to each
// and the labels in the order node_exporter gives them back (by name, `le` last), so a
// series reads the same in the file and in a scrape.
class Samples {
 public:
  Samples(std::string& out, std::vector<Label> own) : out_(out), own_(std::move(own)) {}

  template <typename Value>
  void Add(std::string_view name, std::initializer_list<Label> labels, const Value& value) {
    std::vector<Label> all(labels);
    all.insert(all.end(), own_.begin(), own_.end());
    std::sort(all.begin(), all.end(), [](const Label& a, const Label& b) {
      return std::pair(a.name == "le", a.name) < std::pair(b.name == "le", b.name);
    });
    const auto to = std::back_inserter(out_);
    out_ += name;
    for (std::size_t i = 0; i < all.size(); ++i) {
      fmt::format_to(to, "{}{}=\"{}\"", i == 0 ? '{' : ',', all[i].name, all[i].value);
    }
    if (!all.empty()) out_ += '}';
    if constexpr (std::is_floating_point_v<Value>) {
      fmt::format_to(to, " {:.3f}\n", value);
    } else {
      fmt::format_to(to, " {}\n", value);
    }
  }

 private:
  std::string& out_;
  std::vector<Label> own_;
};

}  // namespace

std::string MetricsText(const RunProgress& progress, std::optional<Shard> shard) {
  const RunStats stats = progress.Combined();
  const std::vector<std::string>& types = progress.type_names();
  std::vector<std::string> type_labels;
  for (const std::string& type : types) type_labels.push_back(LabelValue(type));
  const std::string shard_label = shard ? std::to_string(shard->index) : std::string();
  std::string out;
  Samples samples(out, shard ? std::vector<Label>{{"shard", shard_label}} : std::vector<Label>{});

  Family(out, "orchestrator_tasks_total", "counter",
         "Tasks that have their result row, by task type and final status.");
  for (std::size_t t = 0; t < types.size(); ++t) {
    samples.Add("orchestrator_tasks_total",
                {{"final_status", "Completed"}, {"task_type", type_labels[t]}},
                progress.completed(t));
    samples.Add("orchestrator_tasks_total",
                {{"final_status", "Failed"}, {"task_type", type_labels[t]}}, progress.failed(t));
  }

  Family(out, "orchestrator_tasks", "gauge",
         "Tasks of this run by where they are now: blocked (waiting for dependencies), pending, "
         "pooled (waiting for a --limit place), queued (for a fetch slot), fetching, waiting (a "
         "delay or a retry's backoff), ending (webhooks), done.");
  for (std::size_t p = 0; p < kTaskPhaseCount; ++p) {
    const auto phase = static_cast<TaskPhase>(p);
    // Done is the collector's count: the workers' may lag behind the rows.
    const std::uint64_t count = phase == TaskPhase::kDone ? progress.rows() : stats.phases[p];
    samples.Add("orchestrator_tasks", {{"state", TaskPhaseName(phase)}}, count);
  }

  Family(out, "orchestrator_fetch_duration_seconds", "histogram",
         "How long each fetch attempt took, retries included, webhooks not, by task type.");
  for (std::size_t t = 0; t < types.size(); ++t) {
    const LatencyHistogram& histogram = stats.fetch_seconds[t];
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < LatencyHistogram::kBounds.size(); ++b) {
      cumulative += histogram.buckets()[b];
      const std::string bound = fmt::to_string(LatencyHistogram::kBounds[b]);
      samples.Add("orchestrator_fetch_duration_seconds_bucket",
                  {{"task_type", type_labels[t]}, {"le", bound}}, cumulative);
    }
    samples.Add("orchestrator_fetch_duration_seconds_bucket",
                {{"task_type", type_labels[t]}, {"le", "+Inf"}}, histogram.count());
    samples.Add("orchestrator_fetch_duration_seconds_sum", {{"task_type", type_labels[t]}},
                fmt::to_string(histogram.sum()));
    samples.Add("orchestrator_fetch_duration_seconds_count", {{"task_type", type_labels[t]}},
                histogram.count());
  }

  Family(out, "orchestrator_http_responses_total", "counter",
         "Fetch attempts by the HTTP status of their response; code \"none\": no response.");
  for (std::size_t code = 0; code < stats.responses.size(); ++code) {
    if (stats.responses[code] == 0) continue;
    const std::string name = code == 0 ? std::string("none") : std::to_string(code);
    samples.Add("orchestrator_http_responses_total", {{"code", name}}, stats.responses[code]);
  }

  Family(out, "orchestrator_retries_total", "counter",
         "Fetch attempts retried, by the failure that led to the retry.");
  for (std::size_t r = 1; r < kFetchFailureCount; ++r) {
    samples.Add("orchestrator_retries_total",
                {{"reason", FetchFailureName(static_cast<FetchFailure>(r))}}, stats.retries[r]);
  }

  Family(out, "orchestrator_webhooks_total", "counter",
         "Webhooks settled: delivered, or given up after their retries.");
  samples.Add("orchestrator_webhooks_total", {{"outcome", "delivered"}}, stats.webhooks_delivered);
  samples.Add("orchestrator_webhooks_total", {{"outcome", "given_up"}}, stats.webhooks_given_up);

  Family(out, "orchestrator_run_start_timestamp_seconds", "gauge",
         "When this run started, in seconds since the Unix epoch.");
  samples.Add("orchestrator_run_start_timestamp_seconds", {}, Seconds(progress.started()));
  Family(out, "orchestrator_last_completion_timestamp_seconds", "gauge",
         "When the last task got its row, in seconds since the Unix epoch; 0 before any.");
  samples.Add("orchestrator_last_completion_timestamp_seconds", {}, Seconds(progress.last_row()));
  Family(out, "orchestrator_last_success_timestamp_seconds", "gauge",
         "When the last task Completed, in seconds since the Unix epoch; 0 before any.");
  samples.Add("orchestrator_last_success_timestamp_seconds", {}, Seconds(progress.last_success()));
  return out;
}

MetricsFile::MetricsFile(std::string path, OutputStream& warnings, std::optional<Shard> shard)
    : path_(std::move(path)), warnings_(warnings), shard_(shard) {
  ResultFile::Create(path_, "metrics");  // throws if it cannot; the unpublished file goes
}

void MetricsFile::Write(const RunProgress& progress) {
  int error = 0;
  try {
    ResultFile file = ResultFile::Create(path_, "metrics");
    const std::string text = MetricsText(progress, shard_);
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
