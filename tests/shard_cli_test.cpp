// End to end: one run split over several processes with --shard K/N (issue #13).
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "cli_support.h"
#include "subprocess.h"
#include "test_server.h"

namespace orchestrator::testing {
namespace {

// N shards of the same input, each in its own process, as a job array runs them: every
// unique task is run by exactly one of them, once, and each writes its own {shard} file.
TEST(ShardTest, TheShardsOfARunRunEveryTaskExactlyOnce) {
  TestServer server;
  TempDir dir;
  // 3,000 unique ids with structure (all multiples of 4, as `id % 4` would put on one shard),
  // and every tenth row repeated.
  std::string csv = "task_id,task_type\n";
  for (int i = 1; i <= 3000; ++i) {
    csv += std::to_string(i * 4) + ",process_data\n";
    if (i % 10 == 0) csv += std::to_string(i * 4) + ",process_data\n";
  }
  const std::string tasks = dir.Write("tasks.csv", csv);
  std::map<std::string, std::string> all;
  for (int k = 0; k < 4; ++k) {
    const ProcessResult shard = RunOrchestrator(
        {"--url", server.Url("/task/{task_id}"), "--delay", "0", "--shard",
         std::to_string(k) + "/4", "--output", dir.path() + "/results-{shard}.csv", tasks});
    EXPECT_EQ(shard.exit_status, 0) << shard.err;
    const std::map<std::string, std::string> rows = Rows(shard.out);
    EXPECT_EQ(Rows(Contents(dir.path() + "/results-" + std::to_string(k) + ".csv")), rows);
    // Each shard a fair share: about 750.
    EXPECT_GT(rows.size(), 600u);
    EXPECT_LT(rows.size(), 900u);
    EXPECT_NE(shard.err.find("orchestrator: shard " + std::to_string(k) +
                             "/4: " + std::to_string(rows.size()) + " unique tasks"),
              std::string::npos)
        << shard.err;
    for (const auto& [id, row] : rows) {
      EXPECT_EQ(row, "Completed,");
      EXPECT_TRUE(all.emplace(id, row).second) << "task " << id << " on two shards";
    }
  }
  EXPECT_EQ(all.size(), 3000u);
  EXPECT_EQ(server.requests(), 3000u);
  for (int i = 1; i <= 3000; i += 97) {
    EXPECT_EQ(server.RequestsFor("/task/" + std::to_string(i * 4)), 1u) << i * 4;
  }
}

// A Slurm job array's element finds its shard in the environment: --array=1-7:2 is ids 1,
// 3, 5, 7; the flag still wins.
TEST(ShardTest, ASlurmArrayElementFindsItsShardInTheEnvironment) {
  TestServer server;
  TempDir dir;
  const std::string tasks = dir.Write("tasks.csv", TasksCsv(400));
  std::set<std::string> seen;
  for (int id = 1; id <= 7; id += 2) {
    ProcessOptions options;
    for (const std::string& entry :
         {"SLURM_ARRAY_TASK_ID=" + std::to_string(id), std::string("SLURM_ARRAY_TASK_MIN=1"),
          std::string("SLURM_ARRAY_TASK_MAX=7"), std::string("SLURM_ARRAY_TASK_STEP=2"),
          std::string("SLURM_ARRAY_TASK_COUNT=4")}) {
      options = WithEnv(std::move(options), entry);
    }
    const ProcessResult element = RunOrchestrator(
        {"--url", server.Url("/ok"), "--delay", "0", "-o", dir.path() + "/r-{shard}.csv", tasks},
        options);
    EXPECT_EQ(element.exit_status, 0) << element.err;
    const std::string shard = std::to_string((id - 1) / 2);
    EXPECT_NE(element.err.find("orchestrator: shard " + shard + "/4: "), std::string::npos)
        << element.err;
    for (const auto& [task, row] : Rows(Contents(dir.path() + "/r-" + shard + ".csv"))) {
      EXPECT_TRUE(seen.insert(task).second) << task;
    }
  }
  EXPECT_EQ(seen.size(), 400u);
  EXPECT_EQ(server.requests(), 400u);

  // --array=1,4,9 is not one range: the element is told to say which shard it is.
  ProcessOptions irregular;
  for (const char* entry :
       {"SLURM_ARRAY_TASK_ID=4", "SLURM_ARRAY_TASK_MIN=1", "SLURM_ARRAY_TASK_MAX=9",
        "SLURM_ARRAY_TASK_STEP=1", "SLURM_ARRAY_TASK_COUNT=3"}) {
    irregular = WithEnv(std::move(irregular), entry);
  }
  const ProcessResult refused =
      RunOrchestrator({"--url", server.Url("/ok"), "--delay", "0", tasks}, irregular);
  EXPECT_EQ(refused.exit_status, 2);
  EXPECT_NE(refused.err.find("orchestrator: this Slurm job array is not one arithmetic range"),
            std::string::npos)
      << refused.err;
  EXPECT_EQ(refused.out, "");
  const ProcessResult overridden = RunOrchestrator(
      {"--url", server.Url("/ok"), "--delay", "0", "--shard", "0/1", "-q", tasks}, irregular);
  EXPECT_EQ(overridden.exit_status, 0) << overridden.err;
  EXPECT_EQ(Rows(overridden.out).size(), 400u);
}

// A Kubernetes Indexed Job: the index from JOB_COMPLETION_INDEX, the count from
// ORCHESTRATOR_SHARDS; the metrics file of each shard carries its label.
TEST(ShardTest, AnIndexedJobPodFindsItsShardAndLabelsItsMetrics) {
  TestServer server;
  TempDir dir;
  const std::string tasks = dir.Write("tasks.csv", TasksCsv(200));
  std::size_t rows = 0;
  for (int index = 0; index < 3; ++index) {
    const ProcessResult pod =
        RunOrchestrator({"--url", server.Url("/ok"), "--delay", "0", "--metrics",
                         dir.path() + "/m-{shard}.prom", "-q", tasks},
                        WithEnv(WithEnv({}, "JOB_COMPLETION_INDEX=" + std::to_string(index)),
                                "ORCHESTRATOR_SHARDS=3"));
    EXPECT_EQ(pod.exit_status, 0) << pod.err;
    const std::size_t own = Rows(pod.out).size();
    rows += own;
    const std::string metrics = Contents(dir.path() + "/m-" + std::to_string(index) + ".prom");
    EXPECT_NE(metrics.find("orchestrator_tasks_total{final_status=\"Completed\",shard=\"" +
                           std::to_string(index) + "\",task_type=\"process_data\"} " +
                           std::to_string(own) + "\n"),
              std::string::npos)
        << metrics;
  }
  EXPECT_EQ(rows, 200u);
  const ProcessResult no_count =
      RunOrchestrator({"--url", server.Url("/ok"), tasks}, WithEnv({}, "JOB_COMPLETION_INDEX=1"));
  EXPECT_EQ(no_count.exit_status, 2);
  EXPECT_NE(no_count.err.find("pass --shard-count N or set ORCHESTRATOR_SHARDS"), std::string::npos)
      << no_count.err;
}

// With dependencies, a connected group runs whole on one shard: a child never waits for a
// parent that another process runs. Chains of 5 and diamonds, over 3 shards.
TEST(ShardTest, ADependencyGroupRunsWholeOnOneShard) {
  TestServer server;
  TempDir dir;
  std::string csv = "task_id,task_type,depends_on\n";
  for (int group = 0; group < 60; ++group) {
    const int base = 1000 + group * 10;
    csv += std::to_string(base) + ",a,\n";
    for (int link = 1; link < 5; ++link) {
      csv += std::to_string(base + link) + ",a," + std::to_string(base + link - 1) + "\n";
    }
    // A diamond hanging off the chain's end: two children, then one with both as parents.
    csv += std::to_string(base + 5) + ",a," + std::to_string(base + 4) + "\n";
    csv += std::to_string(base + 6) + ",a," + std::to_string(base + 4) + "\n";
    csv += std::to_string(base + 7) + ",a,\"" + std::to_string(base + 5) + " " +
           std::to_string(base + 6) + "\"\n";
  }
  const std::string tasks = dir.Write("tasks.csv", csv);
  std::map<std::string, int> shard_of;
  for (int k = 0; k < 3; ++k) {
    const ProcessResult shard =
        RunOrchestrator({"--url", server.Url("/task/{task_id}"), "--delay", "0", "--shard",
                         std::to_string(k) + "/3", "--threads", "2", tasks});
    EXPECT_EQ(shard.exit_status, 0) << shard.err;
    for (const auto& [id, row] : Rows(shard.out)) {
      EXPECT_EQ(row, "Completed,") << id;
      shard_of[id] = k;
    }
  }
  ASSERT_EQ(shard_of.size(), 480u);
  for (int group = 0; group < 60; ++group) {
    const int base = 1000 + group * 10;
    for (int member = 1; member < 8; ++member) {
      EXPECT_EQ(shard_of[std::to_string(base + member)], shard_of[std::to_string(base)])
          << "task " << base + member << " left its group";
    }
  }
  EXPECT_EQ(server.requests(), 480u);
}

// A shard cut short resumes from its own file: --output and --resume both name {shard}.
TEST(ShardTest, AShardResumesFromItsOwnFile) {
  TestServer server;
  TempDir dir;
  const std::string tasks = dir.Write("tasks.csv", TasksCsv(300));
  const std::vector<std::string> args = {"--url",
                                         server.Url("/task/{task_id}"),
                                         "--delay",
                                         "0",
                                         "--shard",
                                         "1/2",
                                         "-q",
                                         "--output",
                                         dir.path() + "/r-{shard}.csv",
                                         "--resume",
                                         dir.path() + "/r-{shard}.csv",
                                         tasks};
  const ProcessResult first = RunOrchestrator(args);
  EXPECT_EQ(first.exit_status, 0) << first.err;
  const std::map<std::string, std::string> done = Rows(Contents(dir.path() + "/r-1.csv"));
  ASSERT_GT(done.size(), 100u);
  const std::size_t fetched = server.requests();
  EXPECT_EQ(fetched, done.size());
  const ProcessResult again = RunOrchestrator(args);
  EXPECT_EQ(again.exit_status, 0) << again.err;
  EXPECT_EQ(server.requests(), fetched) << "nothing fetched twice";
  EXPECT_EQ(Rows(Contents(dir.path() + "/r-1.csv")), done);
}

}  // namespace
}  // namespace orchestrator::testing
