// End to end: deploy/slurm/orchestrator.sbatch on a real one-node Slurm cluster (SlurmCluster):
// the array's shards and the merge job together run every task exactly once, an element
// cancelled mid-run and submitted again with its results file runs only what it had not done,
// and an array job of a user's own finds each element's shard in Slurm's variables.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cli_support.h"
#include "slurm_cluster.h"
#include "subprocess.h"
#include "test_server.h"

namespace orchestrator::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kTasks = 20'000;
constexpr int kShards = 4;  // the file's #SBATCH --array=0-3

// Each fetch attempt's limit. Four shards share two cores with the test server; under
// ThreadSanitizer, with the default 10 s, 3 runs of 4 fetched 9 to 95 of the 20,000 tasks
// twice (attempts timed out, and their retries fetched again what the server had seen);
// with 120 s, 3 of 3 fetched each once. These tests count fetches: no attempt may time out.
constexpr const char* kTimeout = "120s";

const std::string kScript =
    std::string(ORCHESTRATOR_SOURCE_DIR) + "/deploy/slurm/orchestrator.sbatch";

// argv run with `dir` as its working directory: where sbatch's jobs start and write their logs.
std::vector<std::string> InDir(const std::string& dir, std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", dir});
  return argv;
}

// What the jobs wrote on stderr, for a failure message.
std::string JobLogs(const std::string& dir) {
  std::string text;
  for (const std::string& where : {dir, dir + "/out"}) {
    if (!std::filesystem::is_directory(where)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(where)) {
      if (entry.path().extension() != ".log") continue;
      const std::string content = Contents(entry.path());
      text += "--- " + entry.path().filename().string() + "\n" +
              content.substr(content.size() > 2000 ? content.size() - 2000 : 0);
    }
  }
  return text;
}

std::set<std::string> CompletedIds(const std::map<std::string, std::string>& rows) {
  std::set<std::string> ids;
  for (const auto& [id, row] : rows)
    if (row == "Completed,") ids.insert(id);
  return ids;
}

class SlurmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const auto why = SlurmCluster::WhyNotRunnable()) GTEST_SKIP() << *why;
    cluster_.emplace();
    tasks_ = dir_.Write("tasks.csv", TasksCsv(kTasks));
    out_ = dir_.path() + "/out";
  }

  // The environment the script documents, pointed at this cluster and the binary under test.
  ProcessOptions Options(std::vector<std::string> extra = {}) const {
    ProcessOptions options;
    options.env = {cluster_->ConfEntry(), "ORCHESTRATOR=" + kBinary, "TASKS=" + tasks_,
                   "OUT=" + out_, "SHARDS="};
    options.env.insert(options.env.end(), extra.begin(), extra.end());
    options.timeout = 180s;
    return options;
  }

  std::string Diagnostics() const { return JobLogs(dir_.path()) + cluster_->LogTails(); }

  // The merged CSV: every task once, Completed.
  void ExpectEveryTaskCompletedOnce() const {
    const std::map<std::string, std::string> merged = Rows(Contents(out_ + "/results.csv"));
    EXPECT_EQ(merged.size(), static_cast<std::size_t>(kTasks));
    EXPECT_EQ(CompletedIds(merged).size(), static_cast<std::size_t>(kTasks));
    for (int id = 1; id <= kTasks; ++id)
      if (!merged.contains(std::to_string(id))) {
        ADD_FAILURE() << "task " << id << " is not in results.csv";
        break;
      }
  }

  TempDir dir_;
  std::string tasks_;
  std::string out_;
  // Last, so destroyed first: the jobs are cancelled before their directory goes.
  std::optional<SlurmCluster> cluster_;
};

// `submit --wait`: the array of the file's four shards, then the merge job after it.
TEST_F(SlurmTest, TheArrayAndItsMergeRunEveryTaskOnce) {
  TestServer server;
  const auto started = std::chrono::steady_clock::now();
  const ProcessResult run = RunProcess(
      InDir(dir_.path(), {kScript, "submit", "--wait", "--url", server.Url("/task/{task_id}"),
                          "--delay", "0", "--timeout", kTimeout, "-q"}),
      Options());
  ASSERT_EQ(run.exit_status, 0) << run.err << Diagnostics();
  std::cerr << "slurm: 20,000 tasks in 4 shards, then merged, in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()
            << " s\n";
  ExpectEveryTaskCompletedOnce();

  // Each shard ran its own share: the four files split the tasks between them.
  std::size_t in_shards = 0;
  std::set<std::string> seen;
  for (int k = 0; k < kShards; ++k) {
    const auto rows = Rows(Contents(out_ + "/results-" + std::to_string(k) + ".csv"));
    EXPECT_GT(rows.size(), 0u) << "shard " << k << " ran nothing";
    in_shards += rows.size();
    for (const auto& [id, row] : rows)
      EXPECT_TRUE(seen.insert(id).second) << id << " in two shards";
  }
  EXPECT_EQ(in_shards, static_cast<std::size_t>(kTasks));

  EXPECT_EQ(server.requests(), static_cast<std::size_t>(kTasks));
  int wrong = 0;
  for (int id = 1; id <= kTasks && wrong < 5; ++id) {
    const std::size_t fetched = server.RequestsFor("/task/" + std::to_string(id));
    if (fetched != 1) {
      ADD_FAILURE() << "task " << id << " fetched " << fetched << " times";
      ++wrong;
    }
  }
}

// An element cancelled mid-run (scancel), submitted again alone with SHARDS: it carries over
// what it had Completed, runs only the rest, and the merge is complete.
TEST_F(SlurmTest, ACancelledElementResumesWithoutRefetching) {
  TestServer server;
  const std::string target = "/delay/40?";  // 5,000 tasks a shard take about 3 s
  const std::vector<std::string> options = {
      "--url", server.Url(target + "{task_id}"), "--delay", "0", "--timeout", kTimeout, "-q"};
  std::vector<std::string> sbatch = {SlurmCluster::Program("sbatch"), "--array=0-3", "--wait",
                                     "--parsable", kScript};
  sbatch.insert(sbatch.end(), options.begin(), options.end());
  Subprocess array(InDir(dir_.path(), sbatch), Options());
  ASSERT_TRUE(array.WaitForStdoutLines(1, 30s)) << array.err() << Diagnostics();
  const std::string job = array.out().substr(0, array.out().find_first_of(";\n"));

  // Cancel element 2 once it has some rows, long before its 5,000.
  const std::string shard = out_ + "/results-2.csv";
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (Lines(Contents(shard)).size() < 300) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "element 2 did not start:\n"
                                                          << array.err() << Diagnostics();
    array.PumpFor(20ms);
  }
  const ProcessResult cancel = cluster_->Run({"scancel", job + "_2"});
  ASSERT_EQ(cancel.exit_status, 0) << cancel.err;
  // Its status is not checked: sbatch --wait can miss an element that ended early once
  // MinJobAge has dropped its record (it then says 0). The merge below is the verdict.
  array.Wait();
  const std::set<std::string> completed_before = CompletedIds(Rows(Contents(shard)));
  ASSERT_GT(completed_before.size(), 0u) << Diagnostics();
  EXPECT_FALSE(std::filesystem::exists(out_ + "/results.csv"));

  // Element 2 again, as the script says: SHARDS and SBATCH_ARRAY_INX, then the merge.
  std::vector<std::string> again = {kScript, "submit", "--wait"};
  again.insert(again.end(), options.begin(), options.end());
  const ProcessResult resumed =
      RunProcess(InDir(dir_.path(), again), Options({"SHARDS=4", "SBATCH_ARRAY_INX=2"}));
  ASSERT_EQ(resumed.exit_status, 0) << resumed.err << Diagnostics();
  ExpectEveryTaskCompletedOnce();

  const std::map<std::string, std::string> shard_rows = Rows(Contents(shard));
  EXPECT_LT(completed_before.size(), shard_rows.size())
      << "the cancel came after element 2 had finished: nothing was resumed";
  int wrong = 0;
  for (int id = 1; id <= kTasks && wrong < 5; ++id) {
    const std::string task = std::to_string(id);
    const std::size_t fetched = server.RequestsFor(target + task);
    // Fetched twice only when it was in shard 2 and not yet Completed when the cancel came
    // (in flight then, or its row not yet written).
    const bool may_repeat = shard_rows.contains(task) && !completed_before.contains(task);
    if (fetched < 1 || fetched > (may_repeat ? 2u : 1u)) {
      ADD_FAILURE() << "task " << id << " fetched " << fetched << " times"
                    << (completed_before.contains(task) ? " (Completed before the cancel)" : "");
      ++wrong;
    }
  }
}

// A user's own array job that runs orchestrator without --shard: each element finds its
// shard in the variables real Slurm sets. --array=1-7:2 is ids 1, 3, 5, 7: shards 0 to 3.
TEST_F(SlurmTest, AnArrayOfItsOwnFindsEachShardInSlurmsVariables) {
  TestServer server;
  std::filesystem::create_directories(out_);
  const std::string command = "exec \"$ORCHESTRATOR\" \"$TASKS\" --url '" +
                              server.Url("/task/{task_id}") + "' --delay 0 --timeout " + kTimeout +
                              " --output \"$OUT/r-{shard}.csv\" >/dev/null";
  const ProcessResult array =
      RunProcess(InDir(dir_.path(), {SlurmCluster::Program("sbatch"), "--array=1-7:2", "--wait",
                                     "--output=" + out_ + "/element-%a.log", "--wrap", command}),
                 Options());
  ASSERT_EQ(array.exit_status, 0) << array.err << Diagnostics();
  std::set<std::string> seen;
  for (int id = 1, shard = 0; id <= 7; id += 2, ++shard) {
    const std::string log = Contents(out_ + "/element-" + std::to_string(id) + ".log");
    EXPECT_NE(log.find("orchestrator: shard " + std::to_string(shard) + "/4: "), std::string::npos)
        << "element " << id << ": " << log;
    const auto rows = Rows(Contents(out_ + "/r-" + std::to_string(shard) + ".csv"));
    EXPECT_GT(rows.size(), 0u) << "shard " << shard << " ran nothing";
    for (const auto& [task, row] : rows) {
      EXPECT_EQ(row, "Completed,");
      EXPECT_TRUE(seen.insert(task).second) << task << " in two shards";
    }
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kTasks));
  EXPECT_EQ(server.requests(), static_cast<std::size_t>(kTasks));
}

}  // namespace
}  // namespace orchestrator::testing
