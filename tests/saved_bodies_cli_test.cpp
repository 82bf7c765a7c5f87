// End to end: saved bodies (--save, a fetch's `save = "..."`), each file whole or absent.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "cli_support.h"
#include "subprocess.h"
#include "test_server.h"

namespace orchestrator::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// What /item/ID answers (tests/test_server.cpp, ItemResponse).
std::string ItemBody(int id) {
  const std::string n = std::to_string(id);
  return "{\"id\":" + n + ",\"sku\":\"sku-" + n + "\",\"price\":" + n +
         ".5,\"tags\":[\"a\",\"b\"],\"data\":{\"owner\":null,\"n\":" + std::to_string(id % 7) +
         "}}\n";
}

// Every file under `folder`, by its path relative to it, sorted.
std::vector<std::string> FilesUnder(const std::string& folder) {
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    if (entry.is_regular_file()) files.push_back(fs::relative(entry.path(), folder).string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Waits (up to 10 s) until `folder` holds a body of `size` bytes under its name (NAME.bin)
// and a file begun but not whole, whatever its name: a file that is not whole would be its
// name's only if it were wrong.
bool WaitUntilABodyIsWholeAndAnotherOnItsWay(const std::string& folder, std::uintmax_t size) {
  for (int i = 0; i < 2000; ++i) {
    std::this_thread::sleep_for(milliseconds(5));
    bool partial = false, whole = false;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(folder, error)) {
      const std::uintmax_t bytes = entry.file_size(error);
      if (error) continue;
      if (bytes > 0 && bytes < size) partial = true;
      if (entry.path().extension() == ".bin" && bytes == size) whole = true;
    }
    if (partial && whole) return true;
  }
  return false;
}

ProcessOptions In(const std::string& folder, std::string stdin_text) {
  ProcessOptions options = Stdin(std::move(stdin_text));
  options.cwd = folder;
  return options;
}

class SavedBodiesAtEveryThreadCountTest : public ::testing::TestWithParam<int> {};

TEST_P(SavedBodiesAtEveryThreadCountTest, EachTasksBodyIsItsFileInFoldersMadeForIt) {
  TestServer server;
  TempDir dir;
  constexpr int kTasks = 40;
  const ProcessResult result = RunOrchestrator(
      {"--url", server.Url("/item/{task_id}"), "--save", "out/bodies/{task_type}/{task_id}.json",
       "--delay", "0", "-q", "--threads", std::to_string(GetParam())},
      In(dir.path(), TasksCsv(kTasks)));
  ASSERT_EQ(result.exit_status, 0) << result.err;
  EXPECT_EQ(Rows(result.out).size(), static_cast<std::size_t>(kTasks));
  std::vector<std::string> expected;
  for (int id = 1; id <= kTasks; ++id) {
    const std::string name = "out/bodies/process_data/" + std::to_string(id) + ".json";
    expected.push_back(name);
    EXPECT_EQ(Contents(dir.path() + "/" + name), ItemBody(id)) << name;
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(FilesUnder(dir.path()), expected) << "nothing else, no temporary file";
}

INSTANTIATE_TEST_SUITE_P(Threads, SavedBodiesAtEveryThreadCountTest, ::testing::Values(1, 2, 4));

// A value may name a body's file after a file of the run: that task fails, unsent, and the
// file stays what it was.
TEST(SavedBodiesCliTest, AValueNeverMakesABodyReplaceAFileOfTheRun) {
  TestServer server;
  TempDir dir;
  const std::string tasks =
      "task_id,task_type\n1,tasks.csv\n2,out.csv\n3,events.jsonl\n4,fine.json\n";
  {
    std::ofstream file(dir.path() + "/tasks.csv");
    file << tasks;
  }
  // The dry run says so first, though neither output is there yet.
  const ProcessResult dry =
      RunOrchestrator({"-n", "--url", server.Url("/item/{task_id}"), "--save", "{task_type}",
                       "--output", "out.csv", "--events", "events.jsonl", "-q", "tasks.csv"},
                      In(dir.path(), ""));
  ASSERT_EQ(dry.exit_status, 0) << dry.err;
  for (const std::string refused :
       {"the tasks CSV \"tasks.csv\"", "--output \"out.csv\"", "--events \"events.jsonl\""}) {
    const std::string path = refused.substr(refused.find('"'));
    EXPECT_NE(dry.out.find("the run would fail the task here: could not save the body: " + path +
                           " would replace " + refused + "; the request was not sent\n"),
              std::string::npos)
        << refused << "\n"
        << dry.out;
  }
  EXPECT_NE(dry.out.find(": fetch, the body saved to fine.json\n"), std::string::npos) << dry.out;
  EXPECT_EQ(FilesUnder(dir.path()), std::vector<std::string>{"tasks.csv"});
  const ProcessResult result =
      RunOrchestrator({"--url", server.Url("/item/{task_id}"), "--save", "{task_type}", "--output",
                       "out.csv", "--events", "events.jsonl", "--delay", "0", "-q", "tasks.csv"},
                      In(dir.path(), ""));
  EXPECT_EQ(result.exit_status, 1) << result.err;
  const auto rows = Rows(Contents(dir.path() + "/out.csv"));
  ASSERT_EQ(rows.size(), 4u) << Contents(dir.path() + "/out.csv");
  EXPECT_EQ(rows.at("1"),
            "Failed,\"could not save the body: \"\"tasks.csv\"\" would replace the tasks CSV "
            "\"\"tasks.csv\"\"; the request was not sent\"");
  EXPECT_EQ(rows.at("2"),
            "Failed,\"could not save the body: \"\"out.csv\"\" would replace --output "
            "\"\"out.csv\"\"; the request was not sent\"");
  EXPECT_EQ(rows.at("3"),
            "Failed,\"could not save the body: \"\"events.jsonl\"\" would replace --events "
            "\"\"events.jsonl\"\"; the request was not sent\"");
  EXPECT_EQ(rows.at("4"), "Completed,");
  EXPECT_EQ(Contents(dir.path() + "/tasks.csv"), tasks);
  EXPECT_EQ(Contents(dir.path() + "/fine.json"), ItemBody(4));
  EXPECT_NE(Contents(dir.path() + "/events.jsonl").find("\"task_id\":4"), std::string::npos);
  EXPECT_EQ(
      server.RequestsFor("/item/1") + server.RequestsFor("/item/2") + server.RequestsFor("/item/3"),
      0u);
  EXPECT_EQ(FilesUnder(dir.path()),
            (std::vector<std::string>{"events.jsonl", "fine.json", "out.csv", "tasks.csv"}));
}

TEST(SavedBodiesCliTest, AValueIsOneFileNameAndNeverChoosesTheFolder) {
  TestServer server;
  TempDir dir;
  const ProcessResult result = RunOrchestrator(
      {"--url", server.Url("/item/{task_id}"), "--save", "b/{task_type}-{task_id}", "--delay", "0",
       "-q"},
      In(dir.path(), "task_id,task_type\n1,../../escaped\n2,..\n3,/etc/x\n4,a\tb\n"));
  ASSERT_EQ(result.exit_status, 0) << result.err;
  EXPECT_EQ(
      FilesUnder(dir.path()),
      (std::vector<std::string>{"b/%2Fetc%2Fx-3", "b/..%2F..%2Fescaped-1", "b/..-2", "b/a%09b-4"}));
  const ProcessResult alone = RunOrchestrator(
      {"--url", server.Url("/item/{task_id}"), "--save", "c/{task_type}", "--delay", "0", "-q"},
      In(dir.path(), "task_id,task_type\n1,..\n2,.\n"));
  ASSERT_EQ(alone.exit_status, 0) << alone.err;
  EXPECT_EQ(FilesUnder(dir.path() + "/c"), (std::vector<std::string>{"%2E", "%2E%2E"}));
}

TEST(SavedBodiesCliTest, APathThatLeavesTheFolderNeedsSaveAnywhere) {
  TestServer server;
  TempDir dir;
  for (const std::string save : {"/tmp/x/{task_id}", "../{task_id}", "a/../../{task_id}"}) {
    const ProcessResult refused =
        RunOrchestrator({"--url", server.Url("/item/{task_id}"), "--save", save, "--delay", "0"},
                        In(dir.path(), TasksCsv(1)));
    EXPECT_EQ(refused.exit_status, 2) << save;
    EXPECT_EQ(refused.out, "");
    EXPECT_NE(refused.err.find("orchestrator: --save \"" + save + "\": "), std::string::npos)
        << refused.err;
    EXPECT_NE(refused.err.find("leaves the current folder (--save-anywhere allows it)"),
              std::string::npos)
        << refused.err;
    EXPECT_EQ(server.requests(), 0u);
  }
  const std::string outside = dir.path() + "/elsewhere/{task_id}.json";
  fs::create_directory(dir.path() + "/run");
  const ProcessResult anywhere = RunOrchestrator({"--url", server.Url("/item/{task_id}"), "--save",
                                                  outside, "--save-anywhere", "--delay", "0", "-q"},
                                                 In(dir.path() + "/run", TasksCsv(2)));
  ASSERT_EQ(anywhere.exit_status, 0) << anywhere.err;
  EXPECT_EQ(Contents(dir.path() + "/elsewhere/2.json"), ItemBody(2));

  const ProcessResult raw =
      RunOrchestrator({"--url", server.Url("/ok"), "--save", "b/{task_type:raw}", "--delay", "0"},
                      In(dir.path(), TasksCsv(1)));
  EXPECT_EQ(raw.exit_status, 2);
  EXPECT_NE(raw.err.find("a value's own slashes would choose the folder"), std::string::npos)
      << raw.err;
}

TEST(SavedBodiesCliTest, AFailedFetchSavesNothingAndAFileThatCannotBeMadeFailsItsTask) {
  TestServer server;
  TempDir dir;
  const ProcessResult not_found = RunOrchestrator(
      {"--url", server.Url("/status/404"), "--save", "b/{task_id}", "--delay", "0", "-q"},
      In(dir.path(), TasksCsv(2)));
  EXPECT_EQ(not_found.exit_status, 1) << not_found.err;
  EXPECT_FALSE(fs::exists(dir.path() + "/b/1"));
  // "file" is a file, so file/1 cannot be made: the fetch fails, and is not retried.
  { std::ofstream(dir.path() + "/file") << "x"; }
  const std::size_t before = server.requests();
  const ProcessResult blocked =
      RunOrchestrator({"--url", server.Url("/item/{task_id}"), "--save", "file/{task_id}",
                       "--delay", "0", "-q", "--retries", "2", "--retry-delay", "10ms"},
                      In(dir.path(), TasksCsv(1)));
  EXPECT_EQ(blocked.exit_status, 1) << blocked.err;
  EXPECT_EQ(Rows(blocked.out)["1"], "Failed,could not save the body: file/1: Not a directory");
  EXPECT_EQ(server.requests() - before, 1u) << "not retried";
}

TEST(SavedBodiesCliTest, ABlueprintFilesSaveIsCheckedWhereItIsWritten) {
  TestServer server;
  TempDir dir;
  const std::string good =
      dir.Write("good.toml", "[types.item]\nsteps = [ { name = \"get\", fetch = { url = \"" +
                                 server.Url("/item/{task_id}") +
                                 "\", save = \"items/{task_id}.json\" } } ]\n");
  const ProcessResult saved =
      RunOrchestrator({"--blueprints", good, "-q"}, In(dir.path(), "task_id,task_type\n7,item\n"));
  ASSERT_EQ(saved.exit_status, 0) << saved.err;
  EXPECT_EQ(Contents(dir.path() + "/items/7.json"), ItemBody(7));

  const std::string bad =
      dir.Write("bad.toml", "[[types.item.steps]]\nname = \"get\"\nfetch.url = \"" +
                                server.Url("/ok") + "\"\nfetch.save = \"/var/{task_id}\"\n");
  const ProcessResult refused =
      RunOrchestrator({"--blueprints", bad}, In(dir.path(), "task_id,task_type\n7,item\n"));
  EXPECT_EQ(refused.exit_status, 2);
  EXPECT_EQ(refused.err, "orchestrator: " + bad +
                             ":4:14: save \"/var/{task_id}\": an absolute path leaves the current "
                             "folder (--save-anywhere allows it)\n");
}

TEST(SavedBodiesCliTest, ASaveWithoutPlaceholdersIsOneFileThatNoOtherFileOfTheRunMayBe) {
  TestServer server;
  TempDir dir;
  const std::string tasks = dir.Write("tasks.csv", TasksCsv(2));
  const ProcessResult over_the_tasks = RunOrchestrator(
      {"--url", server.Url("/ok"), "--save", "tasks.csv", "--delay", "0", "tasks.csv"},
      In(dir.path(), ""));
  EXPECT_EQ(over_the_tasks.exit_status, 2);
  EXPECT_EQ(over_the_tasks.err,
            "orchestrator: the tasks CSV \"tasks.csv\" and --save \"tasks.csv\" are the same file: "
            "--save would overwrite the tasks CSV; nothing was run\n");
  EXPECT_EQ(Contents(tasks), TasksCsv(2));
  EXPECT_EQ(server.requests(), 0u);
}

// The same for a blueprint file's save; two saves may be one file (the last body wins).
TEST(SavedBodiesCliTest, ABlueprintFilesSaveWithoutPlaceholdersMayBeNoOtherFileOfTheRun) {
  TestServer server;
  TempDir dir;
  const std::string kinds = dir.Write(
      "kinds.toml", "[types.a]\nsteps = [ { name = \"get\", fetch = { url = \"" +
                        server.Url("/item/{task_id}") +
                        "\", save = \"last.json\" } } ]\n"
                        "[types.b]\nsteps = [ { name = \"keep\", fetch = { url = \"" +
                        server.Url("/item/{task_id}") + "\", save = \"last.json\" } } ]\n");
  const std::string earlier = dir.Write("results.csv", "task_id,final_status,error_info\n");
  const ProcessResult refused = RunOrchestrator({"--blueprints", kinds, "--events", "last.json"},
                                                In(dir.path(), "task_id,task_type\n7,a\n8,b\n"));
  EXPECT_EQ(refused.exit_status, 2);
  EXPECT_EQ(refused.err,
            "orchestrator: --events \"last.json\" and the save of a's step get \"last.json\" are "
            "the same file: the save of a's step get would overwrite what --events writes; "
            "nothing was run\n");
  EXPECT_EQ(server.requests(), 0u);
  const ProcessResult saved =
      RunOrchestrator({"--blueprints", kinds, "-q"}, In(dir.path(), "task_id,task_type\n7,a\n"));
  EXPECT_EQ(saved.exit_status, 0) << saved.err;
  EXPECT_EQ(Contents(dir.path() + "/last.json"), ItemBody(7));
  EXPECT_EQ(Contents(earlier), "task_id,final_status,error_info\n");
}

// Killed outright in the middle of bodies: a file under its final name is always whole.
TEST(SavedBodiesCliTest, AfterKillNineEveryFileUnderItsNameIsWhole) {
  TestServer server;
  TempDir dir;
  constexpr std::uintmax_t kSize = 8u << 20;
  Subprocess run(
      {kBinary, "--url", server.Url("/big/8"), "--save", "b/{task_id}.bin", "--delay", "0", "-q",
       "--max-connections", "4", "--threads", "2", dir.Write("tasks.csv", TasksCsv(60))},
      [&] {
        ProcessOptions options;
        options.cwd = dir.path();
        return options;
      }());
  const bool midway = WaitUntilABodyIsWholeAndAnotherOnItsWay(dir.path() + "/b", kSize);
  run.Signal(SIGKILL);
  run.Wait();
  ASSERT_TRUE(midway) << "the kill did not come in the middle of a body";
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir.path() + "/b")) {
    if (entry.path().extension() != ".bin") continue;
    ++files;
    EXPECT_EQ(entry.file_size(), kSize) << entry.path();
  }
  EXPECT_GT(files, 0u);
}

// Stopped by SIGTERM in the middle of bodies: the bodies in flight are dropped with their
// temporary files, every file under its name is whole, and every task has its row, on stdout
// and on --output, at every thread count, with stdout a file (the case that once lost rows), a
// pipe or /dev/null.
enum class Stdout { kFile, kPipe, kNull };
class SavedBodiesAtASignalTest : public ::testing::TestWithParam<std::tuple<int, Stdout>> {};

TEST_P(SavedBodiesAtASignalTest, ATermLeavesNoTemporaryFileAndEveryRow) {
  const auto [threads, stdout_kind] = GetParam();
  TestServer server;
  TempDir dir;
  constexpr std::uintmax_t kSize = 8u << 20;
  constexpr int kTasks = 60;
  const std::string stdout_file = dir.path() + "/stdout.csv";
  Subprocess run({kBinary, "--url", server.Url("/big/8"), "--save", "b/{task_id}.bin", "--delay",
                  "0", "-q", "--max-connections", "4", "--threads", std::to_string(threads),
                  "--output", "out.csv", dir.Write("tasks.csv", TasksCsv(kTasks))},
                 [&] {
                   ProcessOptions options;
                   options.cwd = dir.path();
                   if (stdout_kind == Stdout::kFile) options.stdout_path = stdout_file;
                   if (stdout_kind == Stdout::kNull) options.stdout_path = "/dev/null";
                   return options;
                 }());
  const bool midway = WaitUntilABodyIsWholeAndAnotherOnItsWay(dir.path() + "/b", kSize);
  run.Signal(SIGTERM);
  const ProcessResult result = run.Wait();
  ASSERT_TRUE(midway) << "the signal did not come in the middle of a body";
  EXPECT_EQ(result.exit_status, 143) << result.err;
  const auto rows = Rows(Contents(dir.path() + "/out.csv"));
  EXPECT_EQ(rows.size(), static_cast<std::size_t>(kTasks));
  if (stdout_kind != Stdout::kNull) {
    EXPECT_EQ(Rows(stdout_kind == Stdout::kFile ? Contents(stdout_file) : result.out), rows)
        << "stdout has the rows --output has";
  }
  std::size_t completed = 0;
  for (const auto& [id, row] : rows) {
    if (row == "Completed,") {
      ++completed;
      EXPECT_EQ(fs::file_size(dir.path() + "/b/" + id + ".bin"), kSize) << id;
    } else {
      EXPECT_EQ(row, "Failed,cancelled") << id;
      EXPECT_FALSE(fs::exists(dir.path() + "/b/" + id + ".bin")) << id;
    }
  }
  EXPECT_GT(completed, 0u);
  EXPECT_LT(completed, static_cast<std::size_t>(kTasks));
  std::vector<std::string> expected;
  for (const auto& [id, row] : rows) {
    if (row == "Completed,") expected.push_back("b/" + id + ".bin");
  }
  expected.push_back("out.csv");
  if (stdout_kind == Stdout::kFile) expected.push_back("stdout.csv");
  expected.push_back("tasks.csv");
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(FilesUnder(dir.path()), expected) << "no .part file left";
}

INSTANTIATE_TEST_SUITE_P(Threads, SavedBodiesAtASignalTest,
                         ::testing::Combine(::testing::Values(1, 2, 4),
                                            ::testing::Values(Stdout::kFile, Stdout::kPipe,
                                                              Stdout::kNull)),
                         [](const ::testing::TestParamInfo<std::tuple<int, Stdout>>& info) {
                           const Stdout kind = std::get<1>(info.param);
                           return fmt::format("{}Threads{}", std::get<0>(info.param),
                                              kind == Stdout::kFile   ? "StdoutAFile"
                                              : kind == Stdout::kPipe ? "StdoutAPipe"
                                                                      : "StdoutDevNull");
                         });

}  // namespace
}  // namespace orchestrator::testing
