// Helpers for the end-to-end tests: scratch files, result parsing, running the binary.
#ifndef ORCHESTRATOR_TESTS_CLI_SUPPORT_H_
#define ORCHESTRATOR_TESTS_CLI_SUPPORT_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "subprocess.h"

namespace orchestrator::testing {

// Whether these tests are built with a sanitizer: its shadow memory and pace are not the
// program's, so memory measures skip.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

// The binary under test: the one built beside the tests, or ORCHESTRATOR_TEST_BINARY (to
// show that a test fails on another build, an older main say).
inline const std::string kBinary = std::getenv("ORCHESTRATOR_TEST_BINARY") != nullptr
                                       ? std::getenv("ORCHESTRATOR_TEST_BINARY")
                                       : ORCHESTRATOR_BINARY;
inline const std::string kHeader = "task_id,final_status,error_info";

// A scratch directory for input files, removed afterwards.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/orchestrator-test-XXXXXX";
    path_ = ::mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& content) const {
    const std::string path = path_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A file's whole content (empty when it cannot be read).
inline std::string Contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// The result rows by task_id; fails the test on a missing header or a repeated task_id.
inline std::map<std::string, std::string> Rows(const std::string& out) {
  std::map<std::string, std::string> rows;
  const std::vector<std::string> lines = Lines(out);
  EXPECT_FALSE(lines.empty());
  if (lines.empty()) return rows;
  EXPECT_EQ(lines[0], kHeader);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string id = lines[i].substr(0, lines[i].find(','));
    EXPECT_TRUE(rows.emplace(id, lines[i].substr(id.size() + 1)).second) << "twice: " << id;
  }
  return rows;
}

inline std::string TasksCsv(int count, int first = 1) {
  std::string csv = "task_id,task_type\n";
  for (int i = 0; i < count; ++i) csv += std::to_string(first + i) + ",process_data\n";
  return csv;
}

inline ProcessResult RunOrchestrator(std::vector<std::string> args, ProcessOptions options = {}) {
  args.insert(args.begin(), kBinary);
  return RunProcess(args, std::move(options));
}

}  // namespace orchestrator::testing

#endif  // ORCHESTRATOR_TESTS_CLI_SUPPORT_H_
