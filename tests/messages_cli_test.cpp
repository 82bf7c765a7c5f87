// End to end: what the binary says about input it cannot use, and the numbers it prints
// (issue 25).
#include <gtest/gtest.h>

#include <string>

#include "cli_support.h"
#include "subprocess.h"
#include "test_server.h"

namespace orchestrator::testing {
namespace {

// A tasks CSV given as --resume said `Extra column "task_type" in header of file`.
TEST(MessagesCliTest, ATasksCsvGivenAsResumeIsRefusedAsNotAResultCsv) {
  TestServer server;
  TempDir dir;
  const std::string tasks = dir.Write("t100.csv", "task_id,task_type\n1,a\n2,a\n");
  const ProcessResult result =
      Subprocess({kBinary, "--url", server.Url("/ok"), "--resume", tasks, tasks}, {}).Wait();
  EXPECT_EQ(result.exit_status, 2) << result.err;
  EXPECT_EQ(result.out, "") << "nothing run";
  EXPECT_EQ(result.err, "orchestrator: " + tasks +
                            ":1: not a result CSV: its header is task_id,task_type; a result CSV "
                            "starts task_id,final_status,error_info\n");
}

TEST(MessagesCliTest, AHeaderWithoutTaskIdIsShownWithAGuessWhy) {
  TestServer server;
  TempDir dir;
  const std::string tasks = dir.Write("tasks.csv", "id;type\n1;a\n");
  const ProcessResult result = Subprocess({kBinary, "--url", server.Url("/ok"), tasks}, {}).Wait();
  EXPECT_EQ(result.exit_status, 2) << result.err;
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "orchestrator: " + tasks +
                            ":1: no task_id column in the header \"id;type\" (the separator is a "
                            "comma; is this file separated by ';'?)\n");
}

// The summary line printed 1200 where the report's table printed 1,200.
TEST(MessagesCliTest, TheReportAndTheSummaryPrintCountsInPlainDigits) {
  TestServer server;
  TempDir dir;
  const ProcessResult result = Subprocess({kBinary, "--url", server.Url("/ok"), "--no-progress",
                                           dir.Write("tasks.csv", TasksCsv(1200))},
                                          {})
                                   .Wait();
  EXPECT_EQ(result.exit_status, 0) << result.err;
  EXPECT_NE(result.err.find("orchestrator: 1200 unique tasks: 1200 Completed"), std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find(" 1200      1200      0       0 "), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("1,200"), std::string::npos) << result.err;
}

// A Retry-After far beyond the limit was reported with a number the server never sent
// (`Retry-After 1099511627776s is longer than the 600s we wait` for 10^23). The test server
// sends at most 2^64 - 1; the unit test RetryPolicyTest.AHugeRetryAfter... reads 10^23.
TEST(MessagesCliTest, AHugeRetryAfterSaysWhatTheToolDoes) {
  TestServer server;
  TempDir dir;
  const ProcessResult result =
      Subprocess({kBinary, "--url", server.Url("/retry-after/503/18446744073709551615"), "-q",
                  dir.Write("tasks.csv", "task_id\n1\n")},
                 {})
          .Wait();
  EXPECT_EQ(result.exit_status, 1) << result.err;
  EXPECT_NE(result.out.find("1,Failed,HTTP 503 Service Unavailable (Retry-After longer than 10 "
                            "min; not waiting)"),
            std::string::npos)
      << result.out;
}

}  // namespace
}  // namespace orchestrator::testing
