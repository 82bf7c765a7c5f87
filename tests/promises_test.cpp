// End to end: promises the README makes about --resume, --output and the event lines, each
// checked on the built binary against the loopback test server.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli_support.h"
#include "subprocess.h"
#include "test_server.h"

namespace orchestrator::testing {
namespace {

using std::chrono::milliseconds;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string EventLine(int id, const std::string& type = "process_data") {
  return "orchestrator: emit_event task_id=" + std::to_string(id) + " task_type=" + type + "\n";
}

// The names in `dir`, so a test can tell that nothing was left beside a file.
std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(PromiseTest, ATornLastResumeRowIsIgnoredWithAWarningAndItsTaskRunsAgain) {
  TestServer server;
  TempDir dir;
  const std::string tasks = dir.Write("tasks.csv", TasksCsv(4));
  // Task 3's row looks whole but has no line feed: a crash cut it short.
  const std::string results =
      dir.Write("results.csv", kHeader + "\n1,Completed,\n2,Completed,\n3,Completed,");
  const ProcessResult result =
      RunOrchestrator({"--url", server.Url("/ok"), "--delay", "0", "--resume", results, tasks});
  EXPECT_EQ(result.exit_status, 0) << result.err;
  EXPECT_TRUE(
      Contains(result.err, "orchestrator: warning: " + results + ":4: ignoring a torn last row"))
      << result.err;
  EXPECT_EQ(server.requests(), 2u) << "tasks 3 and 4 run; 1 and 2 are carried over";
  EXPECT_TRUE(Contains(result.err, EventLine(3))) << result.err;
  EXPECT_FALSE(Contains(result.err, EventLine(1))) << result.err;
  EXPECT_EQ(
      Rows(result.out),
      (std::map<std::string, std::string>{
          {"1", "Completed,"}, {"2", "Completed,"}, {"3", "Completed,"}, {"4", "Completed,"}}));
}

TEST(PromiseTest, AResumeFileThatDoesNotExistYetRunsEveryTask) {
  TestServer server;
  TempDir dir;
  const std::string tasks = dir.Write("tasks.csv", TasksCsv(3));
  const std::string results = dir.path() + "/results.csv";
  // The README's command line, the first time.
  const ProcessResult first = RunOrchestrator({"--url", server.Url("/ok"), "--delay", "0",
                                               "--output", results, "--resume", results, tasks});
  EXPECT_EQ(first.exit_status, 0) << first.err;
  EXPECT_EQ(first.err.rfind(
                "orchestrator: " + results + ": no earlier results yet; running every task\n", 0),
            0u)
      << first.err;
  EXPECT_EQ(server.requests(), 3u);
  EXPECT_EQ(Rows(first.out).size(), 3u);
  EXPECT_EQ(Contents(results), first.out);

  // -q keeps the note off stderr; every task still runs.
  const std::string elsewhere = dir.path() + "/none-yet.csv";
  server.ResetCounters();
  const ProcessResult quiet = RunOrchestrator(
      {"--url", server.Url("/ok"), "--delay", "0", "-q", "--resume", elsewhere, tasks});
  EXPECT_EQ(quiet.exit_status, 0) << quiet.err;
  EXPECT_EQ(quiet.err, "");
  EXPECT_EQ(server.requests(), 3u);
  EXPECT_EQ(Rows(quiet.out).size(), 3u);
}

TEST(PromiseTest, CarriedOverRowsAreCopiedUnchangedNotFetchedAndCounted) {
  TestServer server;
  TempDir dir;
  // Five unique tasks and one duplicate row.
  const std::string tasks = dir.Write("tasks.csv", TasksCsv(5) + "4,process_data\n");
  // 1 and 3 Completed; 2 Failed (runs again); 99 is not in the input (ignored).
  const std::string results =
      dir.Write("results.csv", kHeader +
                                   "\n1,Completed,\n2,Failed,HTTP 503 Service Unavailable (after 3 "
                                   "attempts)\n3,Completed,\n99,Completed,\n");
  const ProcessResult result =
      RunOrchestrator({"--url", server.Url("/ok"), "--delay", "0", "--resume", results, tasks});
  EXPECT_EQ(result.exit_status, 0) << result.err;
  // The header and the carried rows come first, as the earlier file had them.
  const std::vector<std::string> lines = Lines(result.out);
  ASSERT_GE(lines.size(), 3u) << result.out;
  EXPECT_EQ(lines[0], kHeader);
  EXPECT_EQ(lines[1], "1,Completed,");
  EXPECT_EQ(lines[2], "3,Completed,");
  EXPECT_EQ(Rows(result.out), (std::map<std::string, std::string>{{"1", "Completed,"},
                                                                  {"2", "Completed,"},
                                                                  {"3", "Completed,"},
                                                                  {"4", "Completed,"},
                                                                  {"5", "Completed,"}}));
  EXPECT_EQ(server.requests(), 3u) << "2, 4 and 5 run; 1 and 3 do not";
  for (const int id : {2, 4, 5}) EXPECT_TRUE(Contains(result.err, EventLine(id))) << result.err;
  for (const int id : {1, 3}) EXPECT_FALSE(Contains(result.err, EventLine(id))) << result.err;
  EXPECT_TRUE(Contains(result.err,
                       "orchestrator: 5 unique tasks (1 duplicate row skipped, 2 "
                       "carried over from " +
                           results + "): 5 Completed, 0 Failed in "))
      << result.err;
  EXPECT_EQ(Contents(results), kHeader +
                                   "\n1,Completed,\n2,Failed,HTTP 503 Service Unavailable (after "
                                   "3 attempts)\n3,Completed,\n99,Completed,\n")
      << "--resume alone does not write the file";
}

TEST(PromiseTest, AnOutputThatCannotBeCreatedExits2AndRunsNothing) {
  TestServer server;
  TempDir dir;
  const std::string tasks = dir.Write("tasks.csv", TasksCsv(3));
  for (const std::string& output : {dir.path() + "/no-such-dir/results.csv", dir.path()}) {
    const ProcessResult result =
        RunOrchestrator({"--url", server.Url("/ok"), "--delay", "0", "--output", output, tasks});
    EXPECT_EQ(result.exit_status, 2) << output << "\n" << result.err;
    EXPECT_EQ(result.err.rfind("orchestrator: ", 0), 0u) << result.err;
    EXPECT_TRUE(Contains(result.err, output)) << result.err;
    EXPECT_EQ(result.out, "") << output;
    EXPECT_EQ(server.requests(), 0u) << output;
    EXPECT_EQ(Names(dir.path()), std::vector<std::string>{"tasks.csv"}) << "nothing left behind";
  }
}

TEST(PromiseTest, AFifoAsOutputIsWrittenInPlaceWithTheSameCsvAsStdout) {
  TestServer server;
  TempDir dir;
  const std::string tasks = dir.Write("tasks.csv", TasksCsv(5));
  const std::string fifo = dir.path() + "/results.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);

  // Our read end is open before the run starts, so the binary's open for writing never
  // waits, and a binary that does not open the FIFO at all leaves no thread stuck.
  const int fd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  std::string received;
  std::atomic<bool> exited{false};
  std::thread reader([&] {
    char buffer[4096];
    for (;;) {
      // Once the binary has exited, everything it wrote is in the pipe: drain it and stop.
      const bool last = exited;
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n > 0) {
        received.append(buffer, static_cast<std::size_t>(n));
      } else if (last) {
        break;
      } else if (n == 0) {
        std::this_thread::sleep_for(milliseconds(5));  // no writer (yet, or any more)
      } else {
        pollfd readable{fd, POLLIN, 0};
        ::poll(&readable, 1, 10);
      }
    }
  });
  const ProcessResult result =
      RunOrchestrator({"--url", server.Url("/ok"), "--delay", "0", "-q", "--output", fifo, tasks});
  exited = true;
  reader.join();
  ::close(fd);

  EXPECT_EQ(result.exit_status, 0) << result.err;
  EXPECT_EQ(Rows(result.out).size(), 5u);
  EXPECT_EQ(received, result.out);
  struct stat info {};
  ASSERT_EQ(::lstat(fifo.c_str(), &info), 0);
  EXPECT_TRUE(S_ISFIFO(info.st_mode)) << "written in place, not replaced";
  EXPECT_EQ(Names(dir.path()), (std::vector<std::string>{"results.fifo", "tasks.csv"}));
}

TEST(PromiseTest, ControlCharactersInATaskTypeAreShownAsQuestionMarks) {
  TestServer server;
  // ESC, BEL, a tab and DEL, quoted; and a plain type beside it.
  const std::string input = "task_id,task_type\n1,\"red\x1b[31mtext\x07 and\ttab\x7f!\"\n2,plain\n";
  const ProcessResult result =
      RunOrchestrator({"--url", server.Url("/ok"), "--delay", "0"}, Stdin(input));
  EXPECT_EQ(result.exit_status, 0) << result.err;
  EXPECT_EQ(Rows(result.out).size(), 2u);
  EXPECT_TRUE(Contains(result.err, EventLine(1, "red?[31mtext? and?tab?!"))) << result.err;
  EXPECT_TRUE(Contains(result.err, EventLine(2, "plain"))) << result.err;
  for (const char c : result.err) {
    const auto byte = static_cast<unsigned char>(c);
    EXPECT_TRUE(c == '\n' || (byte >= 0x20 && byte != 0x7f))
        << "byte " << static_cast<int>(byte) << " in " << result.err;
  }
}

}  // namespace
}  // namespace orchestrator::testing
