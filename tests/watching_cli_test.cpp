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

#include "cli_support.h"
#include "subprocess.h"
#include "test_server.h"

namespace orchestrator::testing {
namespace {

using std::chrono::milliseconds;

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
  EXPECT_EQ(
      Value(text,
            "orchestrator_tasks_total{final_status=\"Completed\",task_type=\"process_data\"}"),
      0);
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
  EXPECT_EQ(
      Value(text,
            "orchestrator_tasks_total{final_status=\"Completed\",task_type=\"process_data\"}"),
      40)
      << text;
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
  EXPECT_EQ(
      Value(scrape,
            "orchestrator_tasks_total{final_status=\"Completed\",task_type=\"process_data\"}"),
      30)
      << scrape;
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

}  // namespace
}  // namespace orchestrator::testing
