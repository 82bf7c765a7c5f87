#include "orchestrator/output_stream.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "test_pipe.h"

namespace orchestrator {
namespace {

using Pipe = testing::TestPipe;

TEST(OutputStreamTest, BuffersUntilFlushAndAsksForOneFlushPerBurst) {
  Pipe pipe;
  OutputStream stream(pipe.fds[1], "pipe", OutputStream::FlushPolicy::kWhenAsked);
  int asked = 0;
  stream.set_on_pending([&] { ++asked; });
  stream.Write("a\n");
  stream.Write("b\n");
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(pipe.Drain(), "");
  EXPECT_TRUE(stream.Flush());
  EXPECT_EQ(pipe.Drain(), "a\nb\n");
  stream.Write("c\n");
  EXPECT_EQ(asked, 2);
  EXPECT_EQ(stream.bytes_written(), 4u);
}

TEST(OutputStreamTest, EveryWritePolicyWritesAtOnce) {
  Pipe pipe;
  OutputStream stream(pipe.fds[1], "pipe", OutputStream::FlushPolicy::kEveryWrite);
  stream.Write("row\n");
  EXPECT_EQ(pipe.Drain(), "row\n");
}

TEST(OutputStreamTest, RemembersTheFirstErrorAndWritesNothingAfter) {
  const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(full, 0);
  OutputStream stream(full, "/dev/full", OutputStream::FlushPolicy::kEveryWrite);
  stream.Write("row\n");
  EXPECT_TRUE(stream.failed());
  EXPECT_EQ(stream.error(), ENOSPC);
  EXPECT_EQ(stream.bytes_written(), 0u);
  EXPECT_FALSE(stream.Flush());
  ::close(full);
}

TEST(OutputStreamTest, ReportsAClosedPipe) {
  Pipe pipe;
  ::close(pipe.fds[0]);
  pipe.fds[0] = -1;
  std::signal(SIGPIPE, SIG_IGN);
  OutputStream stream(pipe.fds[1], "stdout", OutputStream::FlushPolicy::kWhenAsked);
  stream.Write("row\n");
  EXPECT_FALSE(stream.Flush());
  EXPECT_EQ(stream.error(), EPIPE);
}

}  // namespace
}  // namespace orchestrator
