// End to end: the built binary, run as a user runs it, against the loopback test server.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "cli_support.h"
#include "subprocess.h"
#include "test_server.h"

namespace orchestrator::testing {
namespace {

using std::chrono::milliseconds;

const char kSeed[] =
    "task_id,task_type\n101,process_data\n102,process_data\n101,process_data\n103,process_data\n";

TEST(CliTest, RunsTheSeedExampleOneRowPerUniqueTask) {
  TestServer server;
  TempDir dir;
  const ProcessResult result = RunOrchestrator(
      {"--url", server.Url("/ok"), "--delay", "100ms", dir.Write("tasks.csv", kSeed)});
  EXPECT_EQ(result.exit_status, 0) << result.err;
  EXPECT_EQ(Rows(result.out),
            (std::map<std::string, std::string>{
                {"101", "Completed,"}, {"102", "Completed,"}, {"103", "Completed,"}}));
  EXPECT_EQ(server.requests(), 3u) << "the duplicate 101 must run once";
  for (const char* id : {"101", "102", "103"}) {
    EXPECT_NE(result.err.find(std::string("orchestrator: emit_event task_id=") + id +
                              " task_type=process_data\n"),
              std::string::npos)
        << result.err;
  }
  EXPECT_NE(result.err.find("3 unique tasks (1 duplicate row skipped): 3 Completed, 0 Failed"),
            std::string::npos)
      << result.err;
}

TEST(CliTest, ReadsStandardInputWhenGivenDashOrNoFile) {
  TestServer server;
  for (std::vector<std::string> args :
       {std::vector<std::string>{"-"}, std::vector<std::string>{}}) {
    args.insert(args.begin(), {"--url", server.Url("/ok"), "--delay", "0", "-q"});
    const ProcessResult result = RunOrchestrator(args, Stdin(kSeed));
    EXPECT_EQ(result.exit_status, 0) << result.err;
    EXPECT_EQ(Rows(result.out).size(), 3u);
    EXPECT_EQ(result.err, "") << "quiet";
  }
}

TEST(CliTest, FailedTasksGetTheirReasonAndExitStatus1) {
  TestServer server;
  const ProcessResult result =
      RunOrchestrator({"--url", server.Url("/status/404"), "--delay", "0", "-q"}, Stdin(kSeed));
  EXPECT_EQ(result.exit_status, 1);
  for (const auto& [id, row] : Rows(result.out)) EXPECT_EQ(row, "Failed,HTTP 404 Not Found") << id;
  EXPECT_EQ(server.requests(), 3u) << "a 404 is never retried";
}

TEST(CliTest, RetriesRecoverAFlakyEndpoint) {
  TestServer server;
  const ProcessResult result = RunOrchestrator({"--url", server.Url("/flaky/2/503"), "--delay", "0",
                                                "--retries", "2", "--retry-delay", "20ms", "-q"},
                                               Stdin(TasksCsv(1)));
  EXPECT_EQ(result.exit_status, 0) << result.out << result.err;
  EXPECT_EQ(Rows(result.out)["1"], "Completed,");
  EXPECT_EQ(server.requests(), 3u);
}

TEST(CliTest, ConnectionRefusedIsRetriedThenReported) {
  auto server = std::make_unique<TestServer>();
  const std::string url = server->Url("/ok");
  server.reset();  // nothing listens on that port now
  const ProcessResult result = RunOrchestrator(
      {"--url", url, "--delay", "0", "--retry-delay", "10ms", "-q"}, Stdin(TasksCsv(2)));
  EXPECT_EQ(result.exit_status, 1);
  for (const auto& [id, row] : Rows(result.out)) {
    EXPECT_EQ(row, "Failed,connection refused (after 3 attempts)") << id;
  }
}

TEST(CliTest, InputErrorsRunNothingAndNameFileAndLine) {
  TestServer server;
  TempDir dir;
  const std::string path = dir.Write("bad.csv", "task_id,task_type\n1,a\n2x,b\n3,c\n");
  const ProcessResult result = RunOrchestrator({"--url", server.Url("/ok"), path});
  EXPECT_EQ(result.exit_status, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "orchestrator: " + path +
                            ":3: task_id \"2x\" is not a whole number from 0 to "
                            "18446744073709551615\n");
  EXPECT_EQ(server.requests(), 0u);

  const ProcessResult from_stdin =
      RunOrchestrator({"--url", server.Url("/ok")}, Stdin("task_id\n1\n\n-5\n"));
  EXPECT_EQ(from_stdin.exit_status, 2);
  EXPECT_EQ(from_stdin.err,
            "orchestrator: <stdin>:4: task_id \"-5\" is not a whole number from 0 to "
            "18446744073709551615\n");
}

TEST(CliTest, MissingFilesAndDirectoriesAreInputErrors) {
  TempDir dir;
  const ProcessResult missing = RunOrchestrator({dir.path() + "/nope.csv"});
  EXPECT_EQ(missing.exit_status, 2);
  EXPECT_EQ(missing.out, "");
  EXPECT_EQ(missing.err,
            "orchestrator: " + dir.path() + "/nope.csv: cannot open: No such file or directory\n");
  const ProcessResult directory = RunOrchestrator({dir.path()});
  EXPECT_EQ(directory.exit_status, 2);
  EXPECT_EQ(directory.err, "orchestrator: " + dir.path() + ": is a directory, not a CSV file\n");
}

TEST(CliTest, EmptyInputOrHeaderOnlyGivesHeaderOnly) {
  for (const char* input : {"", "task_id,task_type\n"}) {
    const ProcessResult result = RunOrchestrator({"--url", "http://127.0.0.1:9/"}, Stdin(input));
    EXPECT_EQ(result.exit_status, 0) << result.err;
    EXPECT_EQ(result.out, kHeader + "\n");
  }
}

TEST(CliTest, UsageErrorsExit2WithAPrefixedMessage) {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"--delay", "soon"},
                                               {"--max-connections", "0"},
                                               {"--url", "ftp://example.com/"},
                                               {"--timeout=-1s"},
                                               {"--bogus"}}) {
    const ProcessResult result = RunOrchestrator(args, Stdin(kSeed));
    EXPECT_EQ(result.exit_status, 2) << args[0];
    EXPECT_EQ(result.out, "");
    EXPECT_EQ(result.err.rfind("orchestrator: ", 0), 0u) << result.err;
  }
}

TEST(CliTest, HelpAndVersionGoToStdout) {
  const ProcessResult help = RunOrchestrator({"--help"});
  EXPECT_EQ(help.exit_status, 0);
  EXPECT_NE(help.out.find("Usage: orchestrator"), std::string::npos);
  const ProcessResult version = RunOrchestrator({"--version"});
  EXPECT_EQ(version.exit_status, 0);
  EXPECT_EQ(version.out.rfind("orchestrator ", 0), 0u);
}

TEST(CliTest, UrlComesFromTheEnvironment) {
  TestServer server;
  const ProcessResult result = RunOrchestrator(
      {"--delay", "0", "-q"}, WithEnv(Stdin(TasksCsv(2)), "ORCHESTRATOR_URL=" + server.Url("/ok")));
  EXPECT_EQ(result.exit_status, 0) << result.err;
  EXPECT_EQ(server.requests(), 2u);
}

TEST(CliTest, NeverMoreFetchesInFlightThanMaxConnections) {
  // One event loop, and three that share the five slots between them.
  for (const char* threads : {"1", "3"}) {
    TestServer server;
    const ProcessResult result =
        RunOrchestrator({"--url", server.Url("/delay/50"), "--delay", "0", "--max-connections", "5",
                         "--threads", threads, "-q"},
                        Stdin(TasksCsv(60)));
    EXPECT_EQ(result.exit_status, 0) << result.err;
    EXPECT_EQ(Rows(result.out).size(), 60u);
    EXPECT_EQ(server.max_in_flight(), 5u) << "--threads " << threads;
  }
}

TEST(CliTest, ReusesConnectionsAcrossTasks) {
  TestServer server;
  const ProcessResult result =
      RunOrchestrator({"--url", server.Url("/ok"), "--delay", "0", "--max-connections", "4", "-q"},
                      Stdin(TasksCsv(200)));
  EXPECT_EQ(result.exit_status, 0) << result.err;
  EXPECT_EQ(server.requests(), 200u);
  EXPECT_LE(server.connections(), 4u);
}

TEST(CliTest, TwentyTasksTakeOneDelayNotTwenty) {
  TestServer server;
  // The default --delay (5 s): concurrent tasks take about 5 s in all, not 100.
  const ProcessResult result =
      RunOrchestrator({"--url", server.Url("/ok"), "-q"}, Stdin(TasksCsv(20)));
  EXPECT_EQ(result.exit_status, 0) << result.err;
  EXPECT_EQ(Rows(result.out).size(), 20u);
  EXPECT_GE(result.seconds, 5.0);
  EXPECT_LT(result.seconds, 8.0);
}

// Starts a 20-task run with a long delay, waits until every task is in its delay, signals.
ProcessResult SignalMidRun(int number) {
  TestServer server;
  Subprocess process({kBinary, "--url", server.Url("/ok"), "--delay", "30s", "-q"},
                     Stdin(TasksCsv(20)));
  EXPECT_TRUE(process.WaitForStdoutLines(1, milliseconds(10'000)));
  for (int i = 0; i < 500 && server.requests() < 20; ++i)
    std::this_thread::sleep_for(milliseconds(10));
  EXPECT_EQ(server.requests(), 20u);
  const auto sent = std::chrono::steady_clock::now();
  process.Signal(number);
  ProcessResult result = process.Wait();
  EXPECT_LT(std::chrono::steady_clock::now() - sent, milliseconds(2000));
  return result;
}

TEST(CliTest, SigtermMidRunReportsEveryTaskAndExits143) {
  const ProcessResult result = SignalMidRun(SIGTERM);
  EXPECT_EQ(result.exit_status, 143);
  const auto rows = Rows(result.out);
  EXPECT_EQ(rows.size(), 20u);
  for (const auto& [id, row] : rows) EXPECT_EQ(row, "Failed,cancelled") << id;
  EXPECT_NE(
      result.err.find("orchestrator: stopped by SIGTERM: 0 Completed, 20 Failed (20 cancelled)"),
      std::string::npos)
      << result.err;
}

TEST(CliTest, SigintMidRunExits130) {
  const ProcessResult result = SignalMidRun(SIGINT);
  EXPECT_EQ(result.exit_status, 130);
  EXPECT_EQ(Rows(result.out).size(), 20u);
}

TEST(CliTest, AClosedStdoutEndsTheRunWithinASecond) {
  TestServer server;
  Subprocess process({kBinary, "--url", server.Url("/ok"), "--delay", "30s", "-q"},
                     Stdin(TasksCsv(5)));
  ASSERT_TRUE(process.WaitForStdoutLines(1, milliseconds(10'000)));  // `head -1` has its line
  process.CloseStdout();
  const auto closed = std::chrono::steady_clock::now();
  const ProcessResult result = process.Wait();
  EXPECT_LT(std::chrono::steady_clock::now() - closed, milliseconds(1000));
  EXPECT_EQ(result.term_signal, 0) << "no crash";
  EXPECT_EQ(result.exit_status, 141);
}

TEST(CliTest, AnUnresolvableHostFailsFastWithoutLeavingTheMachine) {
  // A private mount namespace whose resolv.conf names only 127.0.0.1 (where no DNS server
  // listens), so the lookup fails at once and no query leaves the machine.
  TempDir dir;
  const std::string resolv =
      dir.Write("resolv.conf", "nameserver 127.0.0.1\noptions attempts:1 timeout:1\n");
  const ProcessResult probe = RunProcess({"/usr/bin/unshare", "-m", "true"});
  if (probe.exit_status != 0) GTEST_SKIP() << "unshare -m is not permitted here: " << probe.err;
  const ProcessResult result =
      RunProcess({"/usr/bin/unshare", "-m", "/bin/sh", "-c",
                  "mount --bind \"$0\" /etc/resolv.conf && exec \"$@\"", resolv, kBinary, "--url",
                  "http://no-such-host.invalid/get", "--delay", "0", "-q"},
                 Stdin(TasksCsv(2)));
  EXPECT_EQ(result.exit_status, 1) << result.err;
  for (const auto& [id, row] : Rows(result.out)) {
    EXPECT_EQ(row, "Failed,could not resolve host no-such-host.invalid") << id;
  }
  EXPECT_LT(result.seconds, 5.0);
}

}  // namespace
}  // namespace orchestrator::testing
