#include "orchestrator/runner.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <map>

#include "fakes.h"

namespace orchestrator {
namespace {

using std::chrono::milliseconds;

struct RecordingSink : RunSink {
  void Event(const Task& task, std::string_view type, std::string_view step,
             std::string_view line) override {
    events.push_back(line.empty() ? fmt::format("{} {} {}", task.id, type, step)
                                  : fmt::format("{} {} {}: {}", task.id, type, step, line));
  }
  void Result(const Task& task, const Outcome& outcome) override {
    rows.push_back(
        fmt::format("{},{},{}", task.id, FinalStatusName(outcome.status()), outcome.error_info));
    std::string cells;
    outcome.captured.ForEach([&](std::size_t column, std::string_view value) {
      cells += fmt::format("{}{}={}", cells.empty() ? "" : " ", column, value);
    });
    captured.push_back(std::move(cells));
    ++rows_per_task[task.id];
    if (on_result) on_result();
  }
  void WebhookGaveUp(const Task& task, std::string_view webhook, std::string_view reason) override {
    warnings.push_back(fmt::format("{} for task {}: {}", webhook, task.id, reason));
  }
  std::vector<std::string> events;
  std::vector<std::string> warnings;
  std::vector<std::string> rows;
  std::vector<std::string> captured;  // by row: "COLUMN=VALUE ..."
  std::map<TaskId, int> rows_per_task;
  std::function<void()> on_result;
};

const FetchResult kOk{};
FetchResult Status(int code, std::string message) {
  return {FetchFailure::kHttpStatus, code, std::move(message), std::nullopt, {}};
}
const FetchResult k503 = Status(503, "HTTP 503 Service Unavailable");

TaskList MakeTasks(std::size_t count, TaskId first = 101) {
  TaskList list;
  list.type_names = {"process_data"};
  for (std::size_t i = 0; i < count; ++i) list.tasks.push_back({first + i, 0});
  return list;
}

class RunnerTest : public ::testing::Test {
 protected:
  void StartRun(std::size_t task_count, std::size_t max_fetches = 64, int retries = 2) {
    tasks_ = MakeTasks(task_count);
    for (Step& step : blueprint_.steps) {
      if (auto* fetch = std::get_if<FetchStep>(&step.action)) {
        fetch->retry = {.max_retries = retries, .base_delay = Duration(1000)};
      }
    }
    runner_.emplace(tasks_, blueprint_, RunnerOptions{.max_fetches = max_fetches, .seed = 42},
                    http_, clock_, sink_);
    runner_->Start([this] { ++finished_calls_; });
  }

  Blueprint blueprint_ = DefaultBlueprint(GetOf("http://test/get"), Duration(5000));
  TaskList tasks_;
  FakeHttpClient http_;
  FakeClock clock_;
  RecordingSink sink_;
  std::optional<Runner> runner_;
  int finished_calls_ = 0;
};

TEST_F(RunnerTest, RunsFetchThenDelayThenEmitForEveryTask) {
  StartRun(3);
  ASSERT_EQ(http_.pending.size(), 3u);
  EXPECT_EQ(http_.pending[0].request.url, "http://test/get");
  http_.CompleteCurrent(kOk);
  EXPECT_TRUE(sink_.rows.empty());  // all three are in their delay
  clock_.Advance(milliseconds(4999));
  EXPECT_TRUE(sink_.rows.empty());
  clock_.Advance(milliseconds(1));
  EXPECT_EQ(sink_.events,
            (std::vector<std::string>{"101 process_data emit_event", "102 process_data emit_event",
                                      "103 process_data emit_event"}));
  EXPECT_EQ(sink_.rows,
            (std::vector<std::string>{"101,Completed,", "102,Completed,", "103,Completed,"}));
  EXPECT_TRUE(runner_->finished());
  EXPECT_EQ(finished_calls_, 1);
}

// A result as the engine gives it for a fetch that kept the body.
FetchResult WithBody(std::string body) {
  FetchResult result;
  result.http_status = 200;
  result.response.size = body.size();
  result.response.body = std::move(body);
  return result;
}

std::vector<Capture> CapturesOf(
    std::initializer_list<std::pair<std::string_view, std::string_view>> specs) {
  std::vector<Capture> captures;
  for (const auto& [name, text] : specs) {
    captures.push_back(
        {std::string(name), std::get<CaptureSpec>(CaptureSpec::Parse(text)), captures.size()});
  }
  return captures;
}

TEST_F(RunnerTest, ARowCarriesWhatItsFetchCapturedAndKeepsItThroughTheDelay) {
  auto& fetch = std::get<FetchStep>(blueprint_.steps[0].action);
  SetCaptures(fetch, CapturesOf({{"status", "status"}, {"price", "json:/price"}}));
  StartRun(2);
  ASSERT_EQ(http_.pending.size(), 2u);
  EXPECT_TRUE(http_.pending[0].request.keep.body) << "the engine is asked to keep the body";
  http_.Complete(0, WithBody(R"({"price": 12.5})"));
  http_.Complete(0, WithBody(R"({"price": "n/a"})"));
  clock_.Advance(milliseconds(5000));
  EXPECT_EQ(sink_.rows, (std::vector<std::string>{"101,Completed,", "102,Completed,"}));
  EXPECT_EQ(sink_.captured, (std::vector<std::string>{"0=200 1=12.5", "0=200 1=n/a"}));
}

TEST_F(RunnerTest, AValueNotThereFailsTheTaskWithoutARetry) {
  auto& fetch = std::get<FetchStep>(blueprint_.steps[0].action);
  SetCaptures(fetch, CapturesOf({{"status", "status"}, {"price", "json:/price"}}));
  blueprint_.step_names_in_errors = true;
  StartRun(1);
  http_.Complete(0, WithBody(R"({"cost": 3})"));
  EXPECT_TRUE(http_.pending.empty());
  EXPECT_EQ(sink_.rows, std::vector<std::string>{
                            "101,Failed,fetch_data: capture price: /price is not in the body"});
  EXPECT_EQ(http_.started, 1u);
}

TEST_F(RunnerTest, AFetchWithoutCapturesKeepsNothing) {
  StartRun(1);
  EXPECT_FALSE(http_.pending[0].request.keep.any());
  http_.CompleteCurrent(kOk);
  clock_.Advance(milliseconds(5000));
  EXPECT_EQ(sink_.captured, std::vector<std::string>{""});
}

TEST_F(RunnerTest, ATaskInItsDelayHoldsNoFetchSlot) {
  StartRun(5, /*max_fetches=*/2);
  EXPECT_EQ(http_.pending.size(), 2u);
  http_.CompleteCurrent(kOk);  // 101 and 102 go to their delay
  EXPECT_EQ(http_.pending.size(), 2u) << "103 and 104 should start while 101 and 102 wait";
  http_.CompleteCurrent(kOk);
  EXPECT_EQ(http_.pending.size(), 1u);
  http_.CompleteCurrent(kOk);
  clock_.Advance(milliseconds(5000));
  EXPECT_EQ(sink_.rows.size(), 5u);
  EXPECT_EQ(http_.max_in_flight, 2u);
}

TEST_F(RunnerTest, NeverHasMoreFetchesInFlightThanTheLimit) {
  StartRun(1000, /*max_fetches=*/7);
  std::size_t step = 0;
  while (!http_.pending.empty()) {
    EXPECT_LE(http_.pending.size(), 7u);
    // Complete in a scrambled order, some failing for good.
    const std::size_t position = (step * 5) % http_.pending.size();
    http_.Complete(position, step % 10 == 0 ? Status(404, "HTTP 404 Not Found") : kOk);
    ++step;
  }
  clock_.Advance(milliseconds(5000));
  EXPECT_EQ(http_.max_in_flight, 7u);
  EXPECT_EQ(sink_.rows.size(), 1000u);
  EXPECT_EQ(finished_calls_, 1);
}

TEST_F(RunnerTest, OpensFewerFetchesWhileTheLoopLags) {
  tasks_ = MakeTasks(1000);
  runner_.emplace(tasks_, blueprint_,
                  RunnerOptions{.max_fetches = 1000, .seed = 42, .adapt_to_load = true}, http_,
                  clock_, sink_);
  runner_->Start([this] { ++finished_calls_; });
  EXPECT_EQ(http_.pending.size(), FetchWindow::kInitial) << "the window starts small";
  runner_->OnLoopLoad({.lag = milliseconds(1)});
  EXPECT_EQ(http_.pending.size(), 2 * FetchWindow::kInitial) << "and grows at once";
  runner_->OnLoopLoad({.lag = milliseconds(300)});
  EXPECT_EQ(runner_->fetch_window(), 2 * FetchWindow::kInitial) << "a busy loop holds it";
  runner_->OnLoopLoad({.lag = FetchWindow::kStalled});
  EXPECT_EQ(runner_->fetch_window(), FetchWindow::kInitial);
  EXPECT_EQ(http_.pending.size(), 2 * FetchWindow::kInitial) << "nothing in flight is dropped";
  // Fetches that end free no place until the in-flight count is under the window.
  for (int i = 0; i < 64; ++i) http_.Complete(0, kOk);
  EXPECT_EQ(http_.pending.size(), FetchWindow::kInitial);
  http_.Complete(0, kOk);
  EXPECT_EQ(http_.pending.size(), FetchWindow::kInitial);
  // Every task still gets its row.
  while (!http_.pending.empty()) {
    http_.CompleteCurrent(kOk);
    runner_->OnLoopLoad({.lag = milliseconds(1)});
  }
  clock_.Advance(milliseconds(5000));
  EXPECT_EQ(sink_.rows.size(), 1000u);
  EXPECT_EQ(finished_calls_, 1);
}

TEST_F(RunnerTest, IgnoresTheLoopsLagUnlessAskedToAdapt) {
  StartRun(300, /*max_fetches=*/200);
  EXPECT_EQ(http_.pending.size(), 200u);
  runner_->OnLoopLoad({.lag = FetchWindow::kStalled});
  EXPECT_EQ(runner_->fetch_window(), 200u);
}

TEST_F(RunnerTest, AFailedFetchEndsTheTaskAtOnce) {
  StartRun(2);
  http_.Complete(0, Status(404, "HTTP 404 Not Found"));
  EXPECT_EQ(sink_.rows, std::vector<std::string>{"101,Failed,HTTP 404 Not Found"});
  http_.Complete(0, kOk);
  clock_.Advance(milliseconds(5000));
  EXPECT_EQ(sink_.events, std::vector<std::string>{"102 process_data emit_event"});
  EXPECT_EQ(sink_.rows.size(), 2u);
  EXPECT_EQ(http_.started, 2u) << "a 404 is not retried";
}

TEST_F(RunnerTest, RetriesATransientFailureAfterABackoff) {
  StartRun(1);
  http_.Complete(0, k503);
  EXPECT_TRUE(http_.pending.empty());
  ASSERT_TRUE(clock_.wake_at.has_value());
  const auto backoff = *clock_.wake_at - clock_.now;
  EXPECT_GE(backoff, milliseconds(500));  // base 1s, jittered over its upper half
  EXPECT_LT(backoff, milliseconds(1000));
  clock_.Advance(milliseconds(499));
  EXPECT_TRUE(http_.pending.empty());
  clock_.Advance(milliseconds(501));
  ASSERT_EQ(http_.pending.size(), 1u);
  http_.Complete(0, kOk);
  clock_.Advance(milliseconds(5000));
  EXPECT_EQ(sink_.rows, std::vector<std::string>{"101,Completed,"});
}

TEST_F(RunnerTest, GivesUpAfterTheRetriesAndSaysHowManyAttempts) {
  StartRun(1, 64, /*retries=*/2);
  for (int attempt = 0; attempt < 3; ++attempt) {
    ASSERT_EQ(http_.pending.size(), 1u) << attempt;
    http_.Complete(0, k503);
    clock_.Advance(milliseconds(2000));
  }
  EXPECT_TRUE(http_.pending.empty());
  EXPECT_EQ(sink_.rows,
            std::vector<std::string>{"101,Failed,HTTP 503 Service Unavailable (after 3 attempts)"});
}

TEST_F(RunnerTest, WaitsAsLongAsRetryAfterSays) {
  StartRun(1);
  FetchResult busy = Status(429, "HTTP 429 Too Many Requests");
  busy.retry_after = Duration(30'000);
  http_.Complete(0, busy);
  clock_.Advance(milliseconds(29'999));
  EXPECT_TRUE(http_.pending.empty());
  clock_.Advance(milliseconds(1));
  EXPECT_EQ(http_.pending.size(), 1u);
}

TEST_F(RunnerTest, A429StormSpreadsTheRetriesAndBoundsTheAttempts) {
  constexpr std::size_t kTasks = 200;
  StartRun(kTasks, /*max_fetches=*/kTasks, /*retries=*/2);
  const FetchResult busy = Status(429, "HTTP 429 Too Many Requests");
  http_.CompleteCurrent(busy);  // all at once: the storm
  // The first retries come back over the upper half of the 1 s backoff, not together.
  std::map<long, std::size_t> per_10ms;
  std::size_t seen = http_.started;
  for (int ms = 0; ms < 1000; ++ms) {
    clock_.Advance(milliseconds(1));
    if (http_.started > seen) per_10ms[ms / 10] += http_.started - seen;
    seen = http_.started;
  }
  EXPECT_EQ(seen, 2 * kTasks);
  EXPECT_GE(per_10ms.size(), 45u) << "spread over most of 500 ms";
  for (const auto& [slot, count] : per_10ms) EXPECT_LE(count, kTasks / 10) << slot;
  // Every attempt fails: each task stops after retries + 1 attempts.
  while (!http_.pending.empty() || clock_.wake_at) {
    http_.CompleteCurrent(busy);
    clock_.Advance(milliseconds(60'000));
  }
  EXPECT_EQ(http_.started, 3 * kTasks);
  ASSERT_EQ(sink_.rows.size(), kTasks);
  for (const std::string& row : sink_.rows) {
    EXPECT_TRUE(row.ends_with(",Failed,HTTP 429 Too Many Requests (after 3 attempts)")) << row;
  }
}

TEST_F(RunnerTest, ARetryGoesAheadOfTasksThatNeverStarted) {
  StartRun(4, /*max_fetches=*/1);
  http_.Complete(0, k503);  // 101 backs off; 102 starts
  ASSERT_EQ(http_.pending.size(), 1u);
  clock_.Advance(milliseconds(1000));  // 101 is due again while 102 is in flight
  http_.Complete(0, kOk);              // 102 done: the free slot goes to 101, not 103
  ASSERT_EQ(http_.pending.size(), 1u);
  EXPECT_EQ(http_.started, 3u);
  http_.Complete(0, kOk);
  EXPECT_EQ(http_.started, 4u);  // now 103
}

TEST_F(RunnerTest, CancelReportsEveryUnfinishedTaskOnceInInputOrder) {
  StartRun(5, /*max_fetches=*/2);
  http_.Complete(0, Status(404, "HTTP 404 Not Found"));  // 101 ends; 103 starts
  http_.Complete(0, kOk);                                // 102 in its delay; 104 starts
  runner_->Cancel();
  EXPECT_EQ(http_.cancels, 1);
  EXPECT_FALSE(clock_.wake_at.has_value());
  EXPECT_EQ(sink_.rows, (std::vector<std::string>{"101,Failed,HTTP 404 Not Found",
                                                  "102,Failed,cancelled", "103,Failed,cancelled",
                                                  "104,Failed,cancelled", "105,Failed,cancelled"}));
  EXPECT_EQ(finished_calls_, 1);
  runner_->Cancel();  // harmless
  clock_.Advance(milliseconds(10'000));
  EXPECT_EQ(sink_.rows.size(), 5u);
  EXPECT_TRUE(sink_.events.empty());
}

TEST_F(RunnerTest, CancellingFromInsideTheSinkStillGivesOneRowPerTask) {
  StartRun(4);
  sink_.on_result = [this] { runner_->Cancel(); };  // as an output error does
  http_.Complete(0, Status(404, "HTTP 404 Not Found"));
  EXPECT_TRUE(http_.pending.empty());
  EXPECT_EQ(sink_.rows.size(), 4u);
  for (const auto& [id, count] : sink_.rows_per_task) EXPECT_EQ(count, 1) << id;
  EXPECT_EQ(finished_calls_, 1);
}

TEST_F(RunnerTest, NoTasksFinishesAtOnce) {
  StartRun(0);
  EXPECT_EQ(finished_calls_, 1);
  EXPECT_TRUE(runner_->finished());
}

TEST_F(RunnerTest, ManyDelaysShareOneWakeUp) {
  StartRun(100'000, /*max_fetches=*/100'000);
  http_.CompleteCurrent(kOk);  // all enter the same 5 s delay at the same moment
  EXPECT_EQ(clock_.arms, 1);
  clock_.Advance(milliseconds(5000));
  EXPECT_EQ(sink_.rows.size(), 100'000u);
  EXPECT_EQ(clock_.arms, 1);
}

TEST_F(RunnerTest, RunsAnyBlueprintInOrder) {
  blueprint_.steps = {{"hello", EmitStep{}},
                      {"first", GetOf("http://test/one")},
                      {"pause", DelayStep{Duration(100), std::nullopt}},
                      {"second", GetOf("http://test/two")},
                      {"bye", EmitStep{}}};
  StartRun(1);
  EXPECT_EQ(sink_.events, std::vector<std::string>{"101 process_data hello"});
  ASSERT_EQ(http_.pending.size(), 1u);
  EXPECT_EQ(http_.pending[0].request.url, "http://test/one");
  http_.Complete(0, kOk);
  clock_.Advance(milliseconds(100));
  ASSERT_EQ(http_.pending.size(), 1u);
  EXPECT_EQ(http_.pending[0].request.url, "http://test/two");
  http_.Complete(0, kOk);
  EXPECT_EQ(sink_.events,
            (std::vector<std::string>{"101 process_data hello", "101 process_data bye"}));
  EXPECT_EQ(sink_.rows, std::vector<std::string>{"101,Completed,"});
}

// Blueprints per task type, as a blueprint file gives them.
class KindsTest : public RunnerTest {
 protected:
  static Template Parse(std::string_view text, TemplateContext context, const Blueprint& kind) {
    auto parsed =
        Template::Parse(text, context, [&](std::string_view name) { return SlotOf(kind, name); });
    EXPECT_TRUE(std::holds_alternative<Template>(parsed));
    return std::get<Template>(std::move(parsed));
  }

  // Type 0 "ingest" (columns wait, region), type 1 "ping" (no columns).
  void Prepare() {
    ingest_.name = "ingest";
    ingest_.step_names_in_errors = true;
    ingest_.columns = {{"wait", ColumnType::kDuration}, {"region", ColumnType::kString}};
    FetchStep get;
    get.url = Parse("http://test/items/{task_id}?r={region}", TemplateContext::kUrl, ingest_);
    get.retry.max_retries = 0;
    ingest_.steps.push_back({"get", std::move(get)});
    ingest_.steps.push_back({"pause", DelayStep{Duration(0), kFirstColumnSlot}});
    ingest_.steps.push_back(
        {"say", EmitStep{Parse("{task_id} in {region}", TemplateContext::kText, ingest_)}});
    ping_.name = "ping";
    ping_.step_names_in_errors = true;
    ping_.steps.push_back({"hello", EmitStep{}});

    tasks_.type_names = {"ingest", "ping"};
    tasks_.tasks.push_back({1, 0, tasks_.values.AddRow({"250ms", "eu west"})});
    tasks_.tasks.push_back({2, 1, kNoValues});
    tasks_.tasks.push_back({3, 0, tasks_.values.AddRow({"1s", "us"})});
    runner_.emplace(tasks_, std::vector<const Blueprint*>{&ingest_, &ping_},
                    RunnerOptions{.max_fetches = 64, .seed = 1}, http_, clock_, sink_);
    runner_->Start([this] { ++finished_calls_; });
  }

  Blueprint ingest_;
  Blueprint ping_;
};

TEST_F(KindsTest, EachTypeRunsItsOwnBlueprintWithItsRowFilledIn) {
  Prepare();
  EXPECT_EQ(sink_.events, std::vector<std::string>{"2 ping hello"});
  ASSERT_EQ(http_.pending.size(), 2u);
  EXPECT_EQ(http_.pending[0].request.url, "http://test/items/1?r=eu%20west");
  EXPECT_EQ(http_.pending[1].request.url, "http://test/items/3?r=us");
  http_.CompleteCurrent(kOk);
  // Each waits as long as its row says.
  clock_.Advance(milliseconds(249));
  EXPECT_EQ(sink_.rows, std::vector<std::string>{"2,Completed,"});
  clock_.Advance(milliseconds(1));
  EXPECT_EQ(sink_.events.back(), "1 ingest say: 1 in eu west");
  clock_.Advance(milliseconds(750));
  EXPECT_EQ(sink_.events.back(), "3 ingest say: 3 in us");
  EXPECT_EQ(sink_.rows.size(), 3u);
}

TEST_F(KindsTest, AFailedStepIsNamedInTheReason) {
  Prepare();
  http_.Complete(0, Status(404, "HTTP 404 Not Found"));
  EXPECT_EQ(sink_.rows,
            (std::vector<std::string>{"2,Completed,", "1,Failed,get: HTTP 404 Not Found"}));
}

TEST_F(KindsTest, AValueThatCannotGoWhereItsTemplatePutsItFailsThatTask) {
  // A raw value with a control character cannot go in a URL, and a filled-in URL must still
  // be http or https: each fails its own task, and the others run.
  Blueprint raw;
  raw.name = "raw";
  raw.step_names_in_errors = true;
  raw.columns = {{"base", ColumnType::kString}};
  FetchStep get;
  get.url = Parse("{base:raw}/x", TemplateContext::kUrl, raw);
  raw.steps.push_back({"get", std::move(get)});
  TaskList tasks;
  tasks.type_names = {"raw"};
  tasks.tasks.push_back({9, 0, tasks.values.AddRow({"http://a\nb"})});
  tasks.tasks.push_back({10, 0, tasks.values.AddRow({"ftp://a"})});
  tasks.tasks.push_back({11, 0, tasks.values.AddRow({"http://ok"})});
  runner_.emplace(tasks, raw, RunnerOptions{}, http_, clock_, sink_);
  runner_->Start([] {});
  ASSERT_EQ(sink_.rows.size(), 2u);
  EXPECT_TRUE(sink_.rows[0].starts_with("9,Failed,get: value of base")) << sink_.rows[0];
  EXPECT_TRUE(sink_.rows[1].starts_with("10,Failed,get: URL only http and https")) << sink_.rows[1];
  ASSERT_EQ(http_.pending.size(), 1u);
  EXPECT_EQ(http_.pending[0].request.url, "http://ok/x");
}

// Webhooks against the fakes: when each goes out, what it carries, and what waits for it.
class RunnerWebhookTest : public RunnerTest {
 protected:
  static FetchStep Hook(std::string url, int retries = 2) {
    FetchStep hook = GetOf(url);
    hook.method = HttpMethod::kPost;
    hook.retry = {.max_retries = retries, .base_delay = Duration(1000)};
    return hook;
  }

  // One fetch step ("get"), then an emit step; the webhooks are the test's.
  void StartHooked(std::size_t task_count, std::size_t max_fetches = 64) {
    blueprint_ = Blueprint{};
    blueprint_.name = "process_data";
    blueprint_.step_names_in_errors = true;
    FetchStep get = GetOf("http://test/get");
    get.retry.max_retries = 0;
    blueprint_.steps.push_back({"get", std::move(get)});
    blueprint_.steps.push_back({"say", EmitStep{}});
    blueprint_.on_start = on_start_;
    blueprint_.on_success = on_success_;
    blueprint_.on_failure = on_failure_;
    tasks_ = MakeTasks(task_count);
    runner_.emplace(tasks_, blueprint_, RunnerOptions{.max_fetches = max_fetches, .seed = 42},
                    http_, clock_, sink_);
    runner_->Start([this] { ++finished_calls_; });
  }

  // The pending fetch whose URL is `url` (-1 when none is).
  int Find(std::string_view url) const {
    for (std::size_t i = 0; i < http_.pending.size(); ++i) {
      if (http_.pending[i].request.url == url) return static_cast<int>(i);
    }
    return -1;
  }
  boost::json::object Body(int position) const {
    return boost::json::parse(*http_.pending.at(static_cast<std::size_t>(position)).request.body)
        .as_object();
  }

  std::vector<FetchStep> on_start_;
  std::vector<FetchStep> on_success_;
  std::vector<FetchStep> on_failure_;
};

TEST_F(RunnerWebhookTest, StartGoesOutWithTheFirstFetchAndTheRowWaitsForTheEndWebhook) {
  on_start_ = {Hook("http://hooks/start/{task_id}")};
  on_success_ = {Hook("http://hooks/done")};
  StartHooked(1);
  ASSERT_EQ(http_.pending.size(), 2u);
  EXPECT_EQ(http_.pending[0].request.url, "http://test/get");
  const int start = Find("http://hooks/start/101");
  ASSERT_EQ(start, 1);
  const FetchRequest& request = http_.pending[1].request;
  EXPECT_EQ(request.method, HttpMethod::kPost);
  EXPECT_EQ(
      request.headers,
      (std::vector<std::pair<std::string, std::string>>{{"Content-Type", "application/json"}}));
  EXPECT_EQ(*request.body,
            R"({"task_id":101,"task_type":"process_data","event":"start","final_status":null,)"
            R"("error_info":null,"attempts":1,"started_at":"2026-12-02T09:00:00.000Z",)"
            R"("finished_at":null,"duration_ms":null})");

  // The steps end 1.5 s later, but the start webhook is still out: nothing more yet.
  clock_.Advance(milliseconds(1500));
  http_.Complete(0, kOk);
  EXPECT_EQ(sink_.events, std::vector<std::string>{"101 process_data say"});
  EXPECT_EQ(http_.pending.size(), 1u);
  EXPECT_TRUE(sink_.rows.empty());
  // Then on_success; the row only once it is delivered.
  http_.Complete(0, kOk);
  ASSERT_EQ(http_.pending.size(), 1u);
  EXPECT_EQ(http_.pending[0].request.url, "http://hooks/done");
  const boost::json::object done = Body(0);
  EXPECT_EQ(done.at("event"), "success");
  EXPECT_EQ(done.at("final_status"), "Completed");
  EXPECT_EQ(done.at("error_info"), "");
  EXPECT_EQ(done.at("finished_at"), "2026-12-02T09:00:01.500Z");
  EXPECT_EQ(done.at("duration_ms"), 1500);
  EXPECT_TRUE(sink_.rows.empty());
  EXPECT_EQ(finished_calls_, 0);
  http_.Complete(0, kOk);
  EXPECT_EQ(sink_.rows, std::vector<std::string>{"101,Completed,"});
  EXPECT_EQ(finished_calls_, 1);
  EXPECT_TRUE(sink_.warnings.empty());
}

TEST_F(RunnerWebhookTest, AFailureWebhookIsRetriedThenGivenUpAndTheOutcomeStands) {
  on_failure_ = {Hook("http://hooks/failed", /*retries=*/2)};
  StartHooked(1);
  http_.Complete(0, Status(404, "HTTP 404 Not Found"));
  ASSERT_EQ(http_.pending.size(), 1u);
  const boost::json::object body = Body(0);
  EXPECT_EQ(body.at("event"), "failure");
  EXPECT_EQ(body.at("final_status"), "Failed");
  EXPECT_EQ(body.at("error_info"), "get: HTTP 404 Not Found");
  EXPECT_EQ(body.at("attempts"), 1);
  const FetchResult k500 = Status(500, "HTTP 500 Internal Server Error");
  for (int attempt = 1; attempt <= 2; ++attempt) {
    http_.Complete(0, k500);
    EXPECT_TRUE(http_.pending.empty()) << "backing off";
    clock_.Advance(milliseconds(4000));
    ASSERT_EQ(http_.pending.size(), 1u) << "attempt " << attempt + 1;
  }
  EXPECT_TRUE(sink_.rows.empty());
  http_.Complete(0, k500);
  EXPECT_EQ(sink_.warnings, std::vector<std::string>{"on_failure webhook for task 101: HTTP 500 "
                                                     "Internal Server Error (after 3 attempts)"});
  EXPECT_EQ(sink_.rows, std::vector<std::string>{"101,Failed,get: HTTP 404 Not Found"});
  EXPECT_EQ(finished_calls_, 1);
}

TEST_F(RunnerWebhookTest, WebhooksTakeFetchSlotsAheadOfTasks) {
  on_start_ = {Hook("http://hooks/start")};
  StartHooked(3, /*max_fetches=*/2);
  // Task 101's fetch, then its webhook: the two slots.
  ASSERT_EQ(http_.pending.size(), 2u);
  EXPECT_EQ(runner_->fetches_in_flight(), 2u);
  http_.Complete(0, kOk);  // 101's fetch: its slot goes to 102's fetch
  ASSERT_EQ(http_.pending.size(), 2u);
  EXPECT_EQ(http_.pending[1].request.url, "http://test/get");
  http_.Complete(0, kOk);  // 101's webhook: its slot goes to 102's webhook, not 103
  ASSERT_EQ(http_.pending.size(), 2u);
  EXPECT_EQ(http_.pending[1].request.url, "http://hooks/start");
  EXPECT_EQ(sink_.rows, std::vector<std::string>{"101,Completed,"});
  while (!http_.pending.empty()) http_.Complete(0, kOk);
  EXPECT_EQ(http_.max_in_flight, 2u);
  EXPECT_EQ(sink_.rows.size(), 3u);
  EXPECT_EQ(http_.started, 6u);
}

TEST_F(RunnerWebhookTest, CancelWritesTheOutcomeOfATaskWaitingForItsWebhooks) {
  on_success_ = {Hook("http://hooks/a"), Hook("http://hooks/b")};
  StartHooked(2);
  http_.Complete(0, kOk);  // 101 is done; its two webhooks go out
  ASSERT_EQ(http_.pending.size(), 3u);
  runner_->Cancel();
  EXPECT_EQ(sink_.rows, (std::vector<std::string>{"101,Completed,", "102,Failed,cancelled"}));
  EXPECT_EQ(finished_calls_, 1);
  EXPECT_EQ(http_.cancels, 1);
}

TEST_F(RunnerWebhookTest, AWebhookThatCannotBeFilledInIsGivenUpAndNamed) {
  on_success_ = {Hook("http://hooks/a"), Hook("http://hooks/a")};
  Blueprint kind;
  kind.columns = {{"base", ColumnType::kString}};
  auto url = Template::Parse("{base:raw}/hook", TemplateContext::kUrl,
                             [&](std::string_view name) { return SlotOf(kind, name); });
  on_success_[1].url = std::get<Template>(std::move(url));
  blueprint_ = Blueprint{};
  blueprint_.columns = kind.columns;
  blueprint_.steps.push_back({"say", EmitStep{}});
  blueprint_.on_success = on_success_;
  tasks_.type_names = {"t"};
  tasks_.tasks.push_back({7, 0, tasks_.values.AddRow({"ftp://x"})});
  runner_.emplace(tasks_, blueprint_, RunnerOptions{}, http_, clock_, sink_);
  runner_->Start([this] { ++finished_calls_; });
  EXPECT_EQ(sink_.warnings,
            std::vector<std::string>{"on_success webhook 2 for task 7: URL only "
                                     "http and https URLs are supported: ftp://x/hook"});
  ASSERT_EQ(http_.pending.size(), 1u);
  EXPECT_TRUE(sink_.rows.empty());
  http_.Complete(0, kOk);
  EXPECT_EQ(sink_.rows, std::vector<std::string>{"7,Completed,"});
}

// --halt, as the collector asks for it.
TEST_F(RunnerTest, HaltSoonLetsStartedTasksFinishAndFailsTheRest) {
  StartRun(5, /*max_fetches=*/2, /*retries=*/1);
  ASSERT_EQ(http_.pending.size(), 2u);  // 101 and 102 started
  http_.Complete(0, k503);              // 101 backs off; its slot starts 103
  runner_->Halt(/*stop_running=*/false, 1);
  EXPECT_EQ(sink_.rows,
            (std::vector<std::string>{"104,Failed,not started (halted after 1 failure)",
                                      "105,Failed,not started (halted after 1 failure)"}));
  runner_->Halt(false, 5);  // a second halt changes nothing
  EXPECT_EQ(sink_.rows.size(), 2u);
  http_.CompleteCurrent(kOk);  // 102 and 103
  clock_.Advance(milliseconds(2000));
  ASSERT_EQ(http_.pending.size(), 1u) << "101's retry still goes out";
  http_.Complete(0, kOk);
  clock_.Advance(milliseconds(5000));
  ASSERT_EQ(sink_.rows.size(), 5u);
  EXPECT_EQ(sink_.rows[4], "101,Completed,");
  EXPECT_EQ(finished_calls_, 1);
  EXPECT_EQ(http_.started, 4u);
}

TEST_F(RunnerTest, HaltNowCancelsTheStartedTasksToo) {
  StartRun(3, /*max_fetches=*/1);
  runner_->Halt(/*stop_running=*/true, 2);
  EXPECT_EQ(sink_.rows,
            (std::vector<std::string>{"102,Failed,not started (halted after 2 failures)",
                                      "103,Failed,not started (halted after 2 failures)",
                                      "101,Failed,cancelled"}));
  EXPECT_EQ(finished_calls_, 1);
  EXPECT_EQ(http_.cancels, 1);
}

// Dependencies: a task starts once each parent has its row.
class DependencyTest : public RunnerTest {
 protected:
  // Tasks 101.. of the built-in blueprint (fetch, 5 s delay, emit), with `edges` between
  // their indexes.
  void StartGraph(std::size_t task_count, std::vector<TaskGraph::Edge> edges,
                  std::size_t max_fetches = 64) {
    tasks_ = MakeTasks(task_count);
    tasks_.graph = TaskGraph::FromEdges(task_count, std::move(edges));
    for (Step& step : blueprint_.steps) {
      if (auto* fetch = std::get_if<FetchStep>(&step.action)) fetch->retry.max_retries = 0;
    }
    runner_.emplace(tasks_, blueprint_, RunnerOptions{.max_fetches = max_fetches, .seed = 42},
                    http_, clock_, sink_);
    runner_->Start([this] { ++finished_calls_; });
  }
  std::vector<std::string> PendingUrls() const {
    std::vector<std::string> urls;
    for (const auto& fetch : http_.pending) urls.push_back(fetch.request.url);
    return urls;
  }
  static constexpr Dependency kSuccess = Dependency::kSuccess;
  static constexpr Dependency kFinish = Dependency::kFinish;
};

TEST_F(DependencyTest, AChildStartsWhenItsParentsHaveTheirRows) {
  // A diamond: 101 -> 102, 101 -> 103, 102 -> 104, 103 -> 104.
  StartGraph(4, {{0, 1, kSuccess}, {0, 2, kSuccess}, {1, 3, kSuccess}, {2, 3, kFinish}});
  EXPECT_EQ(http_.pending.size(), 1u) << "only 101 has no parent";
  http_.Complete(0, kOk);
  EXPECT_TRUE(http_.pending.empty()) << "102 and 103 wait for 101's row, after its delay";
  clock_.Advance(milliseconds(5000));
  EXPECT_EQ(sink_.rows, std::vector<std::string>{"101,Completed,"});
  EXPECT_EQ(http_.pending.size(), 2u);
  http_.Complete(0, kOk);
  clock_.Advance(milliseconds(5000));
  EXPECT_EQ(http_.pending.size(), 1u) << "103's fetch; 104 still waits for 103";
  http_.Complete(0, Status(404, "HTTP 404 Not Found"));  // 103 fails: 104 only needs it ended
  ASSERT_EQ(http_.pending.size(), 1u);
  http_.Complete(0, kOk);
  clock_.Advance(milliseconds(5000));
  EXPECT_EQ(sink_.rows,
            (std::vector<std::string>{"101,Completed,", "102,Completed,",
                                      "103,Failed,HTTP 404 Not Found", "104,Completed,"}));
  EXPECT_EQ(finished_calls_, 1);
}

TEST_F(DependencyTest, AFailedParentFailsItsDescendantsWithoutRunningThem) {
  // 101 -> 102 -> 103 (depends_on), 101 -> 104 (after), 102 -> 105 (after).
  StartGraph(5, {{0, 1, kSuccess}, {1, 2, kSuccess}, {0, 3, kFinish}, {1, 4, kFinish}});
  http_.Complete(0, Status(500, "HTTP 500 Internal Server Error"));
  EXPECT_EQ(sink_.rows, (std::vector<std::string>{"101,Failed,HTTP 500 Internal Server Error",
                                                  "102,Failed,dependency 101 failed",
                                                  "103,Failed,dependency 102 failed"}));
  // 104 runs (it only waited for 101 to end), and 105 too (102 ended, failed).
  EXPECT_EQ(http_.pending.size(), 2u);
  http_.CompleteCurrent(kOk);
  clock_.Advance(milliseconds(5000));
  EXPECT_EQ(sink_.rows.size(), 5u);
  EXPECT_EQ(http_.started, 3u);
  EXPECT_EQ(finished_calls_, 1);
}

TEST_F(DependencyTest, AChildOfFailedParentsWaitsForAllAndNamesTheLowest) {
  // 101 and 102 -> 103 (depends_on), 104 -> 103 (after). 102 fails before 101: the row names
  // 101 all the same, and comes once 104, which runs on, has its row.
  StartGraph(4, {{0, 2, kSuccess}, {1, 2, kSuccess}, {3, 2, kFinish}});
  ASSERT_EQ(PendingUrls().size(), 3u);
  http_.Complete(1, Status(500, "HTTP 500 Internal Server Error"));
  http_.Complete(0, Status(404, "HTTP 404 Not Found"));
  EXPECT_EQ(sink_.rows, (std::vector<std::string>{"102,Failed,HTTP 500 Internal Server Error",
                                                  "101,Failed,HTTP 404 Not Found"}))
      << "103 waits for 104";
  http_.Complete(0, kOk);
  clock_.Advance(milliseconds(5000));
  EXPECT_EQ(sink_.rows, (std::vector<std::string>{"102,Failed,HTTP 500 Internal Server Error",
                                                  "101,Failed,HTTP 404 Not Found", "104,Completed,",
                                                  "103,Failed,dependency 101 failed"}));
  EXPECT_EQ(http_.started, 3u);
  EXPECT_EQ(finished_calls_, 1);
}

TEST_F(DependencyTest, AChildAFailedParentKeptFromRunningSaysSoAtACancelOrAHalt) {
  for (const bool halt : {false, true}) {
    SCOPED_TRACE(halt ? "halt" : "cancel");
    sink_.rows.clear();
    // 101 -> 102 (depends_on), 103 -> 102 (after): 101 fails while 103 still runs.
    StartGraph(3, {{0, 1, kSuccess}, {2, 1, kFinish}});
    http_.Complete(0, Status(404, "HTTP 404 Not Found"));
    if (halt) {
      runner_->Halt(true, 1);
    } else {
      runner_->Cancel();
    }
    EXPECT_EQ(sink_.rows, (std::vector<std::string>{"101,Failed,HTTP 404 Not Found",
                                                    "102,Failed,dependency 101 failed",
                                                    "103,Failed,cancelled"}));
    http_.pending.clear();
  }
}

TEST_F(DependencyTest, ALongChainThatFailsAtOnceNeedsNoDeepStack) {
  constexpr std::size_t kTasks = 200'000;
  std::vector<TaskGraph::Edge> chain;
  for (TaskIndex i = 0; i + 1 < kTasks; ++i) chain.push_back({i, i + 1, kSuccess});
  StartGraph(kTasks, std::move(chain));
  http_.Complete(0, Status(404, "HTTP 404 Not Found"));
  ASSERT_EQ(sink_.rows.size(), kTasks);
  EXPECT_EQ(sink_.rows.back(),
            fmt::format("{},Failed,dependency {} failed", 100 + kTasks, 99 + kTasks));
  EXPECT_EQ(finished_calls_, 1);
}

TEST_F(DependencyTest, CancelReportsBlockedTasksAsCancelled) {
  StartGraph(3, {{0, 1, kSuccess}, {1, 2, kSuccess}});
  runner_->Cancel();
  EXPECT_EQ(sink_.rows, (std::vector<std::string>{"101,Failed,cancelled", "102,Failed,cancelled",
                                                  "103,Failed,cancelled"}));
}

TEST_F(DependencyTest, AHaltFailsBlockedTasksAsNotStarted) {
  StartGraph(3, {{0, 1, kSuccess}, {0, 2, kFinish}});
  runner_->Halt(false, 1);
  EXPECT_EQ(sink_.rows,
            (std::vector<std::string>{"102,Failed,not started (halted after 1 failure)",
                                      "103,Failed,not started (halted after 1 failure)"}));
  http_.Complete(0, kOk);
  clock_.Advance(milliseconds(5000));
  EXPECT_EQ(sink_.rows.back(), "101,Completed,");
  EXPECT_EQ(finished_calls_, 1);
}

TEST_F(DependencyTest, ParentsThatEndAtOnceStartTheirChildOnce) {
  // Emit-only tasks end as they start: the child is started by its last parent, not again
  // by the start loop.
  blueprint_ = Blueprint{};
  blueprint_.steps.push_back({"say", EmitStep{}});
  StartGraph(3, {{0, 2, kSuccess}, {1, 2, kSuccess}});
  EXPECT_EQ(sink_.rows,
            (std::vector<std::string>{"101,Completed,", "102,Completed,", "103,Completed,"}));
  EXPECT_EQ(sink_.events.size(), 3u);
}

// --rate is the whole run's: two runners (two threads' shares) sharing it start no faster
// together than it allows, from the first start on: no burst of one a runner at the start.
TEST(SharedRateTest, RunnersSharingARateTakeTurnsFromTheFirstStart) {
  const Blueprint blueprint = DefaultBlueprint(GetOf("http://test/get"), Duration(0));
  RunRates rates(10.0, {&blueprint});  // 100 ms apart
  struct Share {
    TaskList tasks = MakeTasks(20);
    FakeHttpClient http;
    FakeClock clock;
    RecordingSink sink;
    std::optional<Runner> runner;
  };
  Share shares[2];
  for (Share& share : shares) {
    share.runner.emplace(share.tasks, blueprint, RunnerOptions{.max_fetches = 64, .rates = &rates},
                         share.http, share.clock, share.sink);
    share.runner->Start([] {});
  }
  const auto started = [&] { return shares[0].http.started + shares[1].http.started; };
  EXPECT_EQ(started(), 1u) << "each share started its first at once";
  // A second, in 10 ms steps, each share's clock firing its own wake-ups.
  for (int step = 0; step < 100; ++step) {
    for (Share& share : shares) {
      share.http.CompleteCurrent(kOk);
      share.clock.Advance(milliseconds(10));
    }
  }
  EXPECT_GE(started(), 10u);
  EXPECT_LE(started(), 11u) << "more than 10 a second between them";
  for (Share& share : shares) share.runner.reset();
}

// --rate: fetch attempts, retries included, start evenly spaced.
TEST_F(RunnerTest, ARateSpacesTheFetchesEvenly) {
  blueprint_ = DefaultBlueprint(GetOf("http://test/get"), Duration(0));
  tasks_ = MakeTasks(1000);
  RunRates rates(100.0, {&blueprint_});
  runner_.emplace(tasks_, blueprint_, RunnerOptions{.max_fetches = 64, .seed = 42, .rates = &rates},
                  http_, clock_, sink_);
  runner_->Start([this] { ++finished_calls_; });
  const Clock::TimePoint start = clock_.now;
  std::vector<Clock::TimePoint> started;
  // Answer each fetch at once, in 1 ms steps; the first answer is a 503, retried after 1 s
  // in the same stream of starts.
  std::size_t answered = 0;
  while (finished_calls_ == 0 && clock_.now - start < std::chrono::seconds(60)) {
    while (started.size() < http_.started) started.push_back(clock_.now);
    while (!http_.pending.empty()) http_.Complete(0, ++answered == 1 ? k503 : kOk);
    clock_.Advance(milliseconds(1));
  }
  ASSERT_EQ(finished_calls_, 1);
  EXPECT_EQ(sink_.rows.size(), 1000u);
  ASSERT_EQ(started.size(), http_.started);
  EXPECT_EQ(started.size(), 1001u) << "the retry is an attempt too";
  const double seconds = std::chrono::duration<double>(started.back() - started.front()).count();
  EXPECT_NEAR(seconds, 10.0, 0.1);
  for (std::size_t i = 1; i < started.size(); ++i) {
    ASSERT_GE(started[i] - started[i - 1], milliseconds(10)) << i;
  }
}

// --limit: a task holds its place from its first step to its row, its delay included.
TEST_F(RunnerTest, ALimitKeepsThatManyTasksRunningDelaysIncluded) {
  tasks_ = MakeTasks(5);
  RunningLimits limits({std::get<RunningLimit>(ParseRunningLimit("process_data=2"))},
                       tasks_.type_names, {&blueprint_});
  runner_.emplace(tasks_, blueprint_,
                  RunnerOptions{.max_fetches = 64, .seed = 42, .rates = nullptr, .limits = &limits},
                  http_, clock_, sink_);
  runner_->Start([this] { ++finished_calls_; });
  EXPECT_EQ(http_.pending.size(), 2u);
  http_.CompleteCurrent(kOk);
  EXPECT_TRUE(http_.pending.empty()) << "101 and 102 are in their delay: still running";
  clock_.Advance(milliseconds(5000));
  EXPECT_EQ(sink_.rows.size(), 2u);
  EXPECT_EQ(http_.pending.size(), 2u) << "103 and 104 took their places";
  std::size_t most = 0;
  while (finished_calls_ == 0) {
    most = std::max(most, http_.pending.size());
    http_.CompleteCurrent(kOk);
    clock_.Advance(milliseconds(5000));
  }
  EXPECT_EQ(most, 2u);
  EXPECT_EQ(sink_.rows.size(), 5u);
}

TEST_F(DependencyTest, ALimitAndDependenciesTogether) {
  // Emit-only tasks in a chain, one at a time: each ends as it starts, and the next starts
  // from the loop after the row, not from a deeper frame.
  blueprint_ = Blueprint{};
  blueprint_.name = "process_data";
  blueprint_.steps.push_back({"say", EmitStep{}});
  constexpr std::size_t kTasks = 100'000;
  tasks_ = MakeTasks(kTasks);
  std::vector<TaskGraph::Edge> edges;
  for (TaskIndex i = 0; i + 1 < kTasks; i += 2) edges.push_back({i, i + 1, kSuccess});
  tasks_.graph = TaskGraph::FromEdges(kTasks, std::move(edges));
  RunningLimits limits({std::get<RunningLimit>(ParseRunningLimit("*=1"))}, tasks_.type_names,
                       {&blueprint_});
  runner_.emplace(tasks_, blueprint_,
                  RunnerOptions{.max_fetches = 64, .seed = 42, .rates = nullptr, .limits = &limits},
                  http_, clock_, sink_);
  runner_->Start([this] { ++finished_calls_; });
  EXPECT_EQ(sink_.rows.size(), kTasks);
  EXPECT_EQ(finished_calls_, 1);
}

// A blueprint's own rate paces its tasks only; the others pass them.
TEST_F(KindsTest, ATypesRateHoldsBackOnlyItsTasks) {
  Blueprint slow;
  slow.name = "slow";
  slow.rate = 2.0;  // 500 ms apart
  slow.steps.push_back({"get", GetOf("http://test/slow")});
  Blueprint fast;
  fast.name = "fast";
  fast.steps.push_back({"get", GetOf("http://test/fast")});
  tasks_.type_names = {"slow", "fast"};
  for (TaskId id = 1; id <= 6; ++id) tasks_.tasks.push_back({id, id <= 3 ? 0u : 1u, kNoValues});
  runner_.emplace(tasks_, std::vector<const Blueprint*>{&slow, &fast},
                  RunnerOptions{.max_fetches = 64, .seed = 1}, http_, clock_, sink_);
  runner_->Start([this] { ++finished_calls_; });
  std::vector<std::string> urls;
  for (const auto& fetch : http_.pending) urls.push_back(fetch.request.url);
  EXPECT_EQ(urls, (std::vector<std::string>{"http://test/slow", "http://test/fast",
                                            "http://test/fast", "http://test/fast"}));
  clock_.Advance(milliseconds(499));
  EXPECT_EQ(http_.pending.size(), 4u);
  clock_.Advance(milliseconds(1));
  EXPECT_EQ(http_.pending.size(), 5u);
  clock_.Advance(milliseconds(500));
  EXPECT_EQ(http_.pending.size(), 6u);
  http_.CompleteCurrent(kOk);
  EXPECT_EQ(finished_calls_, 1);
}

// A delay of 0 ends at once, not at the clock's next wake-up: a chain pays it per link.
TEST_F(DependencyTest, AZeroDelayDoesNotWaitForAWakeUp) {
  blueprint_ = DefaultBlueprint(GetOf("http://test/get"), Duration(0));
  StartGraph(3, {{0, 1, kSuccess}, {1, 2, kSuccess}});
  for (int link = 0; link < 3; ++link) {
    ASSERT_EQ(http_.pending.size(), 1u) << link;
    http_.Complete(0, kOk);
  }
  EXPECT_EQ(sink_.rows.size(), 3u);
  EXPECT_EQ(clock_.arms, 0) << "no wake-up was needed";
  EXPECT_EQ(finished_calls_, 1);
}

// Dependencies across lists: tasks dealt out in turn to several runners (TaskList::deal),
// which hear of each other's rows only through ParentsEnded, when the test delivers them.
class DealtDependencyTest : public ::testing::Test {
 protected:
  // The news each runner sent, by the list it is for.
  struct Mailbox : ParentEndSink {
    void ParentEnded(std::uint32_t list, const ParentEnd& news) override {
      waiting[list].push_back(news);
    }
    void ParentCaptured(std::uint32_t list, ParentValues values) override {
      captured[list].push_back(std::move(values));
    }
    std::map<std::uint32_t, std::vector<ParentEnd>> waiting;
    std::map<std::uint32_t, std::vector<ParentValues>> captured;
  };
  struct Part {
    TaskList tasks;
    FakeHttpClient http;
    FakeClock clock;
    std::optional<Runner> runner;
    int finished_calls = 0;
  };

  // Tasks 101.. dealt to `lists` runners (task i to list i % lists), `edges` between the
  // whole input's indexes; every result goes to one sink, in the order the runners wrote.
  void StartGraph(std::size_t task_count, std::uint32_t lists, std::vector<TaskGraph::Edge> edges,
                  std::size_t max_fetches = 8) {
    const TaskList whole = MakeTasks(task_count);
    const TaskGraph graph = TaskGraph::FromEdges(task_count, std::move(edges));
    for (Step& step : blueprint_.steps) {
      if (auto* fetch = std::get_if<FetchStep>(&step.action)) fetch->retry.max_retries = 0;
    }
    for (std::uint32_t k = 0; k < lists; ++k) {
      auto& part = *parts_.emplace_back(std::make_unique<Part>());
      part.tasks.type_names = whole.type_names;
      for (std::size_t i = k; i < task_count; i += lists)
        part.tasks.tasks.push_back(whole.tasks[i]);
      part.tasks.graph = graph;
      part.tasks.deal = {.list = k, .lists = lists, .placement = nullptr};
      part.runner.emplace(part.tasks, blueprint_,
                          RunnerOptions{.max_fetches = max_fetches, .seed = k, .halt = halt_},
                          part.http, part.clock, sink_, &mailbox_);
    }
    for (auto& part : parts_) part->runner->Start([&part = *part] { ++part.finished_calls; });
  }
  // Hands every runner the news waiting for it, until none is left.
  void Deliver() {
    while (!mailbox_.waiting.empty()) {
      auto waiting = std::exchange(mailbox_.waiting, {});
      auto captured = std::exchange(mailbox_.captured, {});
      for (const auto& [list, news] : waiting) {
        parts_[list]->runner->ParentsEnded(news, captured[list]);
      }
    }
  }
  Part& part(std::size_t k) { return *parts_[k]; }

  static constexpr Dependency kSuccess = Dependency::kSuccess;
  static constexpr Dependency kFinish = Dependency::kFinish;
  Blueprint blueprint_ = DefaultBlueprint(GetOf("http://test/get"), Duration(5000));
  HaltSwitch* halt_ = nullptr;  // --halt, shared by every part's runner
  RecordingSink sink_;
  Mailbox mailbox_;
  std::vector<std::unique_ptr<Part>> parts_;
};

TEST_F(DealtDependencyTest, AChildOnAnotherListStartsWhenItHearsOfItsParentsRows) {
  // A diamond over two lists: 101 and 103 on list 0, 102 and 104 on list 1.
  StartGraph(4, 2, {{0, 1, kSuccess}, {0, 2, kSuccess}, {1, 3, kSuccess}, {2, 3, kFinish}});
  EXPECT_EQ(part(0).http.pending.size(), 1u) << "101";
  EXPECT_TRUE(part(1).http.pending.empty()) << "102 and 104 wait";
  part(0).http.Complete(0, kOk);
  part(0).clock.Advance(milliseconds(5000));
  EXPECT_EQ(part(0).http.pending.size(), 1u) << "103, on 101's own list, starts at once";
  EXPECT_TRUE(part(1).http.pending.empty()) << "102 has not heard yet";
  ASSERT_EQ(mailbox_.waiting.size(), 1u);
  EXPECT_EQ(mailbox_.waiting[1].size(), 1u);
  Deliver();
  EXPECT_EQ(part(1).http.pending.size(), 1u) << "102";
  part(0).http.Complete(0, Status(404, "HTTP 404 Not Found"));  // 103: 104 only needs it ended
  Deliver();
  EXPECT_EQ(part(1).http.pending.size(), 1u) << "104 still waits for 102";
  part(1).http.Complete(0, kOk);
  part(1).clock.Advance(milliseconds(5000));
  ASSERT_EQ(part(1).http.pending.size(), 1u) << "104, released on its own list";
  part(1).http.Complete(0, kOk);
  part(1).clock.Advance(milliseconds(5000));
  EXPECT_EQ(sink_.rows, (std::vector<std::string>{"101,Completed,", "103,Failed,HTTP 404 Not Found",
                                                  "102,Completed,", "104,Completed,"}));
  EXPECT_EQ(part(0).finished_calls, 1);
  EXPECT_EQ(part(1).finished_calls, 1);
  EXPECT_TRUE(mailbox_.waiting.empty());
}

TEST_F(DealtDependencyTest, AFailureTravelsDownAChainFromListToList) {
  // 101 -> 102 -> 103 -> 104 (depends_on), over three lists: every link crosses.
  StartGraph(4, 3, {{0, 1, kSuccess}, {1, 2, kSuccess}, {2, 3, kSuccess}});
  part(0).http.Complete(0, Status(500, "HTTP 500 Internal Server Error"));
  Deliver();
  EXPECT_EQ(sink_.rows,
            (std::vector<std::string>{
                "101,Failed,HTTP 500 Internal Server Error", "102,Failed,dependency 101 failed",
                "103,Failed,dependency 102 failed", "104,Failed,dependency 103 failed"}));
  for (std::size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(part(k).finished_calls, 1) << k;
    EXPECT_EQ(part(k).http.started, k == 0 ? 1u : 0u) << k;
  }
}

TEST_F(DealtDependencyTest, NewsForATaskThatHasItsRowIsIgnored) {
  // 101 (list 0) -> 102 (list 1), and 102 also after 103 (list 0).
  StartGraph(3, 2, {{0, 1, kSuccess}, {2, 1, kFinish}});
  part(1).runner->Cancel();
  EXPECT_EQ(sink_.rows, std::vector<std::string>{"102,Failed,cancelled"});
  part(0).http.CompleteCurrent(kOk);
  part(0).clock.Advance(milliseconds(5000));
  Deliver();
  EXPECT_EQ(sink_.rows_per_task, (std::map<TaskId, int>{{101, 1}, {102, 1}, {103, 1}}));
  EXPECT_EQ(part(1).finished_calls, 1);
}

TEST_F(DealtDependencyTest, AHaltedListIgnoresTheNewsOfTheOthers) {
  StartGraph(2, 2, {{0, 1, kSuccess}});
  part(1).runner->Halt(/*stop_running=*/false, 1);
  part(0).http.Complete(0, kOk);
  part(0).clock.Advance(milliseconds(5000));
  Deliver();
  EXPECT_EQ(sink_.rows, (std::vector<std::string>{"102,Failed,not started (halted after 1 failure)",
                                                  "101,Completed,"}));
  EXPECT_EQ(part(1).http.started, 0u);
}

// The case of issue 23: a parent's news, sent before the halt, reaches a child on another
// list after it: the child never starts.
TEST_F(DealtDependencyTest, AHaltOnOneListStopsAChildTheNewsReleasesOnAnother) {
  HaltSwitch halt(HaltPolicy{.when = HaltPolicy::When::kSoon, .failures = 2, .percent = {}});
  halt_ = &halt;
  // 101 and 103 on list 0, 102 and 104 on list 1; 104 runs after 101 ends.
  StartGraph(4, 2, {{0, 3, kFinish}});
  const FetchResult failed = Status(500, "HTTP 500 Internal Server Error");
  part(0).http.Complete(0, failed);  // 101: the first failure; its news waits in the mailbox
  part(0).http.Complete(0, failed);  // 103: the second, which trips the switch
  ASSERT_TRUE(halt.tripped());
  Deliver();  // 101's news reaches 104, on list 1, which has heard of no halt
  EXPECT_EQ(part(1).http.started, 1u) << "104 started after the halt";
  EXPECT_EQ(sink_.rows_per_task.count(104), 1u);
  EXPECT_NE(std::find(sink_.rows.begin(), sink_.rows.end(),
                      "104,Failed,not started (halted after 2 failures)"),
            sink_.rows.end());
}

TEST_F(DealtDependencyTest, AHaltOnOneListStopsAQueuedFetchOnAnother) {
  HaltSwitch halt(HaltPolicy{.when = HaltPolicy::When::kSoon, .failures = 1, .percent = {}});
  halt_ = &halt;
  // One fetch at a time: 102 runs on list 1, 104 waits for its slot; 101 fails on list 0.
  StartGraph(4, 2, {}, /*max_fetches=*/1);
  part(0).http.Complete(0, Status(500, "HTTP 500 Internal Server Error"));
  ASSERT_TRUE(halt.tripped());
  part(1).http.Complete(0, kOk);  // 102's slot frees: 104 would take it
  EXPECT_EQ(part(1).http.started, 1u) << "104 started after the halt";
  EXPECT_EQ(part(0).http.started, 1u) << "103 started after the halt";
  EXPECT_EQ(sink_.rows_per_task, (std::map<TaskId, int>{{101, 1}, {103, 1}, {104, 1}}));
  part(1).clock.Advance(milliseconds(5000));  // 102, started before the halt, ends
  EXPECT_EQ(sink_.rows_per_task, (std::map<TaskId, int>{{101, 1}, {102, 1}, {103, 1}, {104, 1}}));
  EXPECT_EQ(part(0).finished_calls + part(1).finished_calls, 2);
}

TEST(DealtRunnerTest, AListDealtFromAGraphNeedsTheOtherLists) {
  TaskList tasks = MakeTasks(1);
  tasks.graph = TaskGraph::FromEdges(2, {{0, 1, Dependency::kSuccess}});
  tasks.deal = {.list = 0, .lists = 2, .placement = nullptr};
  FakeHttpClient http;
  FakeClock clock;
  RecordingSink sink;
  const Blueprint blueprint = DefaultBlueprint(GetOf("http://test/get"), Duration(0));
  EXPECT_THROW(Runner(tasks, blueprint, RunnerOptions{}, http, clock, sink), std::invalid_argument);
}

}  // namespace
}  // namespace orchestrator
