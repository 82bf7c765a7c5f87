// The closing numbers and the metrics file: the histogram, the counts, the text format (checked
// by Prometheus's own promtool).
#include "orchestrator/metrics_file.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "orchestrator/latency_histogram.h"
#include "subprocess.h"

namespace orchestrator {
namespace {

using testing::Subprocess;

TEST(LatencyHistogramTest, CountsEachDurationInTheFirstBucketThatHoldsIt) {
  LatencyHistogram histogram;
  histogram.Add(0.001);   // on a bound: that bucket (le="0.001")
  histogram.Add(0.0011);  // the next one
  histogram.Add(3.0);     // le="5"
  histogram.Add(1000.0);  // above every bound
  histogram.Add(-1.0);    // a clock that went back counts as 0
  EXPECT_EQ(histogram.count(), 5u);
  EXPECT_EQ(histogram.buckets()[0], 2u);
  EXPECT_EQ(histogram.buckets()[1], 1u);
  EXPECT_EQ(histogram.buckets()[11], 1u);
  EXPECT_EQ(histogram.buckets()[LatencyHistogram::kBounds.size()], 1u);
  EXPECT_DOUBLE_EQ(histogram.max(), 1000.0);
  EXPECT_NEAR(histogram.sum(), 1003.0021, 1e-9);
}

TEST(LatencyHistogramTest, QuantilesComeFromTheBucketsAndNeverPassTheMaximum) {
  LatencyHistogram histogram;
  EXPECT_EQ(histogram.Quantile(0.5), 0.0);
  // 90 fetches of 20 ms (bucket 10-25 ms) and 10 of 400 ms (250-500 ms).
  for (int i = 0; i < 90; ++i) histogram.Add(0.020);
  for (int i = 0; i < 10; ++i) histogram.Add(0.400);
  const double p50 = histogram.Quantile(0.5);
  EXPECT_GT(p50, 0.010);
  EXPECT_LE(p50, 0.025);
  const double p99 = histogram.Quantile(0.99);
  EXPECT_GT(p99, 0.25);
  EXPECT_LE(p99, 0.400) << "never above the greatest value seen";
  EXPECT_DOUBLE_EQ(histogram.Quantile(1.0), 0.400);

  LatencyHistogram other;
  other.Add(2.0);
  histogram.Add(other);
  EXPECT_EQ(histogram.count(), 101u);
  EXPECT_DOUBLE_EQ(histogram.max(), 2.0);
}

// A run of two types over two workers, part way through.
RunProgress SomeProgress() {
  RunProgress progress({"ingest", "say \"hi\"\\now\n"}, 2, 10,
                       RunProgress::WallTime(std::chrono::seconds(1'796'200'000)));
  RunStats first;
  first.phases[static_cast<std::size_t>(TaskPhase::kFetching)] = 2;
  first.phases[static_cast<std::size_t>(TaskPhase::kWaiting)] = 2;
  first.phases[static_cast<std::size_t>(TaskPhase::kDone)] = 1;
  first.fetch_seconds.resize(2);
  first.fetch_seconds[0].Add(0.02);
  first.fetch_seconds[0].Add(0.3);
  first.responses[200] = 1;
  first.responses[503] = 1;
  first.retries[static_cast<std::size_t>(FetchFailure::kHttpStatus)] = 1;
  first.webhooks_given_up = 1;
  progress.WorkerStats(0, first);  // worker 1 has not reported: its tasks count as pending
  progress.Row(Task{.id = 7, .type = 0}, Outcome::Completed(),
               RunProgress::WallTime(std::chrono::seconds(1'796'200'003)));
  return progress;
}

TEST(MetricsTextTest, WritesEveryKnownSeriesFromTheStart) {
  const RunProgress progress({"ingest"}, 1, 3, RunProgress::WallTime(std::chrono::seconds(100)));
  const std::string text = MetricsText(progress);
  for (const char* series : {
           "orchestrator_tasks_total{final_status=\"Completed\",task_type=\"ingest\"} 0\n",
           "orchestrator_tasks_total{final_status=\"Failed\",task_type=\"ingest\"} 0\n",
           "orchestrator_tasks{state=\"pending\"} 3\n",
           "orchestrator_tasks{state=\"blocked\"} 0\n",
           "orchestrator_tasks{state=\"done\"} 0\n",
           "orchestrator_fetch_duration_seconds_bucket{task_type=\"ingest\",le=\"+Inf\"} 0\n",
           "orchestrator_fetch_duration_seconds_count{task_type=\"ingest\"} 0\n",
           "orchestrator_retries_total{reason=\"timeout\"} 0\n",
           "orchestrator_webhooks_total{outcome=\"given_up\"} 0\n",
           "orchestrator_run_start_timestamp_seconds 100.000\n",
           "orchestrator_last_success_timestamp_seconds 0.000\n",
       }) {
    EXPECT_NE(text.find(series), std::string::npos) << series << "\n" << text;
  }
  EXPECT_EQ(text.find("orchestrator_http_responses_total{"), std::string::npos)
      << "no code seen yet";
}

TEST(MetricsTextTest, AddsUpTheWorkersAndEscapesLabelValues) {
  const std::string text = MetricsText(SomeProgress());
  for (const char* series : {
           "orchestrator_tasks_total{final_status=\"Completed\",task_type=\"ingest\"} 1\n",
           // Backslash, double quote and line feed escaped.
           "orchestrator_tasks_total{final_status=\"Failed\",task_type=\"say "
           "\\\"hi\\\"\\\\now\\n\"} 0\n",
           // Worker 0's 5 tasks as it said; worker 1's 5 (10 - 5) pending; done from the rows.
           "orchestrator_tasks{state=\"fetching\"} 2\n",
           "orchestrator_tasks{state=\"waiting\"} 2\n",
           "orchestrator_tasks{state=\"pending\"} 5\n",
           "orchestrator_tasks{state=\"done\"} 1\n",
           // Cumulative buckets: 20 ms in le=0.025 on, 300 ms from le=0.5 on.
           "orchestrator_fetch_duration_seconds_bucket{task_type=\"ingest\",le=\"0.01\"} 0\n",
           "orchestrator_fetch_duration_seconds_bucket{task_type=\"ingest\",le=\"0.025\"} 1\n",
           "orchestrator_fetch_duration_seconds_bucket{task_type=\"ingest\",le=\"0.5\"} 2\n",
           "orchestrator_fetch_duration_seconds_count{task_type=\"ingest\"} 2\n",
           "orchestrator_http_responses_total{code=\"200\"} 1\n",
           "orchestrator_http_responses_total{code=\"503\"} 1\n",
           "orchestrator_retries_total{reason=\"http_status\"} 1\n",
           "orchestrator_webhooks_total{outcome=\"given_up\"} 1\n",
           "orchestrator_last_completion_timestamp_seconds 1796200003.000\n",
           "orchestrator_last_success_timestamp_seconds 1796200003.000\n",
       }) {
    EXPECT_NE(text.find(series), std::string::npos) << series << "\n" << text;
  }
}

// Prometheus's own checker, from the Debian package `prometheus` (scripts/install-deps
// --test): the text parses, and follows its naming and HELP conventions.
TEST(MetricsTextTest, PromtoolFindsNothingWrong) {
  for (const RunProgress& progress :
       {SomeProgress(), RunProgress({"a"}, 1, 0, RunProgress::WallTime(std::chrono::seconds(1)))}) {
    for (const std::optional<Shard> shard : {std::optional<Shard>(), std::optional(Shard{3, 8})}) {
      const std::string text = MetricsText(progress, shard);
      Subprocess promtool({"/usr/bin/promtool", "check", "metrics"}, testing::Stdin(text));
      const auto result = promtool.Wait();
      EXPECT_EQ(result.exit_status, 0) << result.out << result.err << text;
      EXPECT_EQ(result.out + result.err, "") << "no lint warning either";
    }
  }
}

// A shard's file labels every series with it, in node_exporter's order of labels, so the
// shards' files add up in one query (sum without (shard)).
TEST(MetricsTextTest, AShardLabelsEverySeries) {
  const std::string text = MetricsText(SomeProgress(), Shard{3, 8});
  for (const char* series : {
           "orchestrator_tasks_total{final_status=\"Completed\",shard=\"3\",task_type=\"ingest\"} "
           "1\n",
           "orchestrator_tasks{shard=\"3\",state=\"done\"} 1\n",
           "orchestrator_fetch_duration_seconds_bucket{shard=\"3\",task_type=\"ingest\",le="
           "\"0.025\"} 1\n",
           "orchestrator_fetch_duration_seconds_count{shard=\"3\",task_type=\"ingest\"} 2\n",
           "orchestrator_http_responses_total{code=\"200\",shard=\"3\"} 1\n",
           "orchestrator_retries_total{reason=\"http_status\",shard=\"3\"} 1\n",
           "orchestrator_webhooks_total{outcome=\"given_up\",shard=\"3\"} 1\n",
           "orchestrator_last_success_timestamp_seconds{shard=\"3\"} 1796200003.000\n",
       }) {
    EXPECT_NE(text.find(series), std::string::npos) << series << "\n" << text;
  }
  std::size_t samples = 0, labelled = 0;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t end = text.find('\n', at);
    const std::string_view line(text.data() + at, end - at);
    if (!line.starts_with('#')) {
      ++samples;
      if (line.find("shard=\"3\"") != std::string_view::npos) ++labelled;
    }
    at = end + 1;
  }
  EXPECT_GT(samples, 20u);
  EXPECT_EQ(labelled, samples);
}

}  // namespace
}  // namespace orchestrator
