// End to end: deploy/kubernetes/indexed-job.yaml, read as Kubernetes would read it, and run
// as its pods would run: one process per index with JOB_COMPLETION_INDEX set, then the merge
// Job's command. No cluster here; what the manifest asks of the tool is what is checked.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "cli_support.h"
#include "subprocess.h"
#include "test_server.h"

namespace orchestrator::testing {
namespace {

constexpr const char* kManifest = ORCHESTRATOR_SOURCE_DIR "/deploy/kubernetes/indexed-job.yaml";

// The manifest's Jobs as tests/deploy/indexed_job.py reads them (Debian's python3-yaml).
boost::json::object ReadManifest() {
  Subprocess reader(
      {"/usr/bin/python3", ORCHESTRATOR_SOURCE_DIR "/tests/deploy/indexed_job.py", kManifest}, {});
  const ProcessResult result = reader.Wait();
  EXPECT_EQ(result.exit_status, 0) << result.err;
  return boost::json::parse(result.out).as_object();
}

// The paths inside a pod (/tasks/..., /results/..., at the start or after a space), here
// under `dir`.
std::string OnVolume(const std::string& text, const std::string& dir) {
  std::string moved;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i == 0 || text[i - 1] == ' ') {
      for (const std::string_view mount : {"/tasks/", "/results/"}) {
        if (std::string_view(text).substr(i).starts_with(mount)) moved += dir;
      }
    }
    moved += text[i];
  }
  return moved;
}

TEST(KubernetesTest, TheIndexedJobGivesEachPodItsShardAndTheMergeEveryTaskOnce) {
  const boost::json::object job = ReadManifest();
  // What the tool reads: N in ORCHESTRATOR_SHARDS, equal to completions (one pod per shard)
  // and to parallelism (all at once); the index from JOB_COMPLETION_INDEX, which Kubernetes
  // sets and the manifest must not.
  const boost::json::object& env = job.at("env").as_object();
  ASSERT_TRUE(env.contains("ORCHESTRATOR_SHARDS"));
  const std::string shards_text(env.at("ORCHESTRATOR_SHARDS").as_string());
  const std::int64_t shards = std::stoll(shards_text);
  EXPECT_EQ(job.at("completions").as_int64(), shards);
  EXPECT_EQ(job.at("parallelism").as_int64(), shards);
  EXPECT_FALSE(env.contains("JOB_COMPLETION_INDEX"));
  EXPECT_EQ(job.at("restart_policy").as_string(), "Never");
  std::vector<std::string> command;
  for (const boost::json::value& arg : job.at("command").as_array()) {
    command.emplace_back(arg.as_string());
  }
  ASSERT_GE(command.size(), 2u);
  EXPECT_EQ(command[0], "orchestrator");
  // Each pod writes its own file and resumes from it.
  const auto after = [&](const std::string& flag) -> std::string {
    for (std::size_t i = 0; i + 1 < command.size(); ++i) {
      if (command[i] == flag) return command[i + 1];
    }
    return "";
  };
  EXPECT_EQ(after("--output"), "/results/results-{shard}.csv");
  EXPECT_EQ(after("--resume"), after("--output"));
  EXPECT_NE(after("--metrics").find("{shard}"), std::string::npos);
  // The merge reads those files, from the same volume.
  const std::string merge(job.at("merge_shell").as_string());
  EXPECT_NE(merge.find("orchestrator merge --tasks /tasks/tasks.csv /results/results-*.csv"),
            std::string::npos)
      << merge;
  EXPECT_EQ(job.at("mounts"), job.at("merge_mounts"));

  // Now as the pods would run: each index in turn (the test server in place of the API
  // the tasks name, no delay), then the merge.
  TestServer server;
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/tasks");
  std::filesystem::create_directories(dir.path() + "/results");
  std::string csv = "task_id,task_type\n";
  for (int i = 1; i <= 1000; ++i) csv += std::to_string(i * 1000) + ",process_data\n";
  dir.Write("tasks/tasks.csv", csv);
  for (std::int64_t index = 0; index < shards; ++index) {
    std::vector<std::string> args;
    for (std::size_t i = 1; i < command.size(); ++i)
      args.push_back(OnVolume(command[i], dir.path()));
    args.insert(args.end(), {"--url", server.Url("/task/{task_id}"), "--delay", "0"});
    const ProcessResult pod =
        RunOrchestrator(args, WithEnv(WithEnv({}, "JOB_COMPLETION_INDEX=" + std::to_string(index)),
                                      "ORCHESTRATOR_SHARDS=" + shards_text));
    EXPECT_EQ(pod.exit_status, 0) << pod.err;
    EXPECT_NE(pod.err.find("orchestrator: shard " + std::to_string(index) + "/" + shards_text),
              std::string::npos)
        << pod.err;
  }
  std::string shell = OnVolume(merge, dir.path());
  shell.replace(shell.find("orchestrator merge"), std::string("orchestrator").size(), kBinary);
  const ProcessResult merged = RunProcess({"/bin/sh", "-c", shell});
  EXPECT_EQ(merged.exit_status, 0) << shell << "\n" << merged.err;
  const std::map<std::string, std::string> rows =
      Rows(Contents(dir.path() + "/results/results.csv"));
  EXPECT_EQ(rows.size(), 1000u);
  for (const auto& [id, row] : rows) EXPECT_EQ(row, "Completed,") << id;
  EXPECT_EQ(server.requests(), 1000u);
}

}  // namespace
}  // namespace orchestrator::testing
