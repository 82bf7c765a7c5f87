// End to end: signals, a closed or full stdout, and what the run leaves behind for others.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
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

// Waits (at most 10 s) until `server` has seen `count` requests.
void AwaitRequests(const TestServer& server, std::size_t count) {
  for (int i = 0; i < 1000 && server.requests() < count; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_GE(server.requests(), count);
}

// The lost-rows bug: with stdout on a regular file nothing kept the collector's loop alive
// after the signal, and with two threads or more it often ended before the workers' rows
// came (0, 100 or 200 rows of 200). A pipe hid it: its closed-reader watch kept the loop busy.
TEST(InterruptTest, ASignalGivesEveryTaskItsRowWithStdoutOnAFileOrAPipe) {
  TestServer server;
  TempDir dir;
  const std::string tasks = dir.Write("tasks.csv", TasksCsv(200));
  for (const bool to_file : {true, false}) {
    for (const char* threads : {"2", "4"}) {
      SCOPED_TRACE(std::string(to_file ? "stdout a file" : "stdout a pipe") + ", threads " +
                   threads);
      const std::string out_path = dir.path() + "/out.csv";
      ProcessOptions options;
      if (to_file) options = StdoutTo(std::move(options), out_path);
      const std::size_t before = server.requests();
      Subprocess process({kBinary, "--url", server.Url("/ok"), "--delay", "30s", "-q", "--threads",
                          threads, tasks},
                         std::move(options));
      AwaitRequests(server, before + 200);
      process.Signal(SIGTERM);
      const ProcessResult result = process.Wait();
      EXPECT_EQ(result.exit_status, 143) << result.err;
      const auto rows = Rows(to_file ? Contents(out_path) : result.out);
      EXPECT_EQ(rows.size(), 200u);
      for (const auto& [id, row] : rows) EXPECT_EQ(row, "Failed,cancelled") << id;
    }
  }
}

// Ctrl-C used to do nothing until the input was read to its end: the handler only ran in
// the event loop, which started after reading.
TEST(InterruptTest, ASignalWhileStandardInputIsStillOpenEndsTheRunWithinASecond) {
  TestServer server;
  for (const int number : {SIGINT, SIGTERM, SIGHUP}) {
    Subprocess process({kBinary, "--url", server.Url("/ok"), "--delay", "0"},
                       KeepStdinOpen(Stdin(TasksCsv(3))));
    std::this_thread::sleep_for(milliseconds(300));
    ASSERT_TRUE(process.Running());
    const auto sent = std::chrono::steady_clock::now();
    process.Signal(number);
    const ProcessResult result = process.Wait();
    EXPECT_LT(std::chrono::steady_clock::now() - sent, milliseconds(1000));
    EXPECT_EQ(result.exit_status, 128 + number) << result.err;
    EXPECT_EQ(result.out, "");
    EXPECT_NE(result.err.find("while reading the input; nothing was run"), std::string::npos)
        << result.err;
    EXPECT_EQ(server.requests(), 0u);
  }
}

// An output that is a FIFO with no reader yet (issue 24): the run waits for the reader
// without blocking in open(2), so the first signal ends it, and says so; once a reader comes
// the output goes to it.
TEST(InterruptTest, ASignalWhileAnOutputFifoWaitsForItsReaderEndsTheRun) {
  TestServer server;
  TempDir dir;
  const std::string tasks = dir.Write("tasks.csv", TasksCsv(2));
  for (const char* flag : {"--output", "--events"}) {
    SCOPED_TRACE(flag);
    const std::string fifo = dir.path() + "/out" + flag + ".fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    Subprocess process({kBinary, "--url", server.Url("/ok"), "--delay", "0", flag, fifo, tasks},
                       {});
    std::this_thread::sleep_for(milliseconds(300));
    ASSERT_TRUE(process.Running());
    const auto sent = std::chrono::steady_clock::now();
    process.Signal(SIGTERM);
    const ProcessResult result = process.Wait();
    EXPECT_LT(std::chrono::steady_clock::now() - sent, milliseconds(1000));
    EXPECT_EQ(result.exit_status, 143) << result.err;
    EXPECT_EQ(result.err,
              "orchestrator: interrupted by SIGTERM while opening " + fifo + "; nothing was run\n");
    EXPECT_EQ(result.out, "");
    EXPECT_EQ(server.requests(), 0u);
  }

  const std::string fifo = dir.path() + "/results.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Subprocess process(
      {kBinary, "--url", server.Url("/ok"), "--delay", "0", "-q", "--output", fifo, tasks}, {});
  std::this_thread::sleep_for(milliseconds(300));
  ASSERT_TRUE(process.Running());
  std::string read;
  {
    std::ifstream reader(fifo);
    read.assign(std::istreambuf_iterator<char>(reader), std::istreambuf_iterator<char>());
  }
  const ProcessResult result = process.Wait();
  EXPECT_EQ(result.exit_status, 0) << result.err;
  EXPECT_EQ(Rows(read).size(), 2u) << read;
}

TEST(InterruptTest, ASignalWhileWaitingForAFifosWriterEndsTheRun) {
  TempDir dir;
  const std::string fifo = dir.path() + "/tasks.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Subprocess process({kBinary, "--delay", "0", fifo}, {});
  std::this_thread::sleep_for(milliseconds(300));
  ASSERT_TRUE(process.Running());
  const auto sent = std::chrono::steady_clock::now();
  process.Signal(SIGINT);
  const ProcessResult result = process.Wait();
  EXPECT_LT(std::chrono::steady_clock::now() - sent, milliseconds(1000));
  EXPECT_EQ(result.exit_status, 130) << result.err;
  EXPECT_EQ(result.out, "");
  EXPECT_NE(result.err.find("orchestrator: interrupted by SIGINT while reading the input"),
            std::string::npos)
      << result.err;
}

TEST(InterruptTest, AFifoIsReadOnceItsWriterComes) {
  TestServer server;
  TempDir dir;
  const std::string fifo = dir.path() + "/tasks.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Subprocess process({kBinary, "--url", server.Url("/ok"), "--delay", "0", "-q", fifo}, {});
  std::this_thread::sleep_for(milliseconds(300));  // no writer yet: it waits, it does not end
  ASSERT_TRUE(process.Running());
  {
    std::ofstream writer(fifo);
    writer << TasksCsv(2);
  }
  const ProcessResult result = process.Wait();
  EXPECT_EQ(result.exit_status, 0) << result.err;
  EXPECT_EQ(Rows(result.out).size(), 2u);
}

// `timeout 300 orchestrator ...` and Ctrl-C: the terminal's SIGINT and the one `timeout`
// forwards arrive together. The second used to end the process at once, so the rows of the
// clean stop the first began were lost (0 of 20,000 in one run of three).
TEST(InterruptTest, ASignalDeliveredTwiceStillGivesEveryTaskItsRow) {
  constexpr std::size_t kTasks = 10'000;
  TestServer server;
  TempDir dir;
  const std::string tasks = dir.Write("tasks.csv", TasksCsv(static_cast<int>(kTasks)));
  for (const char* threads : {"1", "2"}) {
    SCOPED_TRACE(std::string("threads ") + threads);
    const std::string out_path = dir.path() + "/out.csv";
    const std::size_t before = server.requests();
    Subprocess process(
        {kBinary, "--url", server.Url("/ok"), "--delay", "2s", "-q", "--threads", threads, tasks},
        StdoutTo({}, out_path));
    AwaitRequests(server, before + 100);
    process.Signal(SIGINT);
    std::this_thread::sleep_for(milliseconds(1));
    process.Signal(SIGINT);
    const ProcessResult result = process.Wait();
    EXPECT_EQ(result.exit_status, 130) << result.err;
    EXPECT_EQ(result.term_signal, 0);
    EXPECT_NE(result.err.find("orchestrator: stopped by SIGINT"), std::string::npos)
        << "the first signal's clean stop ended the run: " << result.err;
    EXPECT_EQ(Rows(Contents(out_path)).size(), kTasks);
  }
}

// The first signal starts a clean stop; when that cannot finish (nobody reads stdout, so
// writing the cancelled rows blocks), a second one, sent once the first's window is over,
// ends the process at once.
TEST(InterruptTest, TheSecondSignalEndsARunStuckWritingItsRows) {
  TestServer server;
  TempDir dir;
  // 20,000 rows of `cancelled` are far more than a pipe holds.
  ProcessOptions options;
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer's _exit sleeps atexit_sleep_ms (1 s) when another thread is alive, as
  // stdout's writer thread is here, stuck in write(2): that second is its own, not ours.
  const char* tsan_options = std::getenv("TSAN_OPTIONS");
  options.env.push_back(
      "TSAN_OPTIONS=" + (tsan_options != nullptr ? std::string(tsan_options) + ":" : "") +
      "atexit_sleep_ms=0");
#endif
  Subprocess process({kBinary, "--url", server.Url("/ok"), "--delay", "30s", "-q", "--threads", "2",
                      dir.Write("tasks.csv", TasksCsv(20'000))},
                     options);
  AwaitRequests(server, 100);  // under way; the rows of every task come with the signal
  process.Signal(SIGINT);
  std::this_thread::sleep_for(milliseconds(1500));  // past SignalWatch::kSameInterruption
  EXPECT_TRUE(process.Running()) << "the first signal could not finish: stdout is full";
  const auto sent = std::chrono::steady_clock::now();
  process.Signal(SIGINT);
  const ProcessResult result = process.Wait();
  EXPECT_LT(std::chrono::steady_clock::now() - sent, milliseconds(1000));
  EXPECT_EQ(result.exit_status, 130) << result.err;
  EXPECT_EQ(result.term_signal, 0) << "an exit, not a crash";
  EXPECT_EQ(result.err.find("stopped by SIGINT"), std::string::npos)
      << "the second signal ended it, not the first: " << result.err;
}

// An event loop watching stdout would set O_NONBLOCK on the pipe's open file description,
// which the shell and every later writer share: `{ orchestrator; other; } | consumer` would
// then see EAGAIN in `other`. The flags of the pipe are read after each run.
TEST(InterruptTest, APipeSharedWithOtherCommandsIsLeftAsItWas) {
  TestServer server;
  TempDir dir;
  const std::string tasks = dir.Write("tasks.csv", TasksCsv(20));
  const std::string flags = "grep '^flags' /proc/self/fdinfo/1";
  for (const std::string& run :
       {" -q " + tasks, " " + tasks + " 2>&1", " --threads 1 -q " + tasks}) {
    SCOPED_TRACE(run);
    const ProcessResult result =
        RunProcess({"/bin/sh", "-c",
                    "{ " + flags + "; '" + kBinary + "' --url " + server.Url("/ok") + " --delay 0" +
                        run + "; " + flags + "; } | grep '^flags'"});
    const std::vector<std::string> lines = Lines(result.out);
    ASSERT_EQ(lines.size(), 2u) << result.out << result.err;
    EXPECT_EQ(lines[0], lines[1]) << "the shared pipe's flags changed";
    const long value =
        std::strtol(lines[1].substr(lines[1].find_first_of("0123456789")).c_str(), nullptr, 8);
    EXPECT_EQ(value & 04000, 0) << "O_NONBLOCK is set: " << lines[1];
  }
}

// The header could not be written, so the run stops before it starts, whatever the delay.
TEST(InterruptTest, AFullStdoutStopsTheRunAtOnce) {
  TestServer server;
  TempDir dir;
  const std::string output = dir.path() + "/results.csv";
  const ProcessResult result =
      RunOrchestrator({"--url", server.Url("/ok"), "--delay", "3s", "-q", "--output", output},
                      StdoutTo(Stdin(TasksCsv(3)), "/dev/full"));
  EXPECT_EQ(result.exit_status, 3);
  EXPECT_LT(result.seconds, 1.0);
  EXPECT_EQ(server.requests(), 0u) << "nothing ran";
  EXPECT_NE(result.err.find("orchestrator: error: cannot write results to stdout: No space left "
                            "on device; they are incomplete"),
            std::string::npos)
      << result.err;
  // The other output still has a row for every task.
  const auto rows = Rows(Contents(output));
  EXPECT_EQ(rows.size(), 3u);
  for (const auto& [id, row] : rows) EXPECT_EQ(row, "Failed,cancelled") << id;
}

// Out of memory is the one internal failure a test can cause from outside: an address-space
// limit that the CSV reader's buffers do not fit in.
TEST(InterruptTest, AnExceptionEndsTheRunWithStatus70AndAMessage) {
  if (kSanitized) GTEST_SKIP() << "a sanitizer's shadow memory needs more address space";
  const ProcessResult result =
      RunProcess({"/bin/sh", "-c", "ulimit -v 40000 && exec '" + kBinary + "' --delay 0 -q"},
                 Stdin(TasksCsv(3)));
  EXPECT_EQ(result.exit_status, 70) << result.err;
  EXPECT_EQ(result.term_signal, 0);
  EXPECT_TRUE(result.err.starts_with("orchestrator: internal error: ")) << result.err;
  EXPECT_EQ(result.out, "");
}

}  // namespace
}  // namespace orchestrator::testing
