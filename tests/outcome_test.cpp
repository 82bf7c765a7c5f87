#include "orchestrator/outcome.h"

#include <gtest/gtest.h>

namespace orchestrator {
namespace {

TEST(OutcomeTest, EachCauseWritesItsRowAndSaysWhetherTheTaskStarted) {
  struct Row {
    Outcome outcome;
    OutcomeCause cause;
    FinalStatus status;
    const char* error_info;
    bool started;
  };
  const Row rows[] = {
      {Outcome::Completed(), OutcomeCause::kCompleted, FinalStatus::kCompleted, "", true},
      {Outcome::Failed("HTTP 404 Not Found"), OutcomeCause::kFailed, FinalStatus::kFailed,
       "HTTP 404 Not Found", true},
      {Outcome::Cancelled(), OutcomeCause::kCancelled, FinalStatus::kFailed, "cancelled", true},
      {Outcome::Halted(1), OutcomeCause::kHalted, FinalStatus::kFailed,
       "not started (halted after 1 failure)", false},
      {Outcome::Halted(3), OutcomeCause::kHalted, FinalStatus::kFailed,
       "not started (halted after 3 failures)", false},
      {Outcome::DependencyFailed(18446744073709551615u), OutcomeCause::kDependencyFailed,
       FinalStatus::kFailed, "dependency 18446744073709551615 failed", false},
      {Outcome::NotRun(), OutcomeCause::kNotRun, FinalStatus::kFailed,
       "not run (no shard reported it)", false},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(row.outcome.cause, row.cause) << row.error_info;
    EXPECT_EQ(row.outcome.status(), row.status) << row.error_info;
    EXPECT_EQ(row.outcome.error_info, row.error_info);
    EXPECT_EQ(row.outcome.started(), row.started) << row.error_info;
  }
}

}  // namespace
}  // namespace orchestrator
