#include "orchestrator/shard.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "orchestrator/task_graph.h"

namespace orchestrator {
namespace {

using Environment = std::map<std::string, std::string>;

EnvironmentLookup LookupIn(const Environment& environment) {
  return [&environment](const char* name) -> const char* {
    const auto found = environment.find(name);
    return found == environment.end() ? nullptr : found->second.c_str();
  };
}

std::optional<Shard> ShardIn(const Environment& environment,
                             std::optional<std::uint32_t> count = std::nullopt) {
  auto found = ShardFromEnvironment(LookupIn(environment), count);
  if (auto* problem = std::get_if<std::string>(&found)) {
    ADD_FAILURE() << *problem;
    return std::nullopt;
  }
  return std::get<std::optional<Shard>>(found);
}

std::string ProblemIn(const Environment& environment,
                      std::optional<std::uint32_t> count = std::nullopt) {
  auto found = ShardFromEnvironment(LookupIn(environment), count);
  if (auto* problem = std::get_if<std::string>(&found)) return *problem;
  ADD_FAILURE() << "no problem found";
  return "";
}

Environment SlurmArray(int id, int min, int max, int step, int count) {
  return {{"SLURM_ARRAY_TASK_ID", std::to_string(id)},
          {"SLURM_ARRAY_TASK_MIN", std::to_string(min)},
          {"SLURM_ARRAY_TASK_MAX", std::to_string(max)},
          {"SLURM_ARRAY_TASK_STEP", std::to_string(step)},
          {"SLURM_ARRAY_TASK_COUNT", std::to_string(count)}};
}

TaskList TasksWithIds(const std::vector<TaskId>& ids) {
  TaskList list;
  list.type_names = {"t"};
  for (const TaskId id : ids) list.tasks.push_back({id, 0});
  return list;
}

std::vector<TaskId> IdsOf(const TaskList& list) {
  std::vector<TaskId> ids;
  for (const Task& task : list.tasks) ids.push_back(task.id);
  return ids;
}

// The function the README documents, so that other tools can place tasks as we do: these
// are SplitMix64's outputs (its first output for seed 0 is 0xE220A8397B1DCDAF).
TEST(ShardHashTest, IsSplitMix64OfTheTaskId) {
  EXPECT_EQ(ShardHash(0), 0xE220A8397B1DCDAFu);
  EXPECT_EQ(ShardHash(1), 0x910A2DEC89025CC1u);
  EXPECT_EQ(ShardHash(101), 0xD1024A5FAD64D717u);
  EXPECT_EQ(ShardHash(18446744073709551615u), 0xE4D971771B652C20u);
  EXPECT_EQ(ShardOf(101, 8), 7u);
  EXPECT_EQ(ShardOf(1, 8), 1u);
}

// Ids with structure (every 8th, as `id % 8` would put them all on one shard) still spread.
TEST(ShardHashTest, SpreadsIdsWithStructureEvenly) {
  for (const TaskId stride : {1u, 2u, 8u, 1000u}) {
    std::vector<int> per_shard(8);
    for (TaskId i = 0; i < 80'000; ++i) ++per_shard[ShardOf(1'000'000 + i * stride, 8)];
    for (int count : per_shard) {
      EXPECT_NEAR(count, 10'000, 500) << "stride " << stride;
    }
  }
}

TEST(KeepShardTest, TheShardsOfARunPartitionItsTasksInOrder) {
  std::vector<TaskId> ids;
  for (TaskId i = 0; i < 1000; ++i) ids.push_back(i * 7 + 3);
  std::vector<TaskId> seen;
  for (std::uint32_t k = 0; k < 5; ++k) {
    TaskList list = TasksWithIds(ids);
    const std::size_t dropped = KeepShard(list, {k, 5});
    EXPECT_EQ(dropped + list.tasks.size(), ids.size());
    EXPECT_TRUE(std::is_sorted(list.tasks.begin(), list.tasks.end(),
                               [](const Task& a, const Task& b) { return a.id < b.id; }));
    for (const Task& task : list.tasks) {
      EXPECT_EQ(ShardOf(task.id, 5), k);
      seen.push_back(task.id);
    }
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, ids);  // every task once, on exactly one shard
}

TEST(KeepShardTest, OneShardKeepsEverything) {
  TaskList list = TasksWithIds({5, 6, 7});
  EXPECT_EQ(KeepShard(list, {0, 1}), 0u);
  EXPECT_EQ(IdsOf(list), (std::vector<TaskId>{5, 6, 7}));
}

// Tasks 0..99 in groups of 4 joined by dependencies (a chain a->b->c, and d after c): each
// group lands whole on the shard of its smallest id, and the graph follows, renumbered.
TEST(KeepShardTest, AConnectedGroupStaysTogetherOnTheShardOfItsSmallestId) {
  const auto make = [] {
    std::vector<TaskId> ids;
    std::vector<TaskGraph::Edge> edges;
    for (TaskIndex i = 0; i < 100; ++i) ids.push_back(1000 - i);  // the smallest id comes last
    for (TaskIndex g = 0; g < 100; g += 4) {
      edges.push_back({g, g + 1, Dependency::kSuccess});
      edges.push_back({g + 1, g + 2, Dependency::kSuccess});
      edges.push_back({g + 2, g + 3, Dependency::kFinish});
    }
    TaskList list = TasksWithIds(ids);
    list.graph = TaskGraph::FromEdges(ids.size(), std::move(edges));
    return list;
  };
  std::size_t total = 0;
  for (std::uint32_t k = 0; k < 3; ++k) {
    TaskList list = make();
    KeepShard(list, {k, 3});
    total += list.tasks.size();
    ASSERT_EQ(list.tasks.size() % 4, 0u);
    EXPECT_EQ(list.graph.task_count(), list.tasks.size());
    for (TaskIndex g = 0; g < list.tasks.size(); g += 4) {
      const TaskId smallest = list.tasks[g + 3].id;
      EXPECT_EQ(ShardOf(smallest, 3), k);
      EXPECT_EQ(list.graph.ChildCount(g), 1u);
      EXPECT_EQ(list.graph.ParentCount(g + 1), 1u);
      EXPECT_EQ(list.graph.ParentCount(g + 3), 1u);
      EXPECT_EQ(list.graph.ChildCount(g + 3), 0u);
    }
  }
  EXPECT_EQ(total, 100u);
}

TEST(ParseShardTest, TakesKOfNFromZero) {
  EXPECT_EQ(std::get<Shard>(ParseShard("0/4")), (Shard{0, 4}));
  EXPECT_EQ(std::get<Shard>(ParseShard("3/4")), (Shard{3, 4}));
  EXPECT_EQ(std::get<Shard>(ParseShard("0/1")), (Shard{0, 1}));
  EXPECT_EQ(ShardName({3, 8}), "3/8");
}

TEST(ParseShardTest, RefusesWhatIsNotOneShardOfN) {
  for (const char* bad : {"", "4", "4/", "/4", "-1/4", "1/4/5", "a/4", "1 /4", "1.0/4"}) {
    const auto parsed = ParseShard(bad);
    ASSERT_TRUE(std::holds_alternative<std::string>(parsed)) << bad;
    EXPECT_NE(std::get<std::string>(parsed).find("expected K/N"), std::string::npos) << bad;
  }
  EXPECT_EQ(std::get<std::string>(ParseShard("4/4")),
            "4/4: shard 4 is out of range for 4 shards (0 to 3)");
  EXPECT_NE(std::get<std::string>(ParseShard("0/0")).find("0 shards"), std::string::npos);
  EXPECT_NE(std::get<std::string>(ParseShard("0/2000000")).find("expected 1 to 1000000"),
            std::string::npos);
}

TEST(ShardFromEnvironmentTest, NothingSetIsTheWholeRun) {
  EXPECT_EQ(ShardIn({{"PATH", "/bin"}}), std::nullopt);
}

TEST(ShardFromEnvironmentTest, AnIndexedJobGivesTheIndexAndTheCountComesFromUs) {
  EXPECT_EQ(ShardIn({{"JOB_COMPLETION_INDEX", "3"}, {"ORCHESTRATOR_SHARDS", "8"}}), (Shard{3, 8}));
  // --shard-count wins over the variable.
  EXPECT_EQ(ShardIn({{"JOB_COMPLETION_INDEX", "3"}, {"ORCHESTRATOR_SHARDS", "8"}}, 4),
            (Shard{3, 4}));
  EXPECT_NE(ProblemIn({{"JOB_COMPLETION_INDEX", "3"}}).find("pass --shard-count N"),
            std::string::npos);
  EXPECT_EQ(ProblemIn({{"JOB_COMPLETION_INDEX", "8"}, {"ORCHESTRATOR_SHARDS", "8"}}),
            "JOB_COMPLETION_INDEX=8 is out of range for 8 shards (0 to 7)");
  EXPECT_NE(ProblemIn({{"JOB_COMPLETION_INDEX", "x"}, {"ORCHESTRATOR_SHARDS", "8"}})
                .find("JOB_COMPLETION_INDEX=\"x\" is not a number"),
            std::string::npos);
  EXPECT_NE(ProblemIn({{"JOB_COMPLETION_INDEX", "1"}, {"ORCHESTRATOR_SHARDS", "0"}})
                .find("ORCHESTRATOR_SHARDS: 0 shards"),
            std::string::npos);
}

TEST(ShardFromEnvironmentTest, ASlurmArrayThatIsOneRangeGivesItsPlaceInIt) {
  EXPECT_EQ(ShardIn(SlurmArray(0, 0, 3, 1, 4)), (Shard{0, 4}));
  EXPECT_EQ(ShardIn(SlurmArray(3, 0, 3, 1, 4)), (Shard{3, 4}));
  // --array=1-8: the ids count from 1, the shards from 0.
  EXPECT_EQ(ShardIn(SlurmArray(1, 1, 8, 1, 8)), (Shard{0, 8}));
  EXPECT_EQ(ShardIn(SlurmArray(8, 1, 8, 1, 8)), (Shard{7, 8}));
  // --array=1-9:4 is 1, 5, 9.
  EXPECT_EQ(ShardIn(SlurmArray(5, 1, 9, 4, 3)), (Shard{1, 3}));
  EXPECT_EQ(ShardIn(SlurmArray(9, 1, 9, 4, 3)), (Shard{2, 3}));
  EXPECT_EQ(ShardIn(SlurmArray(9, 1, 9, 4, 3), 3), (Shard{2, 3}));
}

TEST(ShardFromEnvironmentTest, ASlurmArrayThatIsNotOneRangeAsksForShard) {
  // --array=1,4,9: three elements, but 1 to 9 is not three steps of anything.
  EXPECT_NE(ProblemIn(SlurmArray(4, 1, 9, 1, 3)).find("not one arithmetic range"),
            std::string::npos);
  EXPECT_NE(ProblemIn(SlurmArray(4, 1, 9, 1, 3)).find("pass --shard K/N"), std::string::npos);
  // An id off the step.
  EXPECT_NE(ProblemIn(SlurmArray(2, 1, 9, 4, 3)).find("not one arithmetic range"),
            std::string::npos);
  EXPECT_NE(ProblemIn(SlurmArray(0, 1, 9, 0, 3)).find("not one arithmetic range"),
            std::string::npos);
  Environment no_count = SlurmArray(1, 0, 3, 1, 4);
  no_count.erase("SLURM_ARRAY_TASK_COUNT");
  EXPECT_EQ(ProblemIn(no_count),
            "SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT: pass --shard K/N");
  EXPECT_EQ(ProblemIn(SlurmArray(1, 0, 3, 1, 4), 5),
            "--shard-count 5 differs from the Slurm job array's 4 elements");
}

TEST(ShardFromEnvironmentTest, AnIndexedJobIsLookedAtBeforeSlurm) {
  Environment both = SlurmArray(1, 0, 3, 1, 4);
  both["JOB_COMPLETION_INDEX"] = "2";
  both["ORCHESTRATOR_SHARDS"] = "3";
  EXPECT_EQ(ShardIn(both), (Shard{2, 3}));
}

TEST(ShardFromEnvironmentTest, ACountWithoutAnIndexIsAProblem) {
  EXPECT_NE(ProblemIn({{"ORCHESTRATOR_SHARDS", "4"}}).find("pass --shard K/N"), std::string::npos);
  EXPECT_NE(ProblemIn({}, 4).find("pass --shard K/N"), std::string::npos);
}

TEST(ExpandShardPathTest, ReplacesEachPlaceholderWithTheIndex) {
  EXPECT_EQ(ExpandShardPath("results-{shard}.csv", Shard{3, 8}), "results-3.csv");
  EXPECT_EQ(ExpandShardPath("{shard}/r-{shard}", Shard{0, 2}), "0/r-0");
  EXPECT_EQ(ExpandShardPath("results.csv", Shard{3, 8}), "results.csv");
  EXPECT_EQ(ExpandShardPath("{shard", Shard{1, 2}), "{shard");
}

TEST(ExpandShardPathTest, NamesShardSaysWhetherThereIsAPlaceholder) {
  EXPECT_TRUE(NamesShard("results-{shard}.csv"));
  EXPECT_TRUE(NamesShard("{shard}/r-{shard}"));
  EXPECT_FALSE(NamesShard("results.csv"));
  EXPECT_FALSE(NamesShard("{shard"));
}

}  // namespace
}  // namespace orchestrator
