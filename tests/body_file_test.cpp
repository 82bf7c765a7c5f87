#include "orchestrator/body_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <csignal>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace orchestrator {
namespace {

namespace fs = std::filesystem;

class BodyFileTest : public ::testing::Test {
 protected:
  BodyFileTest() {
    char pattern[] = "/tmp/orchestrator-body-XXXXXX";
    dir_ = ::mkdtemp(pattern);
  }
  ~BodyFileTest() override { fs::remove_all(dir_); }

  std::string At(const std::string& name) const { return dir_ + "/" + name; }
  // The names in the folder of `path`, sorted.
  std::vector<std::string> NamesIn(const std::string& folder) const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(folder)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  static std::string Contents(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::string dir_;
};

TEST_F(BodyFileTest, TheFileExistsOnlyOnceCommitted) {
  const std::string path = At("bodies/7.json");
  std::string error;
  {
    BodyFile file(path);
    ASSERT_TRUE(file.Write("{\"a\":", error)) << error;
    ASSERT_TRUE(file.Write("1}", error)) << error;
    EXPECT_FALSE(fs::exists(path)) << "a partial file under the final name";
    const std::vector<std::string> names = NamesIn(At("bodies"));
    ASSERT_EQ(names.size(), 1u);
    EXPECT_TRUE(names[0].starts_with(".orchestrator-") && names[0].ends_with(".part")) << names[0];
    ASSERT_TRUE(file.Commit(error)) << error;
  }
  EXPECT_EQ(Contents(path), "{\"a\":1}");
  EXPECT_EQ(NamesIn(At("bodies")), std::vector<std::string>{"7.json"}) << "no temporary left";
}

TEST_F(BodyFileTest, OneNotCommittedLeavesNothing) {
  std::string error;
  {
    BodyFile file(At("x.bin"));
    ASSERT_TRUE(file.Write("partial", error)) << error;
  }
  EXPECT_TRUE(NamesIn(dir_).empty());
}

TEST_F(BodyFileTest, ReplacesAnEarlierFileAndKeepsTheModeTheUmaskGives) {
  const std::string path = At("a.txt");
  std::ofstream(path) << "old and longer";
  std::string error;
  BodyFile file(path);
  ASSERT_TRUE(file.Write("new", error)) << error;
  ASSERT_TRUE(file.Commit(error)) << error;
  EXPECT_EQ(Contents(path), "new");
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  const mode_t mask = ::umask(0);
  ::umask(mask);
  EXPECT_EQ(info.st_mode & 0777, 0666 & ~mask);
}

TEST_F(BodyFileTest, AnEmptyBodyIsAnEmptyFileAndARestartDropsWhatWasWritten) {
  std::string error;
  BodyFile empty(At("empty"));
  ASSERT_TRUE(empty.Commit(error)) << error;
  EXPECT_TRUE(fs::exists(At("empty")));
  EXPECT_EQ(fs::file_size(At("empty")), 0u);

  BodyFile redirected(At("redirected"));
  ASSERT_TRUE(redirected.Write("the 302's body", error)) << error;
  ASSERT_TRUE(redirected.Restart(error)) << error;
  ASSERT_TRUE(redirected.Write("final", error)) << error;
  ASSERT_TRUE(redirected.Commit(error)) << error;
  EXPECT_EQ(Contents(At("redirected")), "final");
}

TEST_F(BodyFileTest, ErrorsNameTheFileAndLeaveNothing) {
  std::ofstream(At("file")) << "";
  std::string error;
  BodyFile under_a_file(At("file/x.json"));
  EXPECT_FALSE(under_a_file.Write("x", error));
  EXPECT_EQ(error, At("file/x.json") + ": Not a directory");

  BodyFile folder(At("sub/"));
  EXPECT_FALSE(folder.Commit(error));
  EXPECT_EQ(error, At("sub/") + ": names a folder, not a file");

  fs::create_directory(At("taken"));
  BodyFile onto_a_folder(At("taken"));
  ASSERT_TRUE(onto_a_folder.Write("x", error)) << error;
  EXPECT_FALSE(onto_a_folder.Commit(error));
  EXPECT_EQ(error, At("taken") + ": Is a directory");
  EXPECT_EQ(NamesIn(dir_), (std::vector<std::string>{"file", "taken"})) << "no temporary left";
}

// A file size limit stands in for a full disk: the write fails, the file is not made.
TEST_F(BodyFileTest, AWriteThatFailsLeavesNothing) {
  struct rlimit before {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &before), 0);
  void (*const handler)(int) = ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = before;
  small.rlim_cur = 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string error;
  bool written = true;
  {
    BodyFile file(At("big"));
    written = file.Write(std::string(8192, 'x'), error) && file.Write("more", error);
  }
  ::setrlimit(RLIMIT_FSIZE, &before);
  ::signal(SIGXFSZ, handler);
  EXPECT_FALSE(written);
  EXPECT_EQ(error, At("big") + ": File too large");
  EXPECT_TRUE(NamesIn(dir_).empty());
}

}  // namespace
}  // namespace orchestrator
