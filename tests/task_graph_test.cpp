#include "orchestrator/task_graph.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <tuple>
#include <vector>

namespace orchestrator {
namespace {

using Edge = TaskGraph::Edge;
constexpr Dependency kSuccess = Dependency::kSuccess;
constexpr Dependency kFinish = Dependency::kFinish;

// Every edge as (parent, child, kind), through ForEachChild.
std::vector<std::tuple<TaskIndex, TaskIndex, Dependency>> EdgesOf(const TaskGraph& graph) {
  std::vector<std::tuple<TaskIndex, TaskIndex, Dependency>> edges;
  for (TaskIndex p = 0; p < graph.task_count(); ++p) {
    graph.ForEachChild(p, [&](const Dependent& d) { edges.emplace_back(p, d.child, d.kind); });
  }
  return edges;
}

// A chain 0 -> 1 -> ... -> n-1, with a back edge from the last to `back_to` if given.
TaskGraph Chain(std::size_t n, std::optional<TaskIndex> back_to = std::nullopt) {
  std::vector<Edge> edges;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    edges.push_back({static_cast<TaskIndex>(i), static_cast<TaskIndex>(i + 1), kSuccess});
  }
  if (back_to) edges.push_back({static_cast<TaskIndex>(n - 1), *back_to, kFinish});
  return TaskGraph::FromEdges(n, std::move(edges));
}

// Whether `cycle` is a cycle of `graph`: each member a parent of the next, the last of the
// first, no member twice.
bool IsCycleOf(const TaskGraph& graph, const std::vector<TaskIndex>& cycle) {
  if (cycle.empty() || std::set<TaskIndex>(cycle.begin(), cycle.end()).size() != cycle.size()) {
    return false;
  }
  for (std::size_t k = 0; k < cycle.size(); ++k) {
    bool found = false;
    graph.ForEachChild(cycle[k], [&](const Dependent& d) {
      found = found || d.child == cycle[(k + 1) % cycle.size()];
    });
    if (!found) return false;
  }
  return true;
}

TEST(TaskGraphTest, DefaultHasNoEdges) {
  const TaskGraph graph;
  EXPECT_TRUE(graph.empty());
  EXPECT_EQ(graph.edge_count(), 0u);
  EXPECT_EQ(graph.ParentCount(0), 0u);
  EXPECT_FALSE(graph.FindCycle());
  EXPECT_EQ(graph.MemoryBytes(), 0u);
  const TaskGraph none = TaskGraph::FromEdges(5, {});
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.task_count(), 5u);
  EXPECT_EQ(none.ParentCount(4), 0u);
  int calls = 0;
  none.ForEachChild(2, [&](const Dependent&) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST(TaskGraphTest, FromEdgesInAnyOrderGivesChildrenAndParentCounts) {
  // 3 <- 0 -> 1, 2 -> 1 (after), 4 alone.
  const TaskGraph graph =
      TaskGraph::FromEdges(5, {{2, 1, kFinish}, {0, 3, kSuccess}, {0, 1, kSuccess}});
  EXPECT_FALSE(graph.empty());
  EXPECT_EQ(graph.edge_count(), 3u);
  using E = std::tuple<TaskIndex, TaskIndex, Dependency>;
  EXPECT_EQ(EdgesOf(graph), (std::vector<E>{{0, 1, kSuccess}, {0, 3, kSuccess}, {2, 1, kFinish}}));
  EXPECT_EQ(graph.ParentCount(0), 0u);
  EXPECT_EQ(graph.ParentCount(1), 2u);
  EXPECT_EQ(graph.ParentCount(3), 1u);
  EXPECT_EQ(graph.ParentCount(4), 0u);
  EXPECT_FALSE(graph.FindCycle());
}

TEST(TaskGraphTest, TheSameEdgeTwiceIsOneAndSuccessWins) {
  const TaskGraph graph = TaskGraph::FromEdges(
      3, {{0, 1, kFinish}, {0, 1, kSuccess}, {0, 1, kFinish}, {2, 1, kFinish}, {2, 1, kFinish}});
  using E = std::tuple<TaskIndex, TaskIndex, Dependency>;
  EXPECT_EQ(EdgesOf(graph), (std::vector<E>{{0, 1, kSuccess}, {2, 1, kFinish}}));
  EXPECT_EQ(graph.edge_count(), 2u);
  EXPECT_EQ(graph.ParentCount(1), 2u);
}

TEST(TaskGraphTest, KindsSurviveAcrossManyEdges) {
  // More than 64 edges: the kind bits span several words.
  std::vector<Edge> edges;
  for (TaskIndex c = 1; c < 200; ++c) edges.push_back({0, c, c % 3 == 0 ? kFinish : kSuccess});
  const TaskGraph graph = TaskGraph::FromEdges(200, edges);
  graph.ForEachChild(0, [&](const Dependent& d) {
    EXPECT_EQ(d.kind, d.child % 3 == 0 ? kFinish : kSuccess) << d.child;
  });
  EXPECT_EQ(graph.edge_count(), 199u);
}

TEST(TaskGraphTest, RefusesAnEdgeOutOfRange) {
  EXPECT_THROW(TaskGraph::FromEdges(2, {{0, 2, kSuccess}}), std::out_of_range);
}

TEST(TaskGraphTest, FindsACycleOfOneAndOfTwo) {
  const auto self = TaskGraph::FromEdges(3, {{0, 1, kSuccess}, {1, 1, kSuccess}}).FindCycle();
  ASSERT_TRUE(self);
  EXPECT_EQ(*self, (std::vector<TaskIndex>{1}));
  const auto two =
      TaskGraph::FromEdges(4, {{0, 1, kSuccess}, {3, 2, kSuccess}, {2, 3, kFinish}}).FindCycle();
  ASSERT_TRUE(two);
  EXPECT_EQ(*two, (std::vector<TaskIndex>{2, 3})) << "starts at its lowest member";
  // Entered through 5 from 0, the cycle still starts at 3.
  const auto entered =
      TaskGraph::FromEdges(6, {{0, 5, kSuccess}, {5, 3, kSuccess}, {3, 5, kSuccess}}).FindCycle();
  ASSERT_TRUE(entered);
  EXPECT_EQ(*entered, (std::vector<TaskIndex>{3, 5}));
}

TEST(TaskGraphTest, FindsACycleOfAThousandInEdgeOrder) {
  // Tasks 0..9 lead into the cycle 10 -> 11 -> ... -> 1009 -> 10.
  const TaskGraph graph = Chain(1010, 10);
  const auto cycle = graph.FindCycle();
  ASSERT_TRUE(cycle);
  ASSERT_EQ(cycle->size(), 1000u);
  EXPECT_EQ(cycle->front(), 10u);
  EXPECT_EQ(cycle->back(), 1009u);
  EXPECT_TRUE(IsCycleOf(graph, *cycle));
}

TEST(TaskGraphTest, AChainOfAMillionHasNoCycleAndDoesNotRecurse) {
  EXPECT_FALSE(Chain(1'000'000).FindCycle());
  // And the same chain closed: the whole of it is the cycle.
  const auto cycle = Chain(1'000'000, 0).FindCycle();
  ASSERT_TRUE(cycle);
  EXPECT_EQ(cycle->size(), 1'000'000u);
}

TEST(TaskGraphTest, ADiamondIsNoCycle) {
  // Reached twice, through two paths: done, not on the path.
  EXPECT_FALSE(TaskGraph::FromEdges(
                   4, {{0, 1, kSuccess}, {0, 2, kSuccess}, {1, 3, kSuccess}, {2, 3, kFinish}})
                   .FindCycle());
}

TEST(TaskGraphTest, CostsAbout4BytesAnEdgeAnd8ATask) {
  const TaskGraph graph = Chain(1'000'000);
  // 4 (offset) + 4 (parent count) per task, 4 and a bit per edge.
  EXPECT_LE(graph.MemoryBytes(), 8u * 1'000'001 + 4.2 * 999'999);
}

TEST(TaskGraphTest, KeepRenumbersAndDropsTheEdgesOfDroppedTasks) {
  // 0 -> 2 (success), 1 -> 2 (after), 2 -> 3 (success), 3 -> 4 (after).
  const TaskGraph graph = TaskGraph::FromEdges(
      5, {{0, 2, kSuccess}, {1, 2, kFinish}, {2, 3, kSuccess}, {3, 4, kFinish}});
  // Drop 0 (its child loses a parent) and 3 (both its edges go).
  const TaskGraph kept = graph.Keep({false, true, true, false, true});
  EXPECT_EQ(kept.task_count(), 3u);
  using E = std::tuple<TaskIndex, TaskIndex, Dependency>;
  EXPECT_EQ(EdgesOf(kept), (std::vector<E>{{0, 1, kFinish}}));
  EXPECT_EQ(kept.ParentCount(1), 1u);
  EXPECT_EQ(kept.ParentCount(2), 0u);
  // Keeping everything changes nothing; keeping no edge leaves an empty graph.
  EXPECT_EQ(EdgesOf(graph.Keep(std::vector<bool>(5, true))), EdgesOf(graph));
  const TaskGraph none = graph.Keep({true, true, false, false, true});
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.task_count(), 3u);
}

// Every edge as (parent, child, rank), through ForEachChild.
std::vector<std::tuple<TaskIndex, TaskIndex, std::uint32_t>> RanksOf(const TaskGraph& graph) {
  std::vector<std::tuple<TaskIndex, TaskIndex, std::uint32_t>> edges;
  for (TaskIndex p = 0; p < graph.task_count(); ++p) {
    graph.ForEachChild(p, [&](const Dependent& d) { edges.emplace_back(p, d.child, d.rank); });
  }
  return edges;
}

TEST(TaskGraphTest, KeepsEachEdgesRankWhenAskedAndThroughKeep) {
  // Task 4 lists its parents 3, 1, 2 (and 1 again, later: its first place stands).
  const std::vector<Edge> edges{{3, 4, kSuccess, 0},
                                {1, 4, kSuccess, 1},
                                {2, 4, kFinish, 2},
                                {1, 4, kSuccess, 3},
                                {0, 1, kSuccess, 0}};
  using R = std::tuple<TaskIndex, TaskIndex, std::uint32_t>;
  const TaskGraph graph = TaskGraph::FromEdges(5, edges, TaskGraph::Order::kKept);
  EXPECT_EQ(RanksOf(graph), (std::vector<R>{{0, 1, 0}, {1, 4, 1}, {2, 4, 2}, {3, 4, 0}}));
  EXPECT_EQ(graph.edge_count(), 4u);
  EXPECT_EQ(graph.ParentCount(4), 3u);
  EXPECT_EQ(RanksOf(graph.Keep({false, true, true, true, true})),
            (std::vector<R>{{0, 3, 1}, {1, 3, 2}, {2, 3, 0}}));
  // Without Order::kKept, every rank is 0 and the graph costs no more.
  const TaskGraph plain = TaskGraph::FromEdges(5, edges);
  EXPECT_EQ(RanksOf(plain), (std::vector<R>{{0, 1, 0}, {1, 4, 0}, {2, 4, 0}, {3, 4, 0}}));
  EXPECT_LT(plain.MemoryBytes(), graph.MemoryBytes());
}

TEST(TaskGraphTest, ComponentsAreWeakAndDenseInOrderOfFirstTask) {
  // {0, 3, 5} through 3 -> 0 and 3 -> 5; {1, 4} through 4 -> 1; {2} alone; {6, 7}.
  const TaskGraph graph = TaskGraph::FromEdges(
      8, {{3, 0, kSuccess}, {3, 5, kFinish}, {4, 1, kSuccess}, {7, 6, kSuccess}});
  std::uint32_t count = 0;
  EXPECT_EQ(graph.Components(&count), (std::vector<std::uint32_t>{0, 1, 2, 0, 1, 0, 3, 3}));
  EXPECT_EQ(count, 4u);
  // A long chain is one component.
  count = 0;
  const std::vector<std::uint32_t> chain = Chain(100'000).Components(&count);
  EXPECT_EQ(count, 1u);
  EXPECT_TRUE(std::all_of(chain.begin(), chain.end(), [](std::uint32_t c) { return c == 0; }));
  // Without edges, each task its own.
  EXPECT_EQ(TaskGraph::FromEdges(3, {}).Components(&count), (std::vector<std::uint32_t>{0, 1, 2}));
  EXPECT_EQ(count, 3u);
}

}  // namespace
}  // namespace orchestrator
