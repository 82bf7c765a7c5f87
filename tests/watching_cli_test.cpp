// End to end: watching a run from outside it: --metrics, read as Prometheus's tools read it.
#include <arpa/inet.h>
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "cli_support.h"
#include "subprocess.h"
#include "test_server.h"

namespace orchestrator::testing {
namespace {

using std::chrono::milliseconds;

// The Completed rows of the tests' task type, as the file and a scrape both write it.
const std::string kCompletedSeries =
    "orchestrator_tasks_total{final_status=\"Completed\",task_type=\"process_data\"}";

// The value of the series `series` (name and labels, as written) in exposition `text`, or -1.
double Value(const std::string& text, const std::string& series) {
  const std::size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

// A port nobody listens on now, for a server the test starts.
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

// The body of a GET of `url`, or "" when it fails.
std::string Get(const std::string& url) {
  std::string body;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 2000L);
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t count, void* out) {
        static_cast<std::string*>(out)->append(data, size * count);
        return size * count;
      });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  const CURLcode code = curl_easy_perform(curl);
  curl_easy_cleanup(curl);
  return code == CURLE_OK ? body : "";
}

std::filesystem::file_time_type ModifiedAt(const std::string& path) {
  return std::filesystem::last_write_time(path);
}

// The file is there from the start with every series at 0, is rewritten every 5 s while
// the run goes (its mtime a heartbeat), and ends with the run's counts; promtool agrees.
TEST(WatchingTest, TheMetricsFileFollowsTheRun) {
  TestServer server;
  TempDir dir;
  const std::string metrics = dir.path() + "/run.prom";
  Subprocess run({kBinary, "--url", server.Url("/ok"), "--delay", "6s", "--threads", "2",
                  "--metrics", metrics, dir.Write("tasks.csv", TasksCsv(40))},
                 {});
  // The first file, at the start: every task pending or about to be.
  run.PumpFor(milliseconds(500));
  std::string text = Contents(metrics);
  EXPECT_EQ(Value(text, "orchestrator_tasks{state=\"done\"}"), 0) << text;
  EXPECT_EQ(Value(text, kCompletedSeries), 0);
  const auto first = ModifiedAt(metrics);
  // 5 s on, the next: every task waits in its 6 s delay.
  for (int i = 0; i < 60 && ModifiedAt(metrics) == first; ++i) run.PumpFor(milliseconds(100));
  EXPECT_GT(ModifiedAt(metrics), first) << "rewritten while the run goes";
  text = Contents(metrics);
  EXPECT_EQ(Value(text, "orchestrator_tasks{state=\"waiting\"}"), 40) << text;
  EXPECT_EQ(Value(text, "orchestrator_tasks{state=\"pending\"}"), 0) << text;
  const ProcessResult result = run.Wait();
  EXPECT_EQ(result.exit_status, 0) << result.err;

  text = Contents(metrics);
  EXPECT_EQ(Value(text, kCompletedSeries), 40) << text;
  EXPECT_EQ(Value(text, "orchestrator_tasks{state=\"done\"}"), 40);
  EXPECT_EQ(Value(text, "orchestrator_tasks{state=\"waiting\"}"), 0);
  EXPECT_EQ(Value(text, "orchestrator_http_responses_total{code=\"200\"}"), 40);
  EXPECT_EQ(Value(text, "orchestrator_fetch_duration_seconds_count{task_type=\"process_data\"}"),
            40);
  const double start = Value(text, "orchestrator_run_start_timestamp_seconds");
  const double last = Value(text, "orchestrator_last_success_timestamp_seconds");
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_GT(start, now - 60);
  EXPECT_GE(last - start, 5.9) << "the tasks ended after their 6 s delay";
  EXPECT_LE(last, now);
  // Nothing left beside it.
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    files.push_back(entry.path().filename());
  }
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"run.prom", "tasks.csv"}));
  Subprocess promtool({"/usr/bin/promtool", "check", "metrics"}, Stdin(text));
  const ProcessResult check = promtool.Wait();
  EXPECT_EQ(check.exit_status, 0) << check.out << check.err;
}

// Debian's node_exporter, on 127.0.0.1, reads the file from its textfile directory: a
// scrape during the run and one after it find the series with the run's values.
TEST(WatchingTest, NodeExporterServesTheMetricsDuringTheRun) {
  TestServer server;
  TempDir dir;
  const std::string textfiles = dir.path() + "/textfiles";
  std::filesystem::create_directory(textfiles);
  const int port = FreePort();
  const std::string address = "127.0.0.1:" + std::to_string(port);
  ProcessOptions options;
  options.timeout = milliseconds(60'000);
  Subprocess exporter({"/usr/bin/prometheus-node-exporter", "--web.listen-address=" + address,
                       "--collector.disable-defaults", "--collector.textfile",
                       "--collector.textfile.directory=" + textfiles},
                      std::move(options));
  const std::string url = "http://" + address + "/metrics";
  std::string scrape;
  for (int i = 0; i < 100 && scrape.empty(); ++i) {
    exporter.PumpFor(milliseconds(50));
    scrape = Get(url);
  }
  ASSERT_NE(scrape, "") << "node_exporter did not start: " << exporter.err();

  Subprocess run({kBinary, "--url", server.Url("/ok"), "--delay", "7s", "--metrics",
                  textfiles + "/orchestrator.prom", dir.Write("tasks.csv", TasksCsv(30))},
                 {});
  // The file written 5 s in: every task waits in its delay.
  for (int i = 0; i < 70; ++i) {
    run.PumpFor(milliseconds(50));
    exporter.PumpFor(milliseconds(50));
    scrape = Get(url);
    if (Value(scrape, "orchestrator_tasks{state=\"waiting\"}") == 30) break;
  }
  EXPECT_EQ(Value(scrape, "orchestrator_tasks{state=\"waiting\"}"), 30) << scrape;
  EXPECT_EQ(Value(scrape, "node_textfile_scrape_error"), 0) << scrape;
  EXPECT_GT(
      Value(scrape, "node_textfile_mtime_seconds{file=\"" + textfiles + "/orchestrator.prom\"}"), 0)
      << scrape;
  const ProcessResult result = run.Wait();
  EXPECT_EQ(result.exit_status, 0) << result.err;

  scrape = Get(url);
  EXPECT_EQ(Value(scrape, kCompletedSeries), 30) << scrape;
  EXPECT_EQ(Value(scrape, "orchestrator_tasks{state=\"done\"}"), 30);
  EXPECT_GT(Value(scrape,
                  "orchestrator_fetch_duration_seconds_bucket{task_type=\"process_data\","
                  "le=\"+Inf\"}"),
            29);
  exporter.Signal(SIGTERM);
}

TEST(WatchingTest, AMetricsFileThatCannotBeWrittenRunsNothing) {
  TestServer server;
  TempDir dir;
  const ProcessResult result =
      RunOrchestrator({"--url", server.Url("/ok"), "--metrics", dir.path() + "/missing/run.prom",
                       dir.Write("tasks.csv", TasksCsv(3))});
  EXPECT_EQ(result.exit_status, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_NE(result.err.find("orchestrator: " + dir.path() +
                            "/missing/run.prom: cannot write metrics: No such file or directory"),
            std::string::npos)
      << result.err;
  EXPECT_EQ(server.requests(), 0u);
}

// Each place `needle` occurs in `text`.
std::vector<std::size_t> Find(const std::string& text, const std::string& needle) {
  std::vector<std::size_t> at;
  for (std::size_t i = text.find(needle); i != std::string::npos; i = text.find(needle, i + 1)) {
    at.push_back(i);
  }
  return at;
}

// Under a real pseudo-terminal (`script`, from util-linux), 60 columns wide: the status line
// appears and is redrawn, stays one line within the width, event lines print above it and
// never through it, and it is gone before the summary.
TEST(WatchingTest, TheStatusLineUnderAPseudoTerminal) {
  TestServer server;
  TempDir dir;
  const std::string out_csv = dir.path() + "/out.csv";
  const std::string command = "stty cols 60 && exec " + kBinary + " --url " +
                              server.Url("/delay/300") + " --delay 1500ms --max-connections 4 " +
                              dir.Write("tasks.csv", TasksCsv(20)) + " > " + out_csv;
  Subprocess script({"/usr/bin/script", "-qfec", command, "/dev/null"},
                    WithEnv(ProcessOptions{}, "TERM=xterm"));
  const ProcessResult result = script.Wait();
  ASSERT_EQ(result.exit_status, 0) << result.out << result.err;
  EXPECT_EQ(Rows(Contents(out_csv)).size(), 20u);
  const std::string& tty = result.out;  // what the terminal got: the orchestrator's stderr

  // What a terminal shows: the lines that scrolled up, and the line the cursor is on, with
  // the widest that line ever was. Knows \r, \n and ESC [ K, which is all it is sent.
  std::vector<std::string> scrolled;
  std::string current;
  std::size_t cursor = 0, widest_status = 0, status_draws = 0;
  for (std::size_t i = 0; i < tty.size(); ++i) {
    if (tty[i] == '\r') {
      cursor = 0;
    } else if (tty[i] == '\n') {
      scrolled.push_back(current);
      current.clear();
      cursor = 0;
    } else if (tty.compare(i, 3, "\x1b[K") == 0) {
      current.resize(cursor);
      i += 2;
    } else {
      if (cursor == current.size())
        current += tty[i];
      else
        current[cursor] = tty[i];
      ++cursor;
      if (current == "[") ++status_draws;
      if (current.starts_with("[")) widest_status = std::max(widest_status, current.size());
    }
  }
  EXPECT_GE(status_draws, 10u) << "redrawn 10 times a second for about 3 s: " << tty;
  EXPECT_LE(widest_status, 59u) << "cut to the 60 columns, one short of the edge";
  EXPECT_EQ(current, "") << "the status line is gone at the end";
  // No status text ever scrolled up: it stayed one line, and the event lines went above it.
  std::size_t event_lines = 0;
  for (const std::string& line : scrolled) {
    EXPECT_TRUE(line.starts_with("orchestrator: ")) << line;
    EXPECT_FALSE(std::regex_search(line, std::regex(R"(\[\d+/20 )"))) << line;
    event_lines += line.starts_with("orchestrator: emit_event") ? 1 : 0;
  }
  EXPECT_EQ(event_lines, 20u);
  ASSERT_FALSE(scrolled.empty());
  EXPECT_TRUE(scrolled.back().starts_with("orchestrator: 20 unique tasks")) << scrolled.back();
}

TEST(WatchingTest, NoStatusLineOffATerminalOrOnADumbOneOrWhenAskedNot) {
  TestServer server;
  TempDir dir;
  const std::string tasks = dir.Write("tasks.csv", TasksCsv(5));
  const std::string run = kBinary + " --url " + server.Url("/ok") + " --delay 500ms " + tasks;
  for (const auto& [term, command] : std::vector<std::pair<std::string, std::string>>{
           {"TERM=dumb", run + " > /dev/null"},
           {"TERM=xterm", run + " --no-progress > /dev/null"},
           {"TERM=xterm", run + " 2>&1 > /dev/null | cat"},  // stderr a pipe
           {"TERM=xterm", run},                              // the rows to the terminal too
       }) {
    SCOPED_TRACE(term + " " + command);
    Subprocess script({"/usr/bin/script", "-qfec", command, "/dev/null"},
                      WithEnv(ProcessOptions{}, term));
    const ProcessResult result = script.Wait();
    EXPECT_EQ(result.exit_status, 0) << result.out << result.err;
    // No line erased and drawn again (the summary may be in colour on a terminal).
    EXPECT_EQ(result.out.find("\x1b[K"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("orchestrator: 5 unique tasks"), std::string::npos) << result.out;
  }
}

// --progress off a terminal, for CI logs: a plain line every 10 s, nothing redrawn.
TEST(WatchingTest, ProgressLinesForLogs) {
  TestServer server;
  TempDir dir;
  const ProcessResult result =
      RunOrchestrator({"--url", server.Url("/ok"), "--delay", "10500ms", "--progress",
                       dir.Write("tasks.csv", TasksCsv(30))});
  EXPECT_EQ(result.exit_status, 0) << result.err;
  EXPECT_EQ(result.err.find("\x1b["), std::string::npos);
  const std::vector<std::size_t> lines = Find(result.err, "orchestrator: [");
  ASSERT_EQ(lines.size(), 1u) << result.err;
  const std::string line = result.err.substr(lines[0], result.err.find('\n', lines[0]) - lines[0]);
  EXPECT_EQ(line, "orchestrator: [0/30 0%] 0/s, ETA -- | 0 fetching, 30 waiting");
  const ProcessResult quiet =
      RunOrchestrator({"--url", server.Url("/ok"), "--delay", "0", "--progress", "-q",
                       dir.Write("tasks2.csv", TasksCsv(3))});
  EXPECT_EQ(quiet.err, "");
}

// The closing report: a table before the summary; --report json, one line of JSON in its
// place; --report-file, the JSON in a file, -q or not.
TEST(WatchingTest, TheClosingReport) {
  TestServer server;
  TempDir dir;
  const std::string tasks =
      dir.Write("tasks.csv", "task_id,task_type\n1,ok\n2,ok\n3,status/503\n4,ok\n");
  const std::vector<std::string> run = {
      "--url", server.Url("/{task_type:raw}"), "--delay", "0", "--retries", "1", "--retry-delay",
      "10ms"};
  auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> args = run;
    args.insert(args.end(), more.begin(), more.end());
    args.push_back(tasks);
    return RunOrchestrator(args);
  };
  const ProcessResult text = with({});
  EXPECT_EQ(text.exit_status, 1) << text.err;
  const std::vector<std::string> lines = Lines(text.err);
  ASSERT_GE(lines.size(), 6u) << text.err;
  // emit_event lines, then the report, then the summary last.
  const std::size_t header = text.err.find("orchestrator: task_type  tasks Completed Failed");
  ASSERT_NE(header, std::string::npos) << text.err;
  EXPECT_TRUE(std::regex_search(text.err, std::regex(R"(\norchestrator: ok\s+3\s+3\s+0\s+0 \d)")))
      << text.err;
  EXPECT_TRUE(
      std::regex_search(text.err, std::regex(R"(\norchestrator: status/503\s+1\s+0\s+1\s+1 \d)")))
      << text.err;
  EXPECT_NE(text.err.find("orchestrator: top failure reasons:\norchestrator:        1 HTTP 503 "
                          "Service Unavailable (after 2 attempts)\n"),
            std::string::npos)
      << text.err;
  EXPECT_TRUE(lines.back().starts_with("orchestrator: 4 unique tasks: 3 Completed, 1 Failed"))
      << text.err;
  for (const std::string& line : lines) EXPECT_TRUE(line.starts_with("orchestrator: ")) << line;

  const std::string file = dir.path() + "/report.json";
  const ProcessResult json = with({"--report", "json", "--report-file", file});
  EXPECT_EQ(json.exit_status, 1) << json.err;
  EXPECT_EQ(json.err.find("orchestrator: task_type"), std::string::npos) << "in place of the text";
  std::string line;
  for (const std::string& each : Lines(json.err)) {
    if (each.starts_with("{")) line = each;
  }
  const boost::json::value report = boost::json::parse(line);
  EXPECT_EQ(report.at("tasks").as_int64(), 4);
  EXPECT_EQ(report.at("failed").as_int64(), 1);
  EXPECT_EQ(report.at("retries").as_int64(), 1);
  EXPECT_EQ(report.at("top_failures").at(0).at("reason").as_string(),
            "HTTP 503 Service Unavailable (after 2 attempts)");
  EXPECT_EQ(boost::json::parse(Contents(file)).at("task_types").as_array().size(), 2u);

  std::filesystem::remove(file);
  const ProcessResult quiet = with({"-q", "--report-file", file});
  EXPECT_EQ(quiet.err, "");
  EXPECT_EQ(boost::json::parse(Contents(file)).at("completed").as_int64(), 3);

  const ProcessResult bad = with({"--report", "yaml"});
  EXPECT_EQ(bad.exit_status, 2);
  EXPECT_NE(bad.err.find("orchestrator: --report \"yaml\": expected text or json"),
            std::string::npos)
      << bad.err;
}

// --events: every line of a run that meets every kind of event validates against
// docs/events.schema.json (Debian's python3-jsonschema), each task's events come in the
// order they happened, and each task has exactly one "finished", as in the result CSV.
TEST(WatchingTest, EveryEventLineFollowsTheSchema) {
  TestServer server;
  TempDir dir;
  const std::string kinds = dir.Write("kinds.toml",
                                      "[defaults]\nretries = 1\nretry_delay = \"10ms\"\n"
                                      "[types.ingest]\n"
                                      "on_success = [ { url = \"" +
                                          server.Url("/ok") +
                                          "\" } ]\n"
                                          "steps = [ { fetch = \"" +
                                          server.Url("/ok") +
                                          "\" }, { delay = \"50ms\" }, "
                                          "{ emit = \"\" } ]\n"
                                          "[types.flaky]\n"
                                          "steps = [ { fetch = \"" +
                                          server.Url("/status/503") + "\" } ]\n");
  const std::string tasks = dir.Write("tasks.csv",
                                      "task_id,task_type,depends_on\n"
                                      "1,ingest,\n2,ingest,1\n3,ingest,\n4,flaky,\n5,ingest,4\n"
                                      "6,ingest,\n7,ingest,3\n");
  const std::string check = dir.Write("check.py", R"(
import collections, json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
kinds, finished, last = collections.Counter(), collections.Counter(), {}
for number, line in enumerate(open(sys.argv[2]), 1):
    event = json.loads(line)
    validator.validate(event)
    kinds[event["event"] + ("/" + event["by"] if "by" in event else "")] += 1
    task = event["task_id"]
    if task in last and last[task] == "finished":
        sys.exit(f"line {number}: an event of task {task} after its finished")
    last[task] = event["event"]
    if event["event"] == "finished":
        finished[task] += 1
print(" ".join(f"{k}={v}" for k, v in sorted(kinds.items())))
print("finished", " ".join(f"{t}:{n}" for t, n in sorted(finished.items())))
)");
  // --limit runs on one thread; without it the tasks and their parents are on 2 or 4.
  for (const auto& [threads, limit] :
       std::vector<std::pair<std::string, bool>>{{"1", true}, {"2", false}, {"4", false}}) {
    SCOPED_TRACE("--threads " + threads + (limit ? " --limit ingest=2" : ""));
    const std::string events = dir.path() + "/events-" + threads + ".jsonl";
    std::vector<std::string> args = {"--blueprints", kinds,  "--threads", threads,
                                     "--events",     events, tasks};
    if (limit) args.insert(args.begin(), {"--limit", "ingest=2"});
    const ProcessResult result = RunOrchestrator(args);
    EXPECT_EQ(result.exit_status, 1) << result.err;
    const auto rows = Rows(result.out);
    ASSERT_EQ(rows.size(), 7u);
    Subprocess python(
        {"/usr/bin/python3", check, ORCHESTRATOR_SOURCE_DIR "/docs/events.schema.json", events},
        {});
    const ProcessResult checked = python.Wait();
    ASSERT_EQ(checked.exit_status, 0) << checked.out << checked.err << Contents(events);
    const std::vector<std::string> summary = Lines(checked.out);
    ASSERT_EQ(summary.size(), 2u) << checked.out;
    // Every kind of event: dependencies (and the pool, with --limit), retries, webhooks.
    std::vector<std::string> kinds_seen = {"blocked/dependencies=",
                                           "released/dependencies=",
                                           "queued=",
                                           "started=",
                                           "step_started=",
                                           "step_finished=",
                                           "retry=1",
                                           "webhook=5",
                                           "finished=7"};
    if (limit) kinds_seen.insert(kinds_seen.end(), {"blocked/pool=", "released/pool="});
    for (const std::string& kind : kinds_seen) {
      EXPECT_NE(summary[0].find(kind), std::string::npos) << kind << " in " << summary[0];
    }
    EXPECT_EQ(summary[1], "finished 1:1 2:1 3:1 4:1 5:1 6:1 7:1");
    EXPECT_EQ(rows.at("5"), "Failed,dependency 4 failed");
  }
}

// A full events file is an error like a full --output: the run stops, every row is written,
// and the exit status says the output failed.
TEST(WatchingTest, AFullEventsFileStopsTheRun) {
  TestServer server;
  TempDir dir;
  const ProcessResult result =
      RunOrchestrator({"--url", server.Url("/ok"), "--delay", "30s", "--events", "/dev/full",
                       dir.Write("tasks.csv", TasksCsv(50))});
  EXPECT_EQ(result.exit_status, 3) << result.err;  // kExitOutputError
  EXPECT_LT(result.seconds, 10);
  EXPECT_EQ(Rows(result.out).size(), 50u);
  EXPECT_NE(result.err.find("orchestrator: error: cannot write events to /dev/full: No space left "
                            "on device; they are incomplete"),
            std::string::npos)
      << result.err;
}

// Issue 24: a task_type that is not UTF-8 went raw into --events lines and the report, and
// Python's json rejected both. Each JSON the tool writes is UTF-8, U+FFFD for the bad bytes.
TEST(WatchingTest, EventsAndReportAreUtf8WhateverTheTaskType) {
  TestServer server;
  TempDir dir;
  const std::string tasks =
      dir.Write("tasks.csv", "task_id,task_type\n1,\xff\xfe\n2,ok\xc3\n3,\xed\xa0\x80\n");
  const std::string events = dir.path() + "/events.jsonl";
  const std::string report = dir.path() + "/report.json";
  const std::string check = dir.Write("check.py", R"(
import json, sys, jsonschema
validator = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))
types = set()
with open(sys.argv[2], "rb") as events:
    for line in events:
        event = json.loads(line.decode("utf-8"))  # strict: bytes that are not UTF-8 raise
        validator.validate(event)
        types.add(event["task_type"])
with open(sys.argv[3], "rb") as report:
    reported = json.loads(report.read().decode("utf-8"))
print(" ".join(sorted(ascii(t) for t in types)))
print(" ".join(sorted(ascii(t["task_type"]) for t in reported["task_types"])))
)");
  const ProcessResult result =
      RunOrchestrator({"--url", server.Url("/status/500"), "--retries", "0", "-q", "--events",
                       events, "--report-file", report, tasks});
  EXPECT_EQ(result.exit_status, 1) << result.err;
  Subprocess python({"/usr/bin/python3", check, ORCHESTRATOR_SOURCE_DIR "/docs/events.schema.json",
                     events, report},
                    {});
  const ProcessResult checked = python.Wait();
  ASSERT_EQ(checked.exit_status, 0) << checked.out << checked.err;
  const std::string types = "'\\ufffd' '\\ufffd\\ufffd' 'ok\\ufffd'\n";
  EXPECT_EQ(checked.out, types + types);
}

}  // namespace
}  // namespace orchestrator::testing
