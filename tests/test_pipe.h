// A pipe for unit tests of what writes to a descriptor: both ends closed when it goes.
#ifndef ORCHESTRATOR_TESTS_TEST_PIPE_H_
#define ORCHESTRATOR_TESTS_TEST_PIPE_H_

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

namespace orchestrator::testing {

struct TestPipe {
  TestPipe() { EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0); }
  ~TestPipe() {
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  }
  TestPipe(const TestPipe&) = delete;
  TestPipe& operator=(const TestPipe&) = delete;

  /// What the pipe holds now, without waiting.
  std::string Drain() {
    ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
    std::string text;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(fds[0], buffer, sizeof buffer)) > 0) text.append(buffer, n);
    return text;
  }
  /// Reads until `size` bytes came or the writing end closed (blocking).
  std::string Read(std::size_t size) {
    std::string text;
    char buffer[65536];
    while (text.size() < size) {
      const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
      if (n <= 0) break;
      text.append(buffer, static_cast<std::size_t>(n));
    }
    return text;
  }
  /// Closes the reading end, as a reader that left does.
  void CloseReader() {
    ::close(fds[0]);
    fds[0] = -1;
  }
  int fds[2] = {-1, -1};
};

}  // namespace orchestrator::testing

#endif  // ORCHESTRATOR_TESTS_TEST_PIPE_H_
