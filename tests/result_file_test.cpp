#include "orchestrator/result_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "orchestrator/input_error.h"
#include "subprocess.h"

namespace orchestrator {
namespace {

namespace fs = std::filesystem;

class ResultFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/result-file-test-XXXXXX";
    dir_ = ::mkdtemp(pattern);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  static std::string Contents(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  static void Write(int fd, const std::string& text) {
    ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }
  std::size_t Entries() const {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir_), {}));
  }

  fs::path dir_;
};

TEST_F(ResultFileTest, TheEarlierFileStaysUntilTheNewOneIsPublished) {
  const std::string path = Path("results.csv");
  std::ofstream(path) << "earlier\n";
  ResultFile file = ResultFile::Create(path);
  Write(file.fd(), "header\n");
  EXPECT_EQ(Contents(path), "earlier\n");
  EXPECT_EQ(Entries(), 2u) << "a temporary beside it";
  ASSERT_EQ(file.Publish(), 0);
  EXPECT_EQ(Contents(path), "header\n");
  Write(file.fd(), "row\n");  // rows after publishing land in the file under its name
  EXPECT_EQ(Contents(path), "header\nrow\n");
  EXPECT_EQ(Entries(), 1u);
}

TEST_F(ResultFileTest, AnUnpublishedFileLeavesNothingBehind) {
  const std::string path = Path("results.csv");
  {
    ResultFile file = ResultFile::Create(path);
    Write(file.fd(), "header\n");
  }
  EXPECT_EQ(Entries(), 0u);
}

TEST_F(ResultFileTest, KeepsTheModeOfTheFileItReplaces) {
  const std::string path = Path("results.csv");
  std::ofstream(path) << "earlier\n";
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  ResultFile file = ResultFile::Create(path);
  ASSERT_EQ(file.Publish(), 0);
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0640u);
}

TEST_F(ResultFileTest, ReplacesWhatASymlinkPointsToNotTheLink) {
  const std::string target = Path("target.csv");
  const std::string link = Path("link.csv");
  std::ofstream(target) << "earlier\n";
  fs::create_symlink(target, link);
  ResultFile file = ResultFile::Create(link);
  Write(file.fd(), "new\n");
  ASSERT_EQ(file.Publish(), 0);
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(Contents(target), "new\n");
}

TEST_F(ResultFileTest, WritesDevicesInPlace) {
  ResultFile file = ResultFile::Create("/dev/null");
  Write(file.fd(), "row\n");
  EXPECT_EQ(file.Publish(), 0);
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
}

TEST_F(ResultFileTest, SaysWhyItCannotCreateTheFile) {
  try {
    ResultFile::Create(Path("no/such/dir/results.csv"));
    FAIL() << "created";
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()), Path("no/such/dir/results.csv") +
                                             ": cannot write results: No such file or directory");
  }
  EXPECT_THROW(ResultFile::Create(dir_.string()), InputError);
}

// What Create() and Publish() do at the system-call level, seen by strace: the tests named
// Strace* run this test binary again, under strace, for ResultFileChild.CreateWriteAndPublish
// alone, which does what main does with --output. strace also injects the failures that a
// real filesystem rarely gives on demand (a chmod refused, a directory sync that fails).
constexpr const char* kChildVariable = "ORCHESTRATOR_RESULT_FILE_CHILD";

TEST(ResultFileChild, CreateWriteAndPublish) {
  const char* path = std::getenv(kChildVariable);
  if (path == nullptr) GTEST_SKIP() << "run by the ResultFileTest.*Strace* tests, under strace";
  try {
    ResultFile file = ResultFile::Create(path);
    const std::string header = "header\n";
    ASSERT_EQ(::write(file.fd(), header.data(), header.size()),
              static_cast<ssize_t>(header.size()));
    std::cout << "child: publish " << file.Publish() << std::endl;
  } catch (const InputError& error) {
    std::cout << "child: input error " << error.what() << std::endl;
  }
}

std::string Strace() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = dir + "/strace";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

struct Traced {
  std::string child;  // the child's "child: ..." line
  std::vector<std::string> trace;
};

// Runs the child on `path` under strace with `strace_args`; the trace goes to `log`.
Traced RunChildUnderStrace(const std::string& path, const std::string& log,
                           std::vector<std::string> strace_args) {
  std::vector<std::string> argv{Strace(), "-f", "-qq", "-s", "4096", "-o", log};
  argv.insert(argv.end(), strace_args.begin(), strace_args.end());
  argv.insert(argv.end(), {"--", fs::read_symlink("/proc/self/exe").string(),
                           "--gtest_filter=ResultFileChild.CreateWriteAndPublish"});
  testing::ProcessOptions options;
  options.env = {std::string(kChildVariable) + "=" + path,
                 // LeakSanitizer stops the world with ptrace, which strace already holds.
                 "ASAN_OPTIONS=detect_leaks=0",
                 // Not over the XML report of the test that runs it.
                 "GTEST_OUTPUT="};
  const testing::ProcessResult result = testing::RunProcess(argv, options);
  EXPECT_EQ(result.exit_status, 0) << result.out << result.err;
  Traced traced;
  std::smatch match;
  if (std::regex_search(result.out, match, std::regex("child: [^\n]*"))) traced.child = match[0];
  std::ifstream in(log);
  for (std::string line; std::getline(in, line);) traced.trace.push_back(line);
  return traced;
}

#define SKIP_WITHOUT_STRACE() \
  if (Strace().empty()) GTEST_SKIP() << "strace is not installed"

TEST_F(ResultFileTest, StracePublishSyncsTheDirectoryAfterTheRename) {
  SKIP_WITHOUT_STRACE();
  const std::string path = Path("results.csv");
  std::ofstream(path) << "earlier\n";
  const Traced traced = RunChildUnderStrace(path, Path("trace"),
                                            {"-e", "trace=openat,fsync,rename,renameat,renameat2"});
  ASSERT_EQ(traced.child, "child: publish 0");
  EXPECT_EQ(Contents(path), "header\n");
  // rename(... "DIR/results.csv") = 0, then openat(... "DIR", ...O_DIRECTORY...) = N, then
  // fsync(N) = 0.
  const std::string quoted_dir = "\"" + dir_.string() + "\"";
  std::size_t i = 0;
  while (i < traced.trace.size() &&
         !(traced.trace[i].find("rename") != std::string::npos &&
           traced.trace[i].find("\"" + path + "\")") != std::string::npos &&
           traced.trace[i].ends_with(" = 0"))) {
    ++i;
  }
  ASSERT_LT(i, traced.trace.size()) << "no rename onto " << path;
  std::string directory_fd;
  for (++i; i < traced.trace.size() && directory_fd.empty(); ++i) {
    std::smatch match;
    if (traced.trace[i].find("openat(") != std::string::npos &&
        traced.trace[i].find(quoted_dir + ",") != std::string::npos &&
        traced.trace[i].find("O_DIRECTORY") != std::string::npos &&
        std::regex_search(traced.trace[i], match, std::regex(" = (\\d+)$"))) {
      directory_fd = match[1];
    }
  }
  ASSERT_FALSE(directory_fd.empty()) << "the directory was not opened after the rename";
  bool synced = false;
  for (; i < traced.trace.size() && !synced; ++i) {
    synced =
        std::regex_search(traced.trace[i], std::regex("fsync\\(" + directory_fd + "\\) += 0$"));
  }
  EXPECT_TRUE(synced) << "the directory was not fsynced after the rename";
}

TEST_F(ResultFileTest, StraceADirectorySyncThatFailsIsReported) {
  SKIP_WITHOUT_STRACE();
  // The first fsync is the file's, the second the directory's.
  const Traced traced =
      RunChildUnderStrace(Path("results.csv"), Path("trace"),
                          {"-e", "trace=fsync", "-e", "inject=fsync:error=EIO:when=2"});
  EXPECT_EQ(traced.child, "child: publish " + std::to_string(EIO));
}

TEST_F(ResultFileTest, StraceAModeThatCannotBeSetIsAnInputError) {
  SKIP_WITHOUT_STRACE();
  // As on a filesystem that refuses chmod: the file would get mkstemp's 0600, not the mode
  // it should have.
  const std::string path = Path("results.csv");
  const Traced traced = RunChildUnderStrace(
      path, dir_.string() + "-trace", {"-e", "trace=fchmod", "-e", "inject=fchmod:error=EPERM"});
  fs::remove(dir_.string() + "-trace");
  EXPECT_EQ(traced.child,
            "child: input error " + path + ": cannot write results: Operation not permitted");
  EXPECT_EQ(Entries(), 0u) << "the temporary file is removed";
}

}  // namespace
}  // namespace orchestrator
