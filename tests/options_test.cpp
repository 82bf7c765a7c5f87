#include "orchestrator/options.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace orchestrator {
namespace {

CommandLine Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "orchestrator");
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  return ParseCommandLine(static_cast<int>(argv.size()), argv.data());
}

class OptionsTest : public ::testing::Test {
 protected:
  void SetUp() override { ::unsetenv("ORCHESTRATOR_URL"); }
  void TearDown() override { ::unsetenv("ORCHESTRATOR_URL"); }
};

TEST_F(OptionsTest, DefaultsMatchTheContract) {
  const CommandLine command_line = Parse({});
  ASSERT_EQ(command_line.action, CommandLine::Action::kRun) << command_line.text;
  const Options& options = command_line.options;
  EXPECT_EQ(options.tasks_path, "-");
  EXPECT_EQ(options.url, "https://httpbin.org/get");
  EXPECT_EQ(options.delay, Duration(5000));
  EXPECT_EQ(options.timeout, Duration(10'000));
  EXPECT_EQ(options.connect_timeout, Duration(10'000));
  EXPECT_EQ(options.retries, 2);
  EXPECT_EQ(options.max_connections, 64u);
  EXPECT_FALSE(options.quiet);
}

TEST_F(OptionsTest, ReadsEveryOption) {
  // Packed: clang-format would give each of these words a line of its own.
  // clang-format off
  const CommandLine command_line = Parse({
      "--url", "http://127.0.0.1:9/x", "--delay", "250ms", "--timeout", "1.5s",
      "--connect-timeout", "1", "--retries", "5", "--retry-delay", "0", "--max-connections", "8",
      "--threads", "3", "--max-body", "512k", "--output", "out.csv", "--resume", "earlier.csv",
      "-q", "tasks.csv"});
  // clang-format on
  ASSERT_EQ(command_line.action, CommandLine::Action::kRun) << command_line.text;
  const Options& options = command_line.options;
  EXPECT_EQ(options.tasks_path, "tasks.csv");
  EXPECT_EQ(options.url, "http://127.0.0.1:9/x");
  EXPECT_EQ(options.delay, Duration(250));
  EXPECT_EQ(options.timeout, Duration(1500));
  EXPECT_EQ(options.connect_timeout, Duration(1000));
  EXPECT_EQ(options.retries, 5);
  EXPECT_EQ(options.retry_delay, Duration(0));
  EXPECT_EQ(options.max_connections, 8u);
  EXPECT_EQ(options.threads, 3u);
  EXPECT_EQ(options.max_body, std::optional<std::uint64_t>(512 * 1024));
  EXPECT_EQ(options.output_path, "out.csv");
  EXPECT_EQ(options.resume_path, "earlier.csv");
  EXPECT_TRUE(options.quiet);
  EXPECT_EQ(Parse({"-o", "short.csv"}).options.output_path, "short.csv");
}

TEST_F(OptionsTest, ConnectTimeoutDefaultsToTimeout) {
  EXPECT_EQ(Parse({"--timeout", "3s"}).options.connect_timeout, Duration(3000));
}

TEST_F(OptionsTest, UrlComesFromTheEnvironmentUnlessGiven) {
  ::setenv("ORCHESTRATOR_URL", "http://127.0.0.1:1/env", 1);
  EXPECT_EQ(Parse({}).options.url, "http://127.0.0.1:1/env");
  EXPECT_EQ(Parse({"--url", "http://127.0.0.1:1/flag"}).options.url, "http://127.0.0.1:1/flag");
  ::setenv("ORCHESTRATOR_URL", "gopher://x", 1);
  EXPECT_EQ(Parse({}).action, CommandLine::Action::kUsageError);
}

TEST_F(OptionsTest, UsageErrorsSayWhatIsWrong) {
  const auto error = [](std::vector<std::string> args) {
    const CommandLine command_line = Parse(std::move(args));
    EXPECT_EQ(command_line.action, CommandLine::Action::kUsageError);
    return command_line.text;
  };
  EXPECT_EQ(error({"--delay", "soon"}),
            "--delay: invalid duration \"soon\" (examples: 250ms, 1.5s, 5s, 1m)");
  EXPECT_EQ(error({"--delay=-1s"}),
            "--delay: invalid duration \"-1s\" (examples: 250ms, 1.5s, 5s, 1m)");
  EXPECT_EQ(error({"--timeout", "0"}), "--timeout: must be more than 0");
  EXPECT_EQ(error({"--url", "ftp://x/y"}),
            "--url: only http and https URLs are supported: ftp://x/y");
  EXPECT_NE(error({"--max-connections", "0"}).find("--max-connections"), std::string::npos);
  EXPECT_NE(error({"--retries", "-1"}), "");
  EXPECT_NE(error({"--threads", "0"}).find("--threads"), std::string::npos);
  EXPECT_NE(error({"--no-such-flag"}).find("no-such-flag"), std::string::npos);
  EXPECT_NE(error({"a.csv", "b.csv"}), "");
}

TEST_F(OptionsTest, ARetryDelayIsAtMostTenMinutes) {
  // The same bound as a server's Retry-After: a longer wait is not a backoff.
  EXPECT_EQ(Parse({"--retry-delay", "10m"}).action, CommandLine::Action::kRun);
  EXPECT_EQ(Parse({"--retry-delay", "10m"}).options.retry_delay, std::chrono::minutes(10));
  EXPECT_EQ(Parse({"--retry-delay", "1m"}).options.retry_delay, std::chrono::minutes(1));
  for (const std::string too_long : {"600.001s", "11m", "5000h"}) {
    const CommandLine command_line = Parse({"--retry-delay", too_long});
    EXPECT_EQ(command_line.action, CommandLine::Action::kUsageError) << too_long;
    EXPECT_EQ(command_line.text, "--retry-delay: " + too_long +
                                     " is longer than 600s, the longest wait before a retry");
  }
}

TEST_F(OptionsTest, HelpAndVersionArePrinted) {
  const CommandLine help = Parse({"--help"});
  EXPECT_EQ(help.action, CommandLine::Action::kPrint);
  EXPECT_NE(help.text.find("--max-connections"), std::string::npos);
  EXPECT_NE(help.text.find("Exit status"), std::string::npos);
  const CommandLine version = Parse({"--version"});
  EXPECT_EQ(version.action, CommandLine::Action::kPrint);
  EXPECT_EQ(version.text.rfind("orchestrator ", 0), 0u);
}

}  // namespace
}  // namespace orchestrator
