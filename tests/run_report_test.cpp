// The closing report: its table, its failure reasons, its JSON.
#include "orchestrator/run_report.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace orchestrator {
namespace {

// Two types: 3 ingest rows (1 failed) and 1 "re\x1bport" row; fetch times and retries.
RunProgress Ended() {
  RunProgress progress({"ingest", "re\x1bport"}, 1, 4, RunProgress::WallTime());
  const RunProgress::WallTime now;
  progress.Row(Task{.id = 1, .type = 0}, Outcome::Completed(), now);
  progress.Row(Task{.id = 2, .type = 0}, Outcome::Failed("HTTP 503 Service Unavailable"), now);
  progress.Row(Task{.id = 3, .type = 0}, Outcome::Completed(), now);
  progress.Row(Task{.id = 4, .type = 1}, Outcome::Failed("timed out after 10s"), now);
  RunStats stats;
  stats.fetch_seconds.resize(2);
  for (const double seconds : {0.020, 0.020, 0.020, 0.400}) stats.fetch_seconds[0].Add(seconds);
  stats.retries_by_type = {1, 0};
  progress.WorkerStats(0, stats);
  return progress;
}

TEST(RunReportTest, ATableByTaskTypeThenTheFailureReasons) {
  EXPECT_EQ(ReportText(Ended()),
            "orchestrator: task_type tasks Completed Failed retries fetch p50 p90   p99   max\n"
            "orchestrator: ingest        3         2      1       1 20ms      400ms 400ms 400ms\n"
            "orchestrator: re?port       1         0      1       0 -         -     -     -\n"
            "orchestrator: top failure reasons:\n"
            "orchestrator:        1 HTTP 503 Service Unavailable\n"
            "orchestrator:        1 timed out after 10s\n");
}

TEST(RunReportTest, TheSameAsJson) {
  const boost::json::value report = ReportJson(Ended(), 1.5);
  const boost::json::value expected = boost::json::parse(R"({
    "tasks": 4, "completed": 2, "failed": 2, "retries": 1, "seconds": 1.5,
    "task_types": [
      {"task_type": "ingest", "tasks": 3, "completed": 2, "failed": 1, "retries": 1,
       "fetches": 4, "fetch_seconds": {"p50": 0.02, "p90": 0.4, "p99": 0.4, "max": 0.4}},
      {"task_type": "re\u001bport", "tasks": 1, "completed": 0, "failed": 1, "retries": 0,
       "fetches": 0, "fetch_seconds": null}],
    "top_failures": [{"reason": "HTTP 503 Service Unavailable", "count": 1},
                     {"reason": "timed out after 10s", "count": 1}],
    "other_failures": 0})");
  // The quantiles come from the buckets: compare them within their bucket.
  boost::json::value got = report;
  auto& quantiles = got.at("task_types").at(0).at("fetch_seconds").as_object();
  EXPECT_GT(quantiles.at("p50").as_double(), 0.010);
  EXPECT_LE(quantiles.at("p50").as_double(), 0.025);
  EXPECT_GT(quantiles.at("p90").as_double(), 0.25);
  quantiles["p50"] = 0.02;
  quantiles["p90"] = 0.4;
  EXPECT_EQ(got, expected) << boost::json::serialize(report);
}

// The summary line prints 20000 where the table printed 20,000: counts are plain digits
// everywhere, so that scripts can grep them and the two agree.
TEST(RunReportTest, CountsArePlainDigits) {
  RunProgress progress({"ingest"}, 1, 20'000, RunProgress::WallTime());
  for (TaskId id = 1; id <= 20'000; ++id) {
    progress.Row(Task{.id = id, .type = 0},
                 id <= 1'500 ? Outcome::Failed("HTTP 500") : Outcome::Completed(),
                 RunProgress::WallTime());
  }
  EXPECT_EQ(ReportText(progress),
            "orchestrator: task_type tasks Completed Failed retries fetch p50 p90 p99 max\n"
            "orchestrator: ingest    20000     18500   1500       0 -         -   -   -\n"
            "orchestrator: top failure reasons:\n"
            "orchestrator:     1500 HTTP 500\n");
}

TEST(RunReportTest, TheMostFrequentReasonsFirstAtMostFive) {
  RunProgress progress({"t"}, 1, 100, RunProgress::WallTime());
  TaskId id = 0;
  for (int reason = 0; reason < 8; ++reason) {
    for (int n = 0; n <= reason; ++n) {
      progress.Row(Task{.id = ++id, .type = 0}, Outcome::Failed("reason " + std::to_string(reason)),
                   RunProgress::WallTime());
    }
  }
  const auto top = progress.TopFailures(kReportedFailures);
  ASSERT_EQ(top.size(), 5u);
  EXPECT_EQ(top[0], (std::pair<std::string, std::uint64_t>{"reason 7", 8}));
  EXPECT_EQ(top[4], (std::pair<std::string, std::uint64_t>{"reason 3", 4}));
}

}  // namespace
}  // namespace orchestrator
