// The run plan: how many threads, and what each worker gets.
#include "orchestrator/run_plan.h"

#include <gtest/gtest.h>

#include <numeric>

namespace orchestrator {
namespace {

TaskList Tasks(std::size_t count) {
  TaskList list;
  list.type_names = {"t"};
  for (std::size_t i = 0; i < count; ++i) list.tasks.push_back({.id = 1 + i, .type = 0});
  list.rows = count;
  return list;
}

std::size_t TotalFetches(const std::vector<WorkerPlan>& plans) {
  return std::accumulate(
      plans.begin(), plans.end(), std::size_t{0},
      [](std::size_t sum, const WorkerPlan& plan) { return sum + plan.max_fetches; });
}

TEST(RunPlanTest, ThreadsAreAsAskedOrOnePerCpu) {
  EXPECT_EQ(PlanThreads(3, 16), 3u);
  EXPECT_EQ(PlanThreads(0, 16), 16u);
  EXPECT_EQ(PlanThreads(0, 0), 1u);
}

TEST(RunPlanTest, NoMoreWorkersThanFetchSlotsOrTasksAndTheSlotsAddUp) {
  const std::vector<WorkerPlan> four = PlanWorkers(Tasks(100), 4, 64);
  ASSERT_EQ(four.size(), 4u);
  EXPECT_EQ(TotalFetches(four), 64u);
  for (const WorkerPlan& plan : four) EXPECT_EQ(plan.max_fetches, 16u);
  EXPECT_EQ(PlanWorkers(Tasks(100), 4, 2).size(), 2u) << "a worker without a slot";
  EXPECT_EQ(PlanWorkers(Tasks(3), 4, 64).size(), 3u) << "a worker without a task";
  const std::vector<WorkerPlan> none = PlanWorkers(Tasks(0), 4, 64);
  ASSERT_EQ(none.size(), 1u);
  EXPECT_EQ(none[0].max_fetches, 1u) << "a worker without tasks keeps one slot";
  const std::vector<WorkerPlan> uneven = PlanWorkers(Tasks(100), 3, 64);
  EXPECT_EQ(TotalFetches(uneven), 64u);
}

TEST(RunPlanTest, AWorkerLeftWithoutTasksKeepsOneSlotAndTheOthersShareTheRest) {
  // One chain (each task the only child of the one before) stays on one list.
  TaskList chain = Tasks(4);
  chain.graph = TaskGraph::FromEdges(
      4,
      {{0, 1, Dependency::kSuccess}, {1, 2, Dependency::kSuccess}, {2, 3, Dependency::kSuccess}});
  const std::vector<WorkerPlan> plans = PlanWorkers(std::move(chain), 2, 10);
  ASSERT_EQ(plans.size(), 2u);
  const bool first_busy = !plans[0].tasks.tasks.empty();
  EXPECT_EQ(plans[first_busy ? 0 : 1].max_fetches, 10u);
  EXPECT_EQ(plans[first_busy ? 1 : 0].max_fetches, 1u);
}

TEST(RunPlanTest, TheRulesOfARunAreOneObjectEach) {
  Blueprint rated;
  rated.rate = 10.0;
  const std::vector<std::string> types{"t"};
  RunRules without({}, std::nullopt, {}, types, {&rated});
  EXPECT_EQ(without.halt(), nullptr);
  EXPECT_EQ(without.limits(), nullptr);
  EXPECT_EQ(without.rates().overall(), nullptr);
  EXPECT_NE(without.rates().of_type(0), nullptr);
  RunRules with({.when = HaltPolicy::When::kSoon, .failures = 1, .percent = {}}, 5.0,
                {std::get<RunningLimit>(ParseRunningLimit("t=2"))}, types, {&rated});
  ASSERT_NE(with.halt(), nullptr);
  ASSERT_NE(with.limits(), nullptr);
  EXPECT_NE(with.rates().overall(), nullptr);
}

}  // namespace
}  // namespace orchestrator
