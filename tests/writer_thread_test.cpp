#include "orchestrator/writer_thread.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>

#include "orchestrator/output_stream.h"

#include "test_pipe.h"

namespace orchestrator {
namespace {

using Pipe = testing::TestPipe;

// More than a pipe holds (64 KiB), in numbered lines, so that order can be checked.
std::string Lines(int count) {
  std::string text;
  for (int i = 0; i < count; ++i) text += "line " + std::to_string(i) + "\n";
  return text;
}

TEST(WriterThreadTest, AReaderThatDoesNotReadHoldsUpNoPush) {
  Pipe pipe;
  Pipe interrupt;
  const std::string text = Lines(100'000);  // 1.1 MB
  WriterThread writer(pipe.fds[1]);
  const auto started = std::chrono::steady_clock::now();
  for (std::size_t at = 0; at < text.size(); at += 1000) writer.Push(text.substr(at, 1000));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));

  // The wait for the reader ends when the interrupt descriptor is readable...
  ASSERT_EQ(::write(interrupt.fds[1], "x", 1), 1);
  EXPECT_FALSE(writer.WaitUntilWritten(interrupt.fds[0]));
  // ... or when everything is written, in the order it was handed over.
  EXPECT_EQ(pipe.Read(text.size()), text);
  EXPECT_TRUE(writer.WaitUntilWritten(-1));
  EXPECT_EQ(writer.error(), 0);
  EXPECT_EQ(writer.bytes_written(), text.size());
}

TEST(WriterThreadTest, RemembersTheFirstErrorAndDropsWhatComesAfter) {
  std::signal(SIGPIPE, SIG_IGN);
  Pipe pipe;
  ::close(pipe.fds[0]);
  pipe.fds[0] = -1;
  WriterThread writer(pipe.fds[1]);
  writer.Push("row\n");
  EXPECT_TRUE(writer.WaitUntilWritten(-1));
  EXPECT_EQ(writer.error(), EPIPE);
  writer.Push("another\n");
  EXPECT_TRUE(writer.WaitUntilWritten(-1));
  EXPECT_EQ(writer.bytes_written(), 0u);
}

// Given up on (the wait interrupted), the writer's destructor returns at once; its thread
// goes on writing to a descriptor of its own, never to whatever reuses the number.
TEST(WriterThreadTest, LeavesAStuckThreadBehindWithADescriptorOfItsOwn) {
  Pipe pipe;
  const std::string text = Lines(20'000);  // 220 KB
  const auto started = std::chrono::steady_clock::now();
  {
    WriterThread writer(pipe.fds[1]);
    writer.Push(text);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  ::close(pipe.fds[1]);
  pipe.fds[1] = -1;
  // A file opened now may take the number the writer was given: it gets none of the text.
  char name[] = "/tmp/writer-thread-test-XXXXXX";
  const int file = ::mkstemp(name);
  ASSERT_GE(file, 0);
  EXPECT_EQ(pipe.Read(text.size()), text);
  EXPECT_EQ(::lseek(file, 0, SEEK_END), 0);
  ::close(file);
  ::unlink(name);
}

TEST(WriterThreadTest, AnOutputStreamOfItsOwnPaceFlushesWithoutWaitingForTheReader) {
  Pipe pipe;
  char name[] = "/tmp/writer-thread-test-XXXXXX";
  const int file = ::mkstemp(name);
  ASSERT_GE(file, 0);
  EXPECT_EQ(OutputStream::PaceFor(file), OutputStream::Pace::kCaller);
  EXPECT_EQ(OutputStream::PaceFor(pipe.fds[1]), OutputStream::Pace::kOwnThread);
  const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  EXPECT_EQ(OutputStream::PaceFor(full), OutputStream::Pace::kCaller);
  ::close(full);
  ::close(file);
  ::unlink(name);

  const std::string text = Lines(20'000);
  OutputStream stream(pipe.fds[1], "pipe", OutputStream::FlushPolicy::kWhenAsked,
                      OutputStream::Pace::kOwnThread);
  stream.Write(text);
  EXPECT_TRUE(stream.Flush());
  EXPECT_EQ(pipe.Read(text.size()), text);
  EXPECT_TRUE(stream.WaitUntilWritten(-1));
  EXPECT_EQ(stream.bytes_written(), text.size());

  ::close(pipe.fds[0]);
  pipe.fds[0] = -1;
  std::signal(SIGPIPE, SIG_IGN);
  stream.Write("row\n");
  EXPECT_TRUE(stream.WaitUntilWritten(-1));
  EXPECT_TRUE(stream.failed());
  EXPECT_EQ(stream.error(), EPIPE);
}

}  // namespace
}  // namespace orchestrator
