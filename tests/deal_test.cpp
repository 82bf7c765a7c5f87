// Placing tasks on lists: in turn, except that a chain stays on one list.
#include "orchestrator/deal.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace orchestrator {
namespace {

constexpr Dependency kS = Dependency::kSuccess;
constexpr Dependency kF = Dependency::kFinish;

// The whole indexes of each list, by way of a Deal per list, checking that the three ways
// of looking a task up agree.
std::vector<std::vector<TaskIndex>> Lists(const std::shared_ptr<const Placement>& placement,
                                          std::size_t task_count, std::uint32_t lists) {
  std::vector<std::vector<TaskIndex>> result(lists);
  for (TaskIndex whole = 0; whole < task_count; ++whole) {
    const Deal deal{.list = 0, .lists = lists, .placement = placement};
    result[deal.ListOf(whole)].push_back(whole);
    const Deal own{.list = deal.ListOf(whole), .lists = lists, .placement = placement};
    EXPECT_EQ(own.WholeIndex(own.OwnIndex(whole)), whole);
  }
  return result;
}

TEST(PlaceTasksTest, WithoutChainsTasksAreDealtInTurn) {
  // A lattice of 2 x 3 (each task after two of the layer above) and a fan-out (one parent,
  // three children): no parent has only one child that has only that parent.
  const TaskGraph lattice = TaskGraph::FromEdges(
      6, {{0, 3, kS}, {1, 3, kS}, {1, 4, kS}, {2, 4, kS}, {2, 5, kS}, {0, 5, kF}});
  EXPECT_EQ(PlaceTasks(6, lattice, 2), nullptr);
  const TaskGraph fan_out = TaskGraph::FromEdges(4, {{0, 1, kS}, {0, 2, kS}, {0, 3, kS}});
  EXPECT_EQ(PlaceTasks(4, fan_out, 3), nullptr);
  EXPECT_EQ(PlaceTasks(4, TaskGraph(), 3), nullptr);
  const TaskGraph chain = TaskGraph::FromEdges(3, {{0, 1, kS}, {1, 2, kS}});
  EXPECT_EQ(PlaceTasks(3, chain, 1), nullptr) << "one list";
}

TEST(PlaceTasksTest, AChainStaysOnOneListAndTheRestSpreads) {
  // 0 -> 2 -> 4 -> 6 -> 8 (a chain of 5), and 1, 3, 5, 7 on their own.
  const TaskGraph graph = TaskGraph::FromEdges(9, {{0, 2, kS}, {2, 4, kF}, {4, 6, kS}, {6, 8, kS}});
  const auto placement = PlaceTasks(9, graph, 2);
  ASSERT_NE(placement, nullptr);
  const auto lists = Lists(placement, 9, 2);
  // The chain (5) first onto list 0, then the singles onto the lighter list: all of them.
  EXPECT_EQ(lists[0], (std::vector<TaskIndex>{0, 2, 4, 6, 8}));
  EXPECT_EQ(lists[1], (std::vector<TaskIndex>{1, 3, 5, 7}));
  EXPECT_EQ(placement->whole_of[1], lists[1]) << "each list in input order";
}

TEST(PlaceTasksTest, ManyChainsAreBalancedAndNeverSplit) {
  // 30 chains of 10 (task c*10 + k after c*10 + k - 1) over 4 lists.
  std::vector<TaskGraph::Edge> edges;
  for (TaskIndex c = 0; c < 30; ++c) {
    for (TaskIndex k = 1; k < 10; ++k) edges.push_back({c * 10 + k - 1, c * 10 + k, kS});
  }
  const auto placement = PlaceTasks(300, TaskGraph::FromEdges(300, edges), 4);
  ASSERT_NE(placement, nullptr);
  const auto lists = Lists(placement, 300, 4);
  for (const auto& list : lists) {
    EXPECT_GE(list.size(), 70u);
    EXPECT_LE(list.size(), 80u);
  }
  for (const TaskGraph::Edge& edge : edges) {
    EXPECT_EQ(placement->list_of[edge.parent], placement->list_of[edge.child]) << edge.child;
  }
}

TEST(PlaceTasksTest, AChainInAnyInputOrderStaysTogether) {
  // 3 -> 1 -> 0 -> 2: every child before its parent but one; and 4, 5 on their own.
  const TaskGraph graph = TaskGraph::FromEdges(6, {{3, 1, kS}, {1, 0, kS}, {0, 2, kS}});
  const auto placement = PlaceTasks(6, graph, 3);
  ASSERT_NE(placement, nullptr);
  const auto lists = Lists(placement, 6, 3);
  EXPECT_EQ(lists[0], (std::vector<TaskIndex>{0, 1, 2, 3}));
  EXPECT_EQ(lists[1], (std::vector<TaskIndex>{4}));
  EXPECT_EQ(lists[2], (std::vector<TaskIndex>{5}));
}

TEST(PlaceTasksTest, OneLongChainLeavesTheOtherListsEmpty) {
  std::vector<TaskGraph::Edge> edges;
  for (TaskIndex i = 0; i + 1 < 1000; ++i) edges.push_back({i, i + 1, kS});
  const auto placement = PlaceTasks(1000, TaskGraph::FromEdges(1000, edges), 2);
  ASSERT_NE(placement, nullptr);
  EXPECT_EQ(placement->whole_of[0].size(), 1000u);
  EXPECT_TRUE(placement->whole_of[1].empty());
}

TEST(PlaceTasksTest, OnlyTheLinksOfAChainBind) {
  // 0 -> 1 -> 2 is a chain; 2 has two children (3, 4), so they are placed on their own, and
  // 5 has two parents (3, 4), so it is too.
  const TaskGraph graph = TaskGraph::FromEdges(
      6, {{0, 1, kS}, {1, 2, kS}, {2, 3, kS}, {2, 4, kS}, {3, 5, kS}, {4, 5, kS}});
  const auto placement = PlaceTasks(6, graph, 2);
  ASSERT_NE(placement, nullptr);
  const auto lists = Lists(placement, 6, 2);
  EXPECT_EQ(lists[0], (std::vector<TaskIndex>{0, 1, 2}));
  EXPECT_EQ(lists[1], (std::vector<TaskIndex>{3, 4, 5}));
}

}  // namespace
}  // namespace orchestrator
