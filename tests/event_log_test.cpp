// The --events writer: one JSON object a line, each event with the fields it needs.
#include "orchestrator/event_log.h"

#include "orchestrator/input_error.h"

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>

#include <fstream>
#include <sstream>

#include <unistd.h>

#include <cstdio>

namespace orchestrator {
namespace {

// A worker's one and only batch: `events`, then `task`'s row, after the last of them.
WorkerBatch LastBatch(std::span<const TaskEvent> events, const Task& task, Outcome outcome) {
  auto now = std::chrono::steady_clock::now();
  for (const TaskEvent& event : events) now = std::max(now, event.at);
  WorkerBatch batch;
  batch.task_events.assign(events.begin(), events.end());
  batch.records.emplace_back(RowRecord{.task = task, .outcome = std::move(outcome), .at = now});
  batch.last = true;
  batch.told_until = now;
  return batch;
}

std::vector<boost::json::object> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<boost::json::object> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(boost::json::parse(line).as_object());
  }
  return lines;
}

TEST(EventLogTest, WritesEachEventWithWhatItNeeds) {
  const std::string path =
      ::testing::TempDir() + "event_log_test-" + std::to_string(::getpid()) + ".jsonl";
  const Blueprint blueprint = DefaultBlueprint(GetOf("http://test/get"), Duration(5000));
  const Task task{.id = 18446744073709551615u, .type = 0};
  {
    EventLog log(path, {"say \"hi\""}, {&blueprint});
    const auto now = std::chrono::steady_clock::now();
    const TaskEvent events[] = {
        {.task = task, .at = now, .kind = TaskEventKind::kBlocked, .blocker = Blocker::kPool},
        {.task = task,
         .at = now + std::chrono::milliseconds(5),
         .micros = 2500,
         .kind = TaskEventKind::kStepFinished,
         .step = 0,
         .attempt = 2,
         .http_status = 503,
         .failure = FetchFailure::kHttpStatus},
        {.task = task,
         .at = now,
         .micros = 1'500'000,
         .kind = TaskEventKind::kRetry,
         .step = 0,
         .attempt = 2,
         .http_status = 503,
         .failure = FetchFailure::kHttpStatus},
        {.task = task,
         .at = now,
         .micros = 5'000'000,
         .kind = TaskEventKind::kStepFinished,
         .step = 1},
        {.task = task,
         .at = now,
         .kind = TaskEventKind::kWebhook,
         .hook = 2,
         .hook_index = 1,
         .given_up = true},
    };
    log.OnRunStart(1);
    log.OnBatch(LastBatch(events, task, Outcome::Failed("HTTP 503 \"Service\" Unavailable\n")));
    ASSERT_FALSE(log.AfterBatch());
  }
  const auto lines = ReadLines(path);
  ASSERT_EQ(lines.size(), 6u);
  for (const auto& line : lines) {
    EXPECT_EQ(line.at("task_id").as_uint64(), 18446744073709551615u);
    EXPECT_EQ(line.at("task_type").as_string(), "say \"hi\"");
    EXPECT_EQ(line.at("ts").as_string().size(), 24u) << boost::json::serialize(line);
  }
  EXPECT_EQ(lines[0].at("event").as_string(), "blocked");
  EXPECT_EQ(lines[0].at("by").as_string(), "pool");
  EXPECT_EQ(lines[1].at("event").as_string(), "step_finished");
  EXPECT_EQ(lines[1].at("step").as_string(), "fetch_data");
  EXPECT_EQ(lines[1].at("kind").as_string(), "fetch");
  EXPECT_EQ(lines[1].at("attempt").as_int64(), 2);
  EXPECT_DOUBLE_EQ(lines[1].at("duration_ms").to_number<double>(), 2.5);
  EXPECT_EQ(lines[1].at("http_status").as_int64(), 503);
  EXPECT_EQ(lines[1].at("outcome").as_string(), "http_status");
  EXPECT_GE(lines[1].at("elapsed_ms").as_int64(), 5);
  EXPECT_EQ(lines[2].at("event").as_string(), "retry");
  EXPECT_DOUBLE_EQ(lines[2].at("wait_ms").to_number<double>(), 1500);
  EXPECT_EQ(lines[2].at("reason").as_string(), "http_status");
  EXPECT_EQ(lines[3].at("step").as_string(), "long_delay");
  EXPECT_EQ(lines[3].at("kind").as_string(), "delay");
  EXPECT_DOUBLE_EQ(lines[3].at("duration_ms").to_number<double>(), 5000);
  EXPECT_FALSE(lines[3].contains("attempt"));
  EXPECT_EQ(lines[4].at("webhook").as_string(), "on_failure");
  EXPECT_EQ(lines[4].at("index").as_int64(), 1);
  EXPECT_EQ(lines[4].at("outcome").as_string(), "given_up");
  EXPECT_EQ(lines[5].at("event").as_string(), "finished");
  EXPECT_EQ(lines[5].at("final_status").as_string(), "Failed");
  EXPECT_EQ(lines[5].at("error_info").as_string(), "HTTP 503 \"Service\" Unavailable\n");
  std::remove(path.c_str());
}

TEST(EventLogTest, AFileThatCannotBeOpenedIsAnInputError) {
  const Blueprint blueprint = DefaultBlueprint(GetOf("http://test/get"), Duration(0));
  EXPECT_THROW(EventLog("/nonexistent/dir/events.jsonl", {"t"}, {&blueprint}), InputError);
}

// Durations are written without floating point: the same text fmt gives micros / 1000.0,
// whatever the value. And a line longer than the usual room (a long error_info) is whole.
TEST(EventLogTest, WritesDurationsAsFmtWouldAndLongLinesWhole) {
  const std::string path =
      ::testing::TempDir() + "event_log_durations-" + std::to_string(::getpid()) + ".jsonl";
  const Blueprint blueprint = DefaultBlueprint(GetOf("http://test/get"), Duration(5000));
  const Task task{.id = 7, .type = 0};
  const std::int64_t micros[] = {
      0,    1,    10,      100,       999,  1000,    1001,           1050,
      2500, 3200, 123'456, 5'000'000, -250, 999'999, 86'400'000'000, 31'536'000'000'000};
  const std::string long_error(5000, 'x');
  {
    EventLog log(path, {"t"}, {&blueprint});
    std::vector<TaskEvent> events;
    for (const std::int64_t value : micros) {
      events.push_back({.task = task,
                        .at = std::chrono::steady_clock::now(),
                        .micros = value,
                        .kind = TaskEventKind::kStepFinished,
                        .step = 1});
    }
    log.OnRunStart(1);
    log.OnBatch(LastBatch(events, task, Outcome::Failed(long_error)));
    ASSERT_FALSE(log.AfterBatch());
  }
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), std::size(micros) + 1);
  for (std::size_t i = 0; i < std::size(micros); ++i) {
    const std::string expected =
        "\"duration_ms\":" + fmt::format("{}", static_cast<double>(micros[i]) / 1000.0) + "}";
    EXPECT_TRUE(lines[i].ends_with(expected)) << lines[i] << " vs " << expected;
  }
  EXPECT_EQ(boost::json::parse(lines.back()).as_object().at("error_info").as_string(), long_error);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace orchestrator
