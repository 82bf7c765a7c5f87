#include "orchestrator/reporter.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace orchestrator {
namespace {

TEST(ReporterTest, CountsCancelledTasksByHowTheyEndedNotByTheirText) {
  const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(null, 0);
  {
    OutputStream out(null, "null", OutputStream::FlushPolicy::kWhenAsked);
    Reporter reporter({&out}, nullptr, nullptr);
    reporter.OnRow({.id = 1, .type = 0}, Outcome::Cancelled());
    // A step's reason that reads like a cancel: the task ran and failed.
    reporter.OnRow({.id = 2, .type = 0}, Outcome::Failed("cancelled"));
    reporter.OnRow({.id = 3, .type = 0}, Outcome::Halted(2));
    reporter.OnRow({.id = 4, .type = 0}, Outcome::Completed());
    EXPECT_EQ(reporter.cancelled(), 1u);
    EXPECT_EQ(reporter.failed(), 3u);
    EXPECT_EQ(reporter.completed(), 1u);
  }
  ::close(null);
}

}  // namespace
}  // namespace orchestrator
