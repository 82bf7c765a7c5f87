// The closing numbers and the metrics file: the histogram, the counts, the text format (checked
// by Prometheus's own promtool).
#include "orchestrator/metrics_file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

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

TEST(LatencyHistogramTest, QuantilesNeverPassTheMaximum) {
  LatencyHistogram histogram;
  EXPECT_EQ(histogram.Quantile(0.5), 0.0);
  // 90 fetches of 20 ms and 10 of 400 ms.
  for (int i = 0; i < 90; ++i) histogram.Add(0.020);
  for (int i = 0; i < 10; ++i) histogram.Add(0.400);
  EXPECT_DOUBLE_EQ(histogram.Quantile(0.5), 0.020);
  EXPECT_DOUBLE_EQ(histogram.Quantile(0.99), 0.400);
  EXPECT_DOUBLE_EQ(histogram.Quantile(1.0), 0.400);

  LatencyHistogram other;
  other.Add(2.0);
  histogram.Add(other);
  EXPECT_EQ(histogram.count(), 101u);
  EXPECT_DOUBLE_EQ(histogram.max(), 2.0);
  EXPECT_DOUBLE_EQ(histogram.Quantile(1.0), 2.0);
}

// Three fetches that all timed out at 2.00 s showed p50 1.67 s: a value no fetch took.
TEST(LatencyHistogramTest, EveryQuantileLiesWithinTheValuesSeen) {
  LatencyHistogram timeouts;
  for (int i = 0; i < 3; ++i) timeouts.Add(2.0);
  for (const double q : {0.01, 0.5, 0.9, 0.99, 1.0}) {
    EXPECT_DOUBLE_EQ(timeouts.Quantile(q), 2.0) << q;
  }
  // Many values, all in one of the metrics' buckets: still none outside them.
  LatencyHistogram narrow;
  for (int i = 0; i < 10'000; ++i) narrow.Add(0.300 + 0.010 * (i % 101) / 100);
  for (const double q : {0.001, 0.01, 0.5, 0.99, 1.0}) {
    EXPECT_GE(narrow.Quantile(q), 0.300) << q;
    EXPECT_LE(narrow.Quantile(q), 0.310) << q;
  }
}

// The value of rank ceil(q * n) among `values`, as Quantile defines it.
double ExactQuantile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const auto rank =
      static_cast<std::size_t>(std::max(1.0, std::ceil(q * static_cast<double>(values.size()))));
  return values[rank - 1];
}

constexpr double kQuantiles[] = {0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0};

// Values spread evenly over the decades from 100 us to 100 s.
std::vector<double> OverDecades(std::size_t n, unsigned seed) {
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> exponent(-4.0, 2.0);
  std::vector<double> values(n);
  for (double& value : values) value = std::pow(10.0, exponent(random));
  return values;
}

TEST(LatencyHistogramTest, ExactForAFewHundredValues) {
  for (const std::size_t n : {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{256}}) {
    const std::vector<double> values = OverDecades(n, static_cast<unsigned>(n));
    LatencyHistogram histogram;
    for (const double value : values) histogram.Add(value);
    for (const double q : kQuantiles) {
      EXPECT_EQ(histogram.Quantile(q), ExactQuantile(values, q)) << n << " values, q " << q;
    }
  }
  // Two small ones added up are still exact.
  const std::vector<double> values = OverDecades(200, 3);
  LatencyHistogram first;
  LatencyHistogram second;
  for (std::size_t i = 0; i < values.size(); ++i) (i < 120 ? first : second).Add(values[i]);
  first.Add(second);
  for (const double q : kQuantiles) EXPECT_EQ(first.Quantile(q), ExactQuantile(values, q)) << q;
}

TEST(LatencyHistogramTest, WithinOnePercentOfTheExactQuantileBeyondThat) {
  for (const std::size_t n : {std::size_t{257}, std::size_t{1000}, std::size_t{200'000}}) {
    const std::vector<double> values = OverDecades(n, static_cast<unsigned>(n));
    LatencyHistogram histogram;
    for (const double value : values) histogram.Add(value);
    for (const double q : kQuantiles) {
      const double exact = ExactQuantile(values, q);
      EXPECT_NEAR(histogram.Quantile(q), exact, 0.01 * exact) << n << " values, q " << q;
    }
  }
  // The same when the values come from several workers' histograms added up.
  const std::vector<double> values = OverDecades(30'000, 11);
  LatencyHistogram all;
  std::vector<LatencyHistogram> workers(3);
  for (std::size_t i = 0; i < values.size(); ++i) workers[i % 3].Add(values[i]);
  for (const LatencyHistogram& worker : workers) all.Add(worker);
  EXPECT_EQ(all.count(), values.size());
  for (const double q : kQuantiles) {
    const double exact = ExactQuantile(values, q);
    EXPECT_NEAR(all.Quantile(q), exact, 0.01 * exact) << q;
  }
}

TEST(LatencyHistogramTest, IsSmallWhileItHoldsFewValues) {
  // One per task type per worker, and a run may have 100,000 types: the 16 KiB of fine
  // buckets come only past the exact values. The header comment states this size.
  EXPECT_LE(sizeof(LatencyHistogram), 256u);
  // Past the exact values and back: merging two small ones past the limit, and quantiles
  // from the buckets, as when there were never few.
  LatencyHistogram a, b;
  for (int i = 1; i <= 200; ++i) a.Add(i / 1000.0);
  for (int i = 201; i <= 400; ++i) b.Add(i / 1000.0);
  a.Add(b);
  EXPECT_EQ(a.count(), 400u);
  EXPECT_NEAR(a.Quantile(0.5), 0.2, 0.2 * 0.01);
  EXPECT_NEAR(a.Quantile(0.99), 0.396, 0.396 * 0.01);
  EXPECT_NEAR(a.Quantile(1), 0.4, 0.4 * 0.01);
  EXPECT_LE(a.Quantile(1), a.max());
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
