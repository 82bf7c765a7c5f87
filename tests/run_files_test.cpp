// No two files of a run are one file, when one of them is written.
#include "orchestrator/run_files.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <variant>

namespace orchestrator {
namespace {

class RunFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::path(::testing::TempDir()) / ("run_files-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(Path("tasks.csv")) << "task_id,task_type\n1,a\n";
    std::ofstream(Path("results.csv")) << "task_id,final_status,error_info\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // The problem, or "" when the files are distinct.
  std::string Check(const std::vector<RunFile>& files) const {
    const CheckResult result = CheckDistinctFiles(files);
    const auto* problem = std::get_if<std::string>(&result);
    return problem != nullptr ? *problem : "";
  }

  static RunFile Read(const char* role, std::string path) {
    return {.role = role, .path = std::move(path), .fd = -1, .written = false};
  }
  static RunFile Written(const char* role, std::string path) {
    return {.role = role, .path = std::move(path), .fd = -1, .written = true};
  }

  std::filesystem::path dir_;
};

TEST_F(RunFilesTest, AnOutputOverTheInputIsRefused) {
  EXPECT_EQ(
      Check({Read("the tasks CSV", Path("tasks.csv")), Written("--output", Path("tasks.csv"))}),
      "the tasks CSV \"" + Path("tasks.csv") + "\" and --output \"" + Path("tasks.csv") +
          "\" are the same file: --output would overwrite the tasks CSV");
}

TEST_F(RunFilesTest, TwoOutputsOnOneFileAreRefusedThoughItIsNotThereYet) {
  const std::string report = Path("new/../report.json");  // another spelling of report.json
  std::filesystem::create_directories(dir_ / "new");
  EXPECT_EQ(Check({Written("--events", Path("report.json")), Written("--report-file", report)}),
            "--events \"" + Path("report.json") + "\" and --report-file \"" + report +
                "\" are the same file: --report-file would overwrite what --events writes");
}

TEST_F(RunFilesTest, TheSameFileByAnotherNameIsTheSameFile) {
  std::filesystem::create_symlink(Path("results.csv"), Path("link.csv"));
  std::filesystem::create_hard_link(Path("results.csv"), Path("hard.csv"));
  EXPECT_NE(
      Check({Written("--output", Path("results.csv")), Written("--metrics", Path("link.csv"))}),
      "");
  EXPECT_NE(
      Check({Written("--output", Path("results.csv")), Written("--metrics", Path("hard.csv"))}),
      "");
}

TEST_F(RunFilesTest, ResumeAndOutputMayBeOneFileAndSpecialFilesMayBeShared) {
  EXPECT_EQ(
      Check({Read("--resume", Path("results.csv")), Written("--output", Path("results.csv"))}), "");
  EXPECT_EQ(Check({Written("--output", "/dev/null"), Written("--events", "/dev/null"),
                   Written("--report-file", "/dev/null")}),
            "");
  EXPECT_EQ(Check({Read("the tasks CSV", Path("tasks.csv")), Read("--resume", Path("tasks.csv"))}),
            "")
      << "two files read";
  EXPECT_EQ(
      Check({Read("the tasks CSV", Path("tasks.csv")), Written("--output", Path("results.csv")),
             Written("--events", Path("events.jsonl"))}),
      "");
}

// stdout is a descriptor: `orchestrator tasks.csv > tasks.csv`.
TEST_F(RunFilesTest, StdoutOnTheInputIsRefused) {
  const int fd = ::open(Path("tasks.csv").c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(Check({Read("the tasks CSV", Path("tasks.csv")),
                   {.role = "stdout", .path = {}, .fd = fd, .written = true}}),
            "the tasks CSV \"" + Path("tasks.csv") +
                "\" and stdout are the same file: stdout would overwrite the tasks CSV");
  ::close(fd);
}

// --events /dev/stderr while a status line is drawn on stderr: the run must know that the
// events go to the status line's terminal (a pty here).
TEST_F(RunFilesTest, AnOutputNamedAfterATerminalIsThatTerminal) {
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  ASSERT_GE(master, 0);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  const std::string name = ::ptsname(master);
  const int terminal = ::open(name.c_str(), O_RDWR | O_NOCTTY);
  ASSERT_GE(terminal, 0);
  const std::string by_fd = "/proc/self/fd/" + std::to_string(terminal);
  EXPECT_TRUE(WritesTo({Written("--events", name)}, terminal));
  EXPECT_TRUE(WritesTo({Written("--events", by_fd)}, terminal)) << "as /dev/stderr is";
  EXPECT_FALSE(WritesTo({Read("--resume", name)}, terminal)) << "read, not written";
  EXPECT_FALSE(WritesTo(
      {Written("--events", "/dev/null"), Written("--output", Path("results.csv"))}, terminal));
  ::close(terminal);
  ::close(master);
}

// A body's file a task's values name (save = "{name}.csv") is checked as its request goes.
TEST_F(RunFilesTest, TheGuardKnowsEveryFileOfTheRunByInodeOrByWhereItWillBe) {
  const int out = ::open(Path("stdout.csv").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(out, 0);
  std::filesystem::create_hard_link(Path("results.csv"), Path("linked.csv"));
  std::filesystem::create_directories(dir_ / "sub");
  RunFile fixed_save = Written("--save", Path("fixed.json"));
  fixed_save.saved_body = true;
  const RunFileGuard guard({Read("the tasks CSV", Path("tasks.csv")),
                            Written("--output", Path("results.csv")),
                            Written("--report-file", Path("report.json")),  // not there yet
                            {.role = "stdout", .path = {}, .fd = out, .written = true},
                            fixed_save});
  EXPECT_EQ(guard.Claimed(Path("tasks.csv")), "the tasks CSV \"" + Path("tasks.csv") + "\"");
  EXPECT_EQ(guard.Claimed(Path("sub/../results.csv")), "--output \"" + Path("results.csv") + "\"");
  EXPECT_EQ(guard.Claimed(Path("linked.csv")), "--output \"" + Path("results.csv") + "\"")
      << "another name of the same file";
  EXPECT_EQ(guard.Claimed(Path("sub/../report.json")),
            "--report-file \"" + Path("report.json") + "\"")
      << "a file the run makes later";
  EXPECT_EQ(guard.Claimed(Path("stdout.csv")), "stdout") << "stdout redirected to a file";
  EXPECT_EQ(guard.Claimed(Path("fixed.json")), std::nullopt)
      << "a body's file is no file of the run's: the last body wins";
  EXPECT_EQ(guard.Claimed(Path("sub/results.csv")), std::nullopt);
  EXPECT_EQ(guard.Claimed(Path("other.csv")), std::nullopt);
  ::close(out);
}

}  // namespace
}  // namespace orchestrator
