// The open-file budget: how many fetches a descriptor limit affords.
#include "orchestrator/fd_budget.h"

#include <gtest/gtest.h>

namespace orchestrator {
namespace {

TEST(FdBudgetTest, KeepsDescriptorsForTheProcessThenFiveAFetch) {
  EXPECT_EQ(MaxFetchesFor(0), 0u);
  EXPECT_EQ(MaxFetchesFor(36), 0u);
  EXPECT_EQ(MaxFetchesFor(37), 1u);
  EXPECT_EQ(MaxFetchesFor(20'000), 3'993u);
  EXPECT_EQ(MaxFetchesFor(20'000, 1, /*saving_bodies=*/true), 3'328u) << "a file more a fetch";
}

TEST(FdBudgetTest, EveryThreadOfASplitRunCostsItsOwnLoopAndMultiHandle) {
  EXPECT_EQ(MaxFetchesFor(37, 1), 1u);
  // Two threads: 8 more than one (measured: 20 vs 28 descriptors), four: 18 more (38).
  EXPECT_EQ(MaxFetchesFor(44, 2), 0u);
  EXPECT_EQ(MaxFetchesFor(45, 2), 1u);
  EXPECT_EQ(MaxFetchesFor(55, 4), 1u);
  EXPECT_EQ(MaxFetchesFor(54, 4), 0u);
}

}  // namespace
}  // namespace orchestrator
