#include "orchestrator/run_report.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <numeric>
#include <vector>

#include "orchestrator/result_file.h"
#include "orchestrator/status_line.h"
#include "orchestrator/text.h"

namespace orchestrator {
namespace {

constexpr std::size_t kReportedTypes = 20;

// 0.0123 as "12ms", 1.5 as "1.50s": enough digits to compare, no more.
std::string Human(double seconds) {
  if (seconds >= 1) return fmt::format("{:.2f}s", seconds);
  if (seconds >= 0.01) return fmt::format("{:.0f}ms", seconds * 1000);
  return fmt::format("{:.1f}ms", seconds * 1000);
}

std::uint64_t Sum(const std::vector<std::uint64_t>& counts) {
  return std::accumulate(counts.begin(), counts.end(), std::uint64_t{0});
}

}  // namespace

boost::json::object ReportJson(const RunProgress& progress, double seconds) {
  const RunStats stats = progress.Combined();
  boost::json::array types;
  std::uint64_t completed = 0;
  for (std::size_t t = 0; t < progress.type_names().size(); ++t) {
    const LatencyHistogram& fetches = stats.fetch_seconds[t];
    boost::json::value quantiles = nullptr;
    if (fetches.count() > 0) {
      quantiles = boost::json::object{{"p50", fetches.Quantile(0.5)},
                                      {"p90", fetches.Quantile(0.9)},
                                      {"p99", fetches.Quantile(0.99)},
                                      {"max", fetches.max()}};
    }
    completed += progress.completed(t);
    types.push_back(boost::json::object{
        {"task_type", ValidUtf8(progress.type_names()[t])},
        {"tasks", progress.completed(t) + progress.failed(t)},
        {"completed", progress.completed(t)},
        {"failed", progress.failed(t)},
        {"retries", t < stats.retries_by_type.size() ? stats.retries_by_type[t] : 0},
        {"fetches", fetches.count()},
        {"fetch_seconds", std::move(quantiles)}});
  }
  boost::json::array failures;
  for (const auto& [reason, count] : progress.TopFailures(kReportedFailures)) {
    failures.push_back(boost::json::object{{"reason", ValidUtf8(reason)}, {"count", count}});
  }
  return boost::json::object{{"tasks", progress.rows()},
                             {"completed", completed},
                             {"failed", progress.failed_rows()},
                             {"retries", Sum(stats.retries_by_type)},
                             {"seconds", seconds},
                             {"task_types", std::move(types)},
                             {"top_failures", std::move(failures)},
                             {"other_failures", progress.other_failures()}};
}

std::string ReportText(const RunProgress& progress) {
  const RunStats stats = progress.Combined();
  const std::vector<std::string>& names = progress.type_names();
  // Types by rows, most first; each row's cells, then the columns' widths.
  std::vector<std::size_t> order(names.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return progress.completed(a) + progress.failed(a) > progress.completed(b) + progress.failed(b);
  });
  std::vector<std::vector<std::string>> rows = {
      {"task_type", "tasks", "Completed", "Failed", "retries", "fetch p50", "p90", "p99", "max"}};
  for (std::size_t i = 0; i < std::min(order.size(), kReportedTypes); ++i) {
    const std::size_t t = order[i];
    const LatencyHistogram& fetches = stats.fetch_seconds[t];
    const bool any = fetches.count() > 0;
    std::string name;
    AppendPrintable(name, names[t]);
    rows.push_back({std::move(name), fmt::to_string(progress.completed(t) + progress.failed(t)),
                    fmt::to_string(progress.completed(t)), fmt::to_string(progress.failed(t)),
                    fmt::to_string(t < stats.retries_by_type.size() ? stats.retries_by_type[t] : 0),
                    any ? Human(fetches.Quantile(0.5)) : "-",
                    any ? Human(fetches.Quantile(0.9)) : "-",
                    any ? Human(fetches.Quantile(0.99)) : "-", any ? Human(fetches.max()) : "-"});
  }
  std::vector<std::size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  std::string text;
  for (const auto& row : rows) {
    std::string line = "orchestrator:";
    for (std::size_t c = 0; c < row.size(); ++c) {
      // The name left-aligned, the counts right-aligned, the times left-aligned.
      line += c == 0 || c >= 5 ? fmt::format(" {:<{}}", row[c], widths[c])
                               : fmt::format(" {:>{}}", row[c], widths[c]);
    }
    while (line.ends_with(' ')) line.pop_back();
    text += line + "\n";
  }
  if (order.size() > kReportedTypes) {
    text +=
        fmt::format("orchestrator: ... and {} more task types\n", order.size() - kReportedTypes);
  }
  const auto failures = progress.TopFailures(kReportedFailures);
  if (!failures.empty()) {
    text += "orchestrator: top failure reasons:\n";
    for (const auto& [reason, count] : failures) {
      std::string line = fmt::format("orchestrator: {:>8} ", count);
      AppendPrintable(line, reason);
      text += line + "\n";
    }
  }
  return text;
}

RunReport::RunReport(OutputStream* stderr_stream, Format format, std::string file,
                     OutputStream& warnings)
    : stderr_stream_(stderr_stream), format_(format), file_(std::move(file)), warnings_(warnings) {
  if (!file_.empty()) ResultFile::Create(file_, "the report");  // throws if it cannot
}

void RunReport::Finish(const RunProgress& progress) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::system_clock::now() - progress.started()).count();
  const std::string json = boost::json::serialize(ReportJson(progress, seconds)) + "\n";
  if (stderr_stream_ != nullptr) {
    stderr_stream_->Write(format_ == Format::kJson ? json : ReportText(progress));
  }
  if (file_.empty()) return;
  int error = 0;
  try {
    ResultFile file = ResultFile::Create(file_, "the report");
    error = file.Write(json);
    if (error == 0) error = file.Publish();
  } catch (const std::exception& failure) {
    warnings_.Write(fmt::format("orchestrator: warning: --report-file: {}\n", failure.what()));
    return;
  }
  if (error != 0) {
    warnings_.Write(fmt::format("orchestrator: warning: --report-file: cannot write {}: {}\n",
                                file_, std::strerror(error)));
  }
}

}  // namespace orchestrator
