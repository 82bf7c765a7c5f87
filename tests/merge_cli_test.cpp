// End to end: `orchestrator merge`, the shards' result files into one result CSV (#13).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

#include "cli_support.h"
#include "subprocess.h"
#include "test_server.h"

namespace orchestrator::testing {
namespace {

const std::string kHead = kHeader + "\n";
const std::string kNotRun = "Failed,not run (no shard reported it)";

ProcessResult Merge(std::vector<std::string> args, ProcessOptions options = {}) {
  args.insert(args.begin(), "merge");
  return RunOrchestrator(std::move(args), std::move(options));
}

TEST(MergeCliTest, WritesTheHeaderOnceAndEveryRowOnceAndExits0WhenAllCompleted) {
  TempDir dir;
  std::vector<std::string> files;
  std::string expected = kHead;
  for (int shard = 0; shard < 3; ++shard) {
    std::string rows;
    for (int i = shard; i < 30; i += 3) rows += std::to_string(i) + ",Completed,\n";
    files.push_back(dir.Write("shard" + std::to_string(shard) + ".csv", kHead + rows));
    expected += rows;
  }
  const ProcessResult result = Merge(files);
  EXPECT_EQ(result.exit_status, 0) << result.err;
  EXPECT_EQ(result.out, expected);
  EXPECT_EQ(Rows(result.out).size(), 30u);
  EXPECT_NE(result.err.find("merged 3 files: 30 Completed, 0 Failed"), std::string::npos)
      << result.err;
}

TEST(MergeCliTest, CompletedBeatsFailedInEitherOrder) {
  TempDir dir;
  const std::string failed = dir.Write("failed.csv", kHead + "1,Failed,timeout\n2,Completed,\n");
  const std::string completed =
      dir.Write("completed.csv", kHead + "1,Completed,\n2,Failed,HTTP 500\n");
  for (const auto& order :
       {std::vector<std::string>{failed, completed}, std::vector<std::string>{completed, failed}}) {
    const ProcessResult result = Merge(order);
    EXPECT_EQ(result.exit_status, 0) << result.err;
    const auto rows = Rows(result.out);
    EXPECT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows.at("1"), "Completed,");
    EXPECT_EQ(rows.at("2"), "Completed,");
    EXPECT_NE(result.err.find("2 duplicate rows left out"), std::string::npos) << result.err;
  }
}

TEST(MergeCliTest, DifferentFailedReasonsKeepTheLaterFilesWithAWarningNamingBoth) {
  TempDir dir;
  const std::string a = dir.Write("a.csv", kHead + "5,Failed,timeout\n6,Completed,\n");
  const std::string b = dir.Write("b.csv", kHead + "5,Failed,HTTP 404\n");
  const ProcessResult result = Merge({a, b});
  EXPECT_EQ(result.exit_status, 1) << result.err;
  EXPECT_EQ(result.out, kHead + "6,Completed,\n5,Failed,HTTP 404\n");
  EXPECT_NE(result.err.find("orchestrator: warning: 1 task Failed in both " + a + " and " + b +
                            " with different reasons (task 5): " + b + "'s kept"),
            std::string::npos)
      << result.err;
}

TEST(MergeCliTest, AMalformedFileExits2NamingFileAndLineWithNothingOnStdout) {
  TempDir dir;
  std::string rows;
  for (int i = 0; i < 5000; ++i) rows += std::to_string(i) + ",Completed,\n";
  const std::string good = dir.Write("good.csv", kHead + rows);
  const std::string bad = dir.Write("bad.csv", kHead + "9001,Completed,\n9002,Finished,\n");
  const ProcessResult result = Merge({good, bad});
  EXPECT_EQ(result.exit_status, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "orchestrator: " + bad +
                            ":3:6: final_status \"Finished\" is neither Completed nor Failed\n");
}

TEST(MergeCliTest, MissingTasksAreWrittenFailedWithAWarningAndExit1) {
  TempDir dir;
  const std::string tasks = dir.Write("tasks.csv", TasksCsv(10) + "3,process_data\n");
  const std::string a = dir.Write("a.csv", kHead + "1,Completed,\n3,Completed,\n");
  const std::string b = dir.Write("b.csv", kHead + "2,Completed,\n");
  const ProcessResult result = Merge({"--tasks", tasks, a, b});
  EXPECT_EQ(result.exit_status, 1) << result.err;
  const std::vector<std::string> lines = Lines(result.out);
  ASSERT_EQ(lines.size(), 11u) << result.out;
  EXPECT_EQ(lines[3], "2,Completed,");
  for (int i = 4; i <= 10; ++i) EXPECT_EQ(lines[i], std::to_string(i) + "," + kNotRun);
  EXPECT_NE(result.err.find("orchestrator: warning: 7 tasks of " + tasks + " in no file"),
            std::string::npos)
      << result.err;
}

TEST(MergeCliTest, AllTasksPresentWithTasksExits0) {
  TempDir dir;
  const std::string tasks = dir.Write("tasks.csv", TasksCsv(2));
  const std::string a = dir.Write("a.csv", kHead + "2,Completed,\n1,Completed,\n");
  const ProcessResult result = Merge({a, "--tasks", tasks});
  EXPECT_EQ(result.exit_status, 0) << result.err;
  EXPECT_EQ(result.out, kHead + "2,Completed,\n1,Completed,\n");
}

TEST(MergeCliTest, ARowForATaskNotInTasksExits2WithNothingOnStdout) {
  TempDir dir;
  const std::string tasks = dir.Write("tasks.csv", TasksCsv(3));
  const std::string a = dir.Write("a.csv", kHead + "1,Completed,\n2,Completed,\n");
  const std::string b = dir.Write("b.csv", kHead + "3,Completed,\n77,Completed,\n");
  const ProcessResult result = Merge({"--tasks", tasks, a, b});
  EXPECT_EQ(result.exit_status, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err,
            "orchestrator: " + b + ":3: task_id 77 is not a task of " + tasks + " (--tasks)\n");
}

TEST(MergeCliTest, ATornLastRowIsLeftOutWithAWarning) {
  TempDir dir;
  const std::string a = dir.Write("a.csv", kHead + "1,Completed,\n2,Failed,\"conn");
  const ProcessResult result = Merge({a});
  EXPECT_EQ(result.exit_status, 0) << result.err;
  EXPECT_EQ(result.out, kHead + "1,Completed,\n");
  EXPECT_NE(result.err.find("orchestrator: warning: " + a + ":3: ignoring a torn last row"),
            std::string::npos)
      << result.err;
}

TEST(MergeCliTest, QuotedErrorInfoIsCopiedByteForByte) {
  TempDir dir;
  const std::string rows =
      "1,Failed,\"fetch_data: HTTP 500, then \"\"gave up\"\"\"\n"
      "2,Failed,\"a line\nand another\r\nand a CRLF one\"\n"
      "3,Failed,plain\n";
  const std::string a = dir.Write("a.csv", kHead + rows);
  // b.csv has a row that loses (to a's 3), so it is read row by row, not copied in bulk.
  const std::string b = dir.Write("b.csv", kHead + "4,Failed,\"x,\"\"\ny\"\n3,Failed,plain\n");
  const ProcessResult result = Merge({b, a});
  EXPECT_EQ(result.exit_status, 1) << result.err;
  EXPECT_EQ(result.out, kHead + "4,Failed,\"x,\"\"\ny\"\n" + rows);
}

// A run whose blueprint captures values: its files have capture columns after error_info.
TEST(MergeCliTest, FilesWithTheSameCaptureColumnsMergeWithThem) {
  TempDir dir;
  const std::string head = kHeader + ",price,etag\n";
  const std::string a =
      dir.Write("a.csv", head + "1,Completed,,\"1,99\",\"W/\"\"a\"\"\"\n2,Failed,HTTP 500,,\n");
  // b.csv's 2 wins over a.csv's, so a.csv is read row by row and b.csv copied in bulk.
  const std::string b = dir.Write("b.csv", head + "3,Completed,,7,x\n2,Completed,,\"\"\"\",y\n");
  const std::string tasks = dir.Write("tasks.csv", TasksCsv(4));
  const ProcessResult result = Merge({a, b});
  EXPECT_EQ(result.exit_status, 0) << result.err;
  EXPECT_EQ(result.out, head + "1,Completed,,\"1,99\",\"W/\"\"a\"\"\"\n3,Completed,,7,x\n" +
                            "2,Completed,,\"\"\"\",y\n");
  // A task no file has: an empty cell per capture column.
  const ProcessResult missing = Merge({"--tasks", tasks, a, b});
  EXPECT_EQ(missing.exit_status, 1) << missing.err;
  EXPECT_EQ(missing.out, result.out + "4," + kNotRun + ",,\n");
}

TEST(MergeCliTest, FilesWithOtherColumnsExit2NamingBothWithNothingOnStdout) {
  TempDir dir;
  const std::string a = dir.Write("a.csv", kHeader + ",etag\n1,Completed,,x\n");
  const std::string b = dir.Write("b.csv", kHeader + ",price\n2,Completed,,1\n");
  const ProcessResult result = Merge({a, b});
  EXPECT_EQ(result.exit_status, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "orchestrator: " + b + ":1: its columns are " + kHeader + ",price; " + a +
                            "'s are " + kHeader + ",etag: merge files of one run\n");
}

TEST(MergeCliTest, APipeIsAnInputError) {
  TempDir dir;
  const std::string fifo = dir.path() + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const ProcessResult result = Merge({fifo});
  EXPECT_EQ(result.exit_status, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_NE(result.err.find("orchestrator: " + fifo + ": not a regular file"), std::string::npos)
      << result.err;
}

TEST(MergeCliTest, AnInputThatIsAlsoTheOutputIsAnInputError) {
  TempDir dir;
  const std::string a = dir.Write("a.csv", kHead + "1,Completed,\n");
  const std::string b = dir.Write("b.csv", kHead + "2,Completed,\n");
  const ProcessResult result = Merge({a, b}, StdoutTo({}, a));
  EXPECT_EQ(result.exit_status, 2);
  EXPECT_EQ(result.err, "orchestrator: " + a + ": is also the output: merge into another file\n");
}

TEST(MergeCliTest, UsageAndHelp) {
  const ProcessResult none = Merge({});
  EXPECT_EQ(none.exit_status, 2);
  EXPECT_NE(none.err.find("orchestrator merge --help"), std::string::npos) << none.err;
  const ProcessResult help = Merge({"--help"});
  EXPECT_EQ(help.exit_status, 0);
  EXPECT_NE(help.out.find("--tasks"), std::string::npos) << help.out;
}

TEST(MergeCliTest, JsonLinesShardsMergeIntoJsonLinesAtEveryThreadCount) {
  TestServer server;
  TempDir dir;
  const std::string tasks = dir.Write("tasks.csv", TasksCsv(20));
  for (const char* threads : {"1", "2", "4"}) {
    SCOPED_TRACE(threads);
    std::vector<std::string> shards;
    std::string all_rows;
    for (const char* shard : {"0/2", "1/2"}) {
      const std::string output =
          dir.path() + "/shard-" + threads + "-" + std::string(1, shard[0]) + ".jsonl";
      const ProcessResult run = RunOrchestrator(
          {"--url", server.Url("/item/{task_id}"), "--delay", "0", "--threads", threads, "--shard",
           shard, "--format", "jsonl", "--capture", "price=json:/price", "--capture", "code=status",
           "--output", output, "-q", tasks});
      ASSERT_EQ(run.exit_status, 0) << run.err;
      shards.push_back(output);
      all_rows += Contents(output);
    }
    const ProcessResult merged = Merge({"--tasks", tasks, shards[0], shards[1]});
    EXPECT_EQ(merged.exit_status, 0) << merged.err;
    EXPECT_EQ(merged.out, all_rows);  // each shard's rows byte for byte, no header
    const std::vector<std::string> lines = Lines(merged.out);
    EXPECT_EQ(lines.size(), 20u);
    for (int id = 1; id <= 20; ++id) {
      const std::string row = R"({"task_id":)" + std::to_string(id) +
                              R"(,"final_status":"Completed","error_info":"","price":)" +
                              std::to_string(id) + R"(.5,"code":200})" + "\n";
      EXPECT_NE(merged.out.find(row), std::string::npos) << row;
    }
    EXPECT_NE(merged.err.find("merged 2 files: 20 Completed, 0 Failed"), std::string::npos)
        << merged.err;
    // A missing task is a JSON Lines row too; --format says what the files are.
    const ProcessResult missing =
        Merge({"--format", "jsonl", "--tasks", dir.Write("more.csv", TasksCsv(21)), shards[0],
               shards[1]});
    EXPECT_EQ(missing.exit_status, 1) << missing.err;
    // Written as a CSV: a column per capture, the values as a CSV run writes them.
    const ProcessResult as_csv = Merge({"--format", "csv", "--tasks", tasks, shards[0], shards[1]});
    EXPECT_EQ(as_csv.exit_status, 0) << as_csv.err;
    ASSERT_EQ(Lines(as_csv.out).size(), 21u) << as_csv.out;
    EXPECT_EQ(Lines(as_csv.out)[0], "task_id,final_status,error_info,price,code");
    for (int id = 1; id <= 20; ++id) {
      const std::string row =
          "\n" + std::to_string(id) + ",Completed,," + std::to_string(id) + ".5,200\n";
      EXPECT_NE(as_csv.out.find(row), std::string::npos) << row;
    }
    EXPECT_EQ(missing.out, all_rows + R"({"task_id":21,"final_status":"Failed",)" +
                               "\"error_info\":\"not run (no shard reported it)\"}\n");
  }
}

TEST(MergeCliTest, ACsvAndJsonLinesOrACsvAsJsonLinesExit2WithNothingOnStdout) {
  TempDir dir;
  const std::string csv = dir.Write("a.csv", kHead + "1,Completed,\n");
  const std::string jsonl =
      dir.Write("b.jsonl", R"({"task_id":2,"final_status":"Completed","error_info":""})"
                           "\n");
  const ProcessResult mixed = Merge({csv, jsonl});
  EXPECT_EQ(mixed.exit_status, 2);
  EXPECT_EQ(mixed.out, "");
  EXPECT_EQ(mixed.err, "orchestrator: " + jsonl + ":1: it is JSON Lines (it starts with {), " +
                           csv + " is a result CSV: merge files of one format\n");
  const ProcessResult other = Merge({"--format", "jsonl", csv});
  EXPECT_EQ(other.exit_status, 2);
  EXPECT_EQ(other.out, "");
  EXPECT_EQ(other.err, "orchestrator: " + csv +
                           ": it is a result CSV, which cannot be written as JSON Lines "
                           "(--format jsonl): its cells do not say which values are JSON\n");
  const ProcessResult bad = Merge({"--format", "xml", jsonl});
  EXPECT_EQ(bad.exit_status, 2);
  EXPECT_NE(bad.err.find("--format"), std::string::npos) << bad.err;
  // A malformed row names its file, line and column.
  const std::string broken =
      dir.Write("c.jsonl", R"({"task_id":3,"final_status":"Completed","error_info":""})"
                           "\n{\"task_id\":4,]\n");
  const ProcessResult malformed = Merge({broken});
  EXPECT_EQ(malformed.exit_status, 2);
  EXPECT_EQ(malformed.err, "orchestrator: " + broken + ":2:14: not JSON (syntax error)\n");
}

// 16 bytes a task plus buffers: 2,000,000 rows over 4 files, against a merge of one row.
// The files are written row by row: a child's peak RSS counts what it had before exec, a
// copy of this process, which must stay small to leave the measure clean.
TEST(MergeCliTest, MemoryIsSixteenBytesATaskPlusBuffers) {
  TempDir dir;
  constexpr int kRows = 2'000'000;
  constexpr int kFiles = 4;
  std::vector<std::string> files;
  for (int shard = 0; shard < kFiles; ++shard) {
    files.push_back(dir.path() + "/shard" + std::to_string(shard) + ".csv");
    std::ofstream out(files.back(), std::ios::binary);
    out << kHead;
    for (int i = shard; i < kRows; i += kFiles) {
      out << i << (i % 97 == 0 ? ",Failed,HTTP 503\n" : ",Completed,\n");
    }
  }
  // The last file has one row that loses, so that both ways of copying run.
  files.push_back(dir.Write("dup.csv", kHead + "1,Failed,x\n"));
  const std::string small = dir.Write("small.csv", kHead + "1,Completed,\n");
  const ProcessResult base =
      Merge({small}, MeasurePeakRss(StdoutTo({}, dir.path() + "/small.out")));
  ASSERT_EQ(base.exit_status, 0) << base.err;
  const ProcessResult big = Merge(files, MeasurePeakRss(StdoutTo({}, dir.path() + "/big.out")));
  ASSERT_EQ(big.exit_status, 1) << big.err;
  std::ifstream merged(dir.path() + "/big.out", std::ios::binary);
  std::size_t lines = 0;
  for (std::string line; std::getline(merged, line);) ++lines;
  EXPECT_EQ(lines, kRows + 1u);
  std::size_t allowed_kib = base.max_rss_kib + 16u * kRows / 1024 + 6 * 1024;
#if defined(__SANITIZE_ADDRESS__)
  allowed_kib += 16u * kRows / 1024 / 8 + 2 * 1024;  // ASan's shadow of the entries, and more
#endif
  EXPECT_LE(big.max_rss_kib, allowed_kib) << "one row: " << base.max_rss_kib << " KiB";
  std::cerr << "merge of " << kRows << " rows: " << big.max_rss_kib << " KiB peak RSS, one row "
            << base.max_rss_kib << " KiB, " << big.seconds << " s\n";
}

}  // namespace
}  // namespace orchestrator::testing
