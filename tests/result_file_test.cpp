#include "orchestrator/result_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "orchestrator/input_error.h"

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

}  // namespace
}  // namespace orchestrator
