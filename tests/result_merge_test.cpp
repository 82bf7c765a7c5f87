#include "orchestrator/result_merge.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "orchestrator/input_error.h"
#include "orchestrator/output_stream.h"

namespace orchestrator {
namespace {

const std::string kHeader = "task_id,final_status,error_info\n";

class ResultMergeTest : public ::testing::Test {
 protected:
  ResultMergeTest() {
    char pattern[] = "/tmp/result-merge-test-XXXXXX";
    dir_ = ::mkdtemp(pattern);
  }
  ~ResultMergeTest() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  // Runs both passes; the merged CSV in `out`.
  MergeSummary Merge(ResultMerge& merge, std::string& out,
                     const std::vector<TaskId>* tasks = nullptr) {
    merge.Read();
    if (tasks != nullptr) merge.ExpectTasks(*tasks, "tasks.csv");
    const std::string path = dir_ + "/merged.csv";
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    MergeSummary summary;
    {
      OutputStream stream(fd, "merged", OutputStream::FlushPolicy::kWhenAsked);
      summary = merge.Write(stream);
      EXPECT_FALSE(stream.failed());
    }
    ::close(fd);
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    out = text.str();
    return summary;
  }

  // The InputError that reading `content` as a result file throws (FILE:LINE[:COLUMN]: ...).
  std::string ReadError(const std::string& content) {
    const std::string path = Write("bad.csv", content);
    ResultMerge merge({path});
    try {
      merge.Read();
    } catch (const InputError& error) {
      return std::string(error.what()).substr(dir_.size() + std::string("/bad.csv:").size());
    }
    return "no error";
  }

  std::string dir_;
};

TEST_F(ResultMergeTest, WritesTheHeaderOnceAndEveryRowOnceInFileOrder) {
  const std::string a = Write("a.csv", kHeader + "1,Completed,\n3,Failed,HTTP 500\n");
  const std::string b = Write("b.csv", kHeader);
  const std::string c = Write("c.csv", kHeader + "2,Completed,\n");
  ResultMerge merge({a, b, c});
  std::string out;
  const MergeSummary summary = Merge(merge, out);
  EXPECT_EQ(out, kHeader + "1,Completed,\n3,Failed,HTTP 500\n2,Completed,\n");
  EXPECT_EQ(summary.completed, 2u);
  EXPECT_EQ(summary.failed, 1u);
  EXPECT_EQ(summary.duplicates, 0u);
  EXPECT_TRUE(merge.warnings().empty());
}

TEST_F(ResultMergeTest, CompletedBeatsFailedWhicheverFileComesFirst) {
  const std::string failed = Write("f.csv", kHeader + "1,Failed,timeout\n2,Completed,\n");
  const std::string completed = Write("c.csv", kHeader + "1,Completed,\n2,Failed,HTTP 503\n");
  for (const bool completed_first : {true, false}) {
    ResultMerge merge(completed_first ? std::vector<std::string>{completed, failed}
                                      : std::vector<std::string>{failed, completed});
    std::string out;
    const MergeSummary summary = Merge(merge, out);
    EXPECT_EQ(summary.completed, 2u) << completed_first;
    EXPECT_EQ(summary.failed, 0u);
    EXPECT_EQ(summary.duplicates, 2u);
    EXPECT_EQ(out.find("Failed"), std::string::npos) << out;
    EXPECT_NE(out.find("\n1,Completed,\n"), std::string::npos) << out;
    EXPECT_NE(out.find("\n2,Completed,\n"), std::string::npos) << out;
    EXPECT_TRUE(merge.warnings().empty());
  }
}

TEST_F(ResultMergeTest, DifferentFailedReasonsKeepTheLaterFilesWithOneWarningPerPair) {
  const std::string a = Write("a.csv", kHeader + "1,Failed,timeout\n2,Failed,HTTP 500\n");
  const std::string b = Write("b.csv", kHeader + "2,Failed,HTTP 503\n1,Failed,HTTP 404\n");
  ResultMerge merge({a, b});
  std::string out;
  const MergeSummary summary = Merge(merge, out);
  EXPECT_EQ(out, kHeader + "2,Failed,HTTP 503\n1,Failed,HTTP 404\n");
  EXPECT_EQ(summary.failed, 2u);
  ASSERT_EQ(merge.warnings().size(), 1u);
  const std::string& warning = merge.warnings()[0];
  EXPECT_NE(warning.find("2 tasks Failed in both " + a + " and " + b), std::string::npos)
      << warning;
  EXPECT_NE(warning.find(b + "'s kept"), std::string::npos) << warning;
}

TEST_F(ResultMergeTest, TheSameFailedReasonTwiceIsNoWarning) {
  const std::string a = Write("a.csv", kHeader + "1,Failed,\"x, \"\"y\"\"\"\n");
  const std::string b = Write("b.csv", kHeader + "1,Failed,\"x, \"\"y\"\"\"\n");
  ResultMerge merge({a, b});
  std::string out;
  Merge(merge, out);
  EXPECT_EQ(out, kHeader + "1,Failed,\"x, \"\"y\"\"\"\n");
  EXPECT_TRUE(merge.warnings().empty());
}

TEST_F(ResultMergeTest, QuotedErrorInfoIsCopiedByteForByteInBothWaysOfCopying) {
  const std::string rows =
      "1,Failed,\"a, b\"\n"
      "2,Failed,\"say \"\"hi\"\"\"\n"
      "3,Failed,\"two\nlines\r\nand CRLF\"\n"
      "4,Completed,\n";
  // a.csv has no lost row (copied in bulk); b.csv has one (read row by row).
  const std::string a = Write("a.csv", kHeader + rows);
  const std::string b = Write(
      "b.csv", kHeader + rows.substr(0, rows.find("4,")) + "5,Completed,\n" + "4,Failed,lost\n");
  ResultMerge one({a});
  std::string out;
  Merge(one, out);
  EXPECT_EQ(out, kHeader + rows);

  const std::string c = Write("c.csv", kHeader + "9,Completed,\n4,Completed,\n");
  ResultMerge two({b, c});
  Merge(two, out);
  EXPECT_EQ(out, kHeader + rows.substr(0, rows.find("4,")) + "5,Completed,\n" +
                     "9,Completed,\n4,Completed,\n");
}

// Many rows, ids spread over all 64 bits and clustered, tasks in up to 3 files: the merge
// against the rule worked out here, row by row.
TEST_F(ResultMergeTest, ManyOverlappingFilesGiveEachTaskItsWinningRowOnce) {
  std::mt19937_64 random(13);
  std::vector<TaskId> ids;
  for (int i = 0; i < 20000; ++i) ids.push_back(random());
  for (TaskId i = 0; i < 20000; ++i) ids.push_back(i * 7);         // small, one high byte
  for (TaskId i = 0; i < 300; ++i) ids.push_back(~TaskId{0} - i);  // the largest
  constexpr int kFiles = 5;
  std::vector<std::string> texts(kFiles, kHeader);
  std::map<TaskId, std::string> winner;  // task_id -> its row, by the documented rule
  for (const TaskId id : ids) {
    const int copies = 1 + static_cast<int>(random() % 3);
    int file = static_cast<int>(random() % kFiles);
    for (int c = 0; c < copies && file < kFiles; ++c, file += 1 + static_cast<int>(random() % 2)) {
      const bool failed = random() % 2 == 0;
      const std::string row =
          std::to_string(id) +
          (failed ? ",Failed,\"e, " + std::to_string(random() % 3) + "\"" : ",Completed,") + "\n";
      texts[static_cast<std::size_t>(file)] += row;
      auto [it, added] = winner.emplace(id, row);
      if (!added && (failed ? it->second.find(",Failed,") != std::string::npos : true)) {
        it->second = row;
      }
    }
  }
  std::vector<std::string> paths;
  for (int k = 0; k < kFiles; ++k) paths.push_back(Write(std::to_string(k) + ".csv", texts[k]));
  ResultMerge merge(paths);
  std::string out;
  const MergeSummary summary = Merge(merge, out);
  ASSERT_EQ(out.substr(0, kHeader.size()), kHeader);
  std::map<TaskId, std::string> merged;
  std::size_t start = kHeader.size();
  while (start < out.size()) {
    const std::size_t end = out.find('\n', start) + 1;
    const std::string row = out.substr(start, end - start);
    EXPECT_TRUE(merged.emplace(std::stoull(row), row).second) << "twice: " << row;
    start = end;
  }
  EXPECT_EQ(merged.size(), winner.size());
  EXPECT_TRUE(merged == winner);
  EXPECT_EQ(summary.completed + summary.failed, winner.size());
}

TEST_F(ResultMergeTest, MalformedFilesAreInputErrorsAtFileLineColumn) {
  EXPECT_EQ(ReadError("task_id,status\n1,Completed,\n"),
            "1:1: not a result CSV: its header is task_id,status; a result CSV starts "
            "task_id,final_status,error_info");
  EXPECT_EQ(ReadError("task_id,task_type\n1,process_data\n"),
            "1:1: not a result CSV: its header is task_id,task_type; a result CSV starts "
            "task_id,final_status,error_info")
      << "a tasks CSV given to merge";
  EXPECT_EQ(ReadError("id\x1b[2J\n"),
            "1:1: not a result CSV: its header is id\\x1b[2J; a result CSV starts "
            "task_id,final_status,error_info");
  EXPECT_EQ(ReadError(kHeader + "1,Completed,\n2,Done,\n"),
            "3:3: final_status \"Done\" is neither Completed nor Failed");
  EXPECT_EQ(ReadError(kHeader + "1,Completed\n"), "2:12: fewer fields than the header has");
  EXPECT_EQ(ReadError(kHeader + "1,Failed,a,b\n"), "2:11: more fields than the header has");
  EXPECT_EQ(ReadError(kHeader + "x1,Completed,\n").substr(0, 6), "2:1: t");
  EXPECT_EQ(ReadError(kHeader + "1,Completed,\n\n2,Completed,\n"),
            "3:1: blank line (a result CSV has none)");
  EXPECT_EQ(ReadError(kHeader + "1,Failed,\"a\"b\n"),
            "2:13: text after a quoted field's closing quote");
  EXPECT_EQ(ReadError(kHeader + "1,Failed,\"a\nb\nc\"x\n"),
            "4:3: text after a quoted field's closing quote");
  EXPECT_EQ(ReadError(kHeader + "1,Failed,a\r\n"),
            "2:11: carriage return outside quotes (result CSVs have LF line ends)");
  EXPECT_EQ(ReadError(kHeader + std::string("1,Failed,a\0b\n", 13)),
            "2:11: NUL byte in the input (is this a text file?)");
}

TEST_F(ResultMergeTest, ATaskOnTwoRowsOfOneFileIsAnErrorOnTheSecondRow) {
  EXPECT_EQ(ReadError(kHeader + "7,Completed,\n8,Completed,\n7,Failed,x\n"),
            "4: task_id 7 is on an earlier row of this file too (a result CSV has each task "
            "once)");
}

TEST_F(ResultMergeTest, ATornLastRowIsLeftOutWithAWarning) {
  const std::string a = Write("a.csv", kHeader + "1,Completed,\n2,Fail");
  const std::string b = Write("b.csv", kHeader + "3,Failed,\"torn\ninside quotes\n");
  const std::string c = Write("c.csv", "task_id,fin");
  ResultMerge merge({a, b, c});
  std::string out;
  const MergeSummary summary = Merge(merge, out);
  EXPECT_EQ(out, kHeader + "1,Completed,\n");
  EXPECT_EQ(summary.torn, 3u);
  ASSERT_EQ(merge.warnings().size(), 3u);
  EXPECT_EQ(merge.warnings()[0],
            a + ":3: ignoring a torn last row (a shard was cut short while writing it)");
  EXPECT_EQ(merge.warnings()[1].substr(0, b.size() + 3), b + ":2:");
  EXPECT_EQ(merge.warnings()[2].substr(0, c.size() + 3), c + ":1:");
}

TEST_F(ResultMergeTest, AnEmptyFileHasNoRows) {
  const std::string a = Write("a.csv", "");
  const std::string b = Write("b.csv", kHeader + "1,Completed,\n");
  ResultMerge merge({a, b});
  std::string out;
  Merge(merge, out);
  EXPECT_EQ(out, kHeader + "1,Completed,\n");
  ASSERT_EQ(merge.warnings().size(), 1u);
  EXPECT_NE(merge.warnings()[0].find("empty"), std::string::npos);
}

TEST_F(ResultMergeTest, ExpectedTasksNoFileHasAreWrittenFailedAtTheEnd) {
  const std::string a = Write("a.csv", kHeader + "3,Completed,\n");
  const std::string b = Write("b.csv", kHeader + "1,Completed,\n");
  const std::vector<TaskId> tasks{1, 2, 3, 4, 5};
  ResultMerge merge({a, b});
  std::string out;
  const MergeSummary summary = Merge(merge, out, &tasks);
  EXPECT_EQ(out, kHeader +
                     "3,Completed,\n1,Completed,\n2,Failed,not run (no shard reported it)\n"
                     "4,Failed,not run (no shard reported it)\n"
                     "5,Failed,not run (no shard reported it)\n");
  EXPECT_EQ(summary.missing, 3u);
  EXPECT_EQ(summary.failed, 3u);
  ASSERT_EQ(merge.warnings().size(), 1u);
  EXPECT_NE(merge.warnings()[0].find("3 tasks of tasks.csv in no file"), std::string::npos)
      << merge.warnings()[0];
}

TEST_F(ResultMergeTest, ARowOfATaskNotExpectedIsAnErrorOnItsLine) {
  const std::string a = Write("a.csv", kHeader + "1,Completed,\n2,Completed,\n9,Failed,x\n");
  ResultMerge merge({a});
  merge.Read();
  try {
    merge.ExpectTasks({1, 2, 3}, "tasks.csv");
    FAIL() << "no error";
  } catch (const InputError& error) {
    EXPECT_EQ(error.file(), a);
    EXPECT_EQ(error.line(), 4u);
    EXPECT_EQ(error.message(), "task_id 9 is not a task of tasks.csv (--tasks)");
  }
}

TEST_F(ResultMergeTest, APipeOrStandardInputIsRefused) {
  const std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const std::string& path : {fifo, std::string("-")}) {
    ResultMerge merge({path});
    try {
      merge.Read();
      FAIL() << "no error for " << path;
    } catch (const InputError& error) {
      EXPECT_EQ(error.file(), path);
      EXPECT_NE(error.message().find("twice"), std::string::npos) << error.message();
    }
  }
}

TEST_F(ResultMergeTest, AFileChangedBetweenThePassesIsAnErrorBeforeAnythingIsWritten) {
  const std::string a = Write("a.csv", kHeader + "1,Completed,\n");
  ResultMerge merge({a});
  merge.Read();
  std::ofstream(a, std::ios::binary | std::ios::app) << "2,Completed,\n";
  OutputStream stream(-1, "nowhere", OutputStream::FlushPolicy::kWhenAsked);
  EXPECT_THROW(merge.Write(stream), InputError);
  EXPECT_EQ(stream.bytes_written(), 0u);
}

// Capture columns: a run whose blueprint captures values writes them after error_info.
const std::string kCaptureHeader = "task_id,final_status,error_info,price,etag\n";

TEST_F(ResultMergeTest, FilesWithTheSameCaptureColumnsMergeWithTheirHeaderAndCellsKept) {
  const std::string a =
      Write("a.csv", kCaptureHeader + "1,Completed,,9.99,abc\n2,Failed,HTTP 500,,\n");
  const std::string empty = Write("empty.csv", "");
  // a.csv's 1 loses to b.csv's (both Completed: the later file's), so a.csv is read row by
  // row and b.csv copied in bulk.
  const std::string b =
      Write("b.csv", kCaptureHeader + "3,Completed,,1,x\n1,Completed,,8.50,def\n");
  ResultMerge merge({a, empty, b});
  std::string out;
  const MergeSummary summary = Merge(merge, out);
  EXPECT_EQ(out, kCaptureHeader + "2,Failed,HTTP 500,,\n3,Completed,,1,x\n1,Completed,,8.50,def\n");
  EXPECT_EQ(summary.completed, 2u);
  EXPECT_EQ(summary.failed, 1u);
  EXPECT_EQ(summary.duplicates, 1u);
  ASSERT_EQ(merge.warnings().size(), 1u);  // the empty file
  EXPECT_NE(merge.warnings()[0].find("empty"), std::string::npos);
}

TEST_F(ResultMergeTest, QuotedCaptureValuesAreCopiedByteForByteInBothWaysOfCopying) {
  const std::string rows =
      "1,Failed,\"a, b\",\"9,99\",\"W/\"\"x,y\"\"\"\n"
      "2,Completed,,\"\"\"\",\"\"\n"
      "3,Failed,\"two\nlines\",\",\",\"\"\"a\"\" and \"\"b\"\"\"\n"
      "4,Completed,,plain,\"\xe2\x82\xac 5\"\n";
  const std::string a = Write("a.csv", kCaptureHeader + rows);  // no row lost: in bulk
  ResultMerge one({a});
  std::string out;
  Merge(one, out);
  EXPECT_EQ(out, kCaptureHeader + rows);

  // b.csv's 5 loses to c.csv's, so b.csv is read row by row.
  const std::string b = Write("b.csv", kCaptureHeader + rows + "5,Failed,x,\",\",\"\"\"\"\n");
  const std::string c = Write("c.csv", kCaptureHeader + "5,Completed,,\"1,5\",\"\"\"e\"\"\"\n");
  ResultMerge two({b, c});
  Merge(two, out);
  EXPECT_EQ(out, kCaptureHeader + rows + "5,Completed,,\"1,5\",\"\"\"e\"\"\"\n");
}

TEST_F(ResultMergeTest, OnlyErrorInfoIsTheFailedReason) {
  // Same error_info, other captured values: no warning about differing reasons.
  const std::string a = Write("a.csv", kCaptureHeader + "1,Failed,HTTP 500,1,\"a,b\"\n");
  const std::string b = Write("b.csv", kCaptureHeader + "1,Failed,HTTP 500,2,c\n");
  ResultMerge same({a, b});
  std::string out;
  Merge(same, out);
  EXPECT_EQ(out, kCaptureHeader + "1,Failed,HTTP 500,2,c\n");
  EXPECT_TRUE(same.warnings().empty()) << same.warnings()[0];

  const std::string c = Write("c.csv", kCaptureHeader + "1,Failed,HTTP 503,1,\"a,b\"\n");
  ResultMerge differ({a, c});
  Merge(differ, out);
  ASSERT_EQ(differ.warnings().size(), 1u);
  EXPECT_NE(differ.warnings()[0].find("different reasons"), std::string::npos);
}

TEST_F(ResultMergeTest, FilesWithOtherColumnsAreAnInputErrorNamingBothFilesAndHeaders) {
  const std::string a = Write("a.csv", "task_id,final_status,error_info,etag\n1,Completed,,x\n");
  const std::string empty = Write("empty.csv", "");
  const std::string b = Write("b.csv", "task_id,final_status,error_info,price\n2,Completed,,1\n");
  const std::string plain = Write("plain.csv", kHeader + "3,Completed,\n");
  const std::string twice = Write("twice.csv", "task_id,final_status,error_info,etag,etag2\n");
  const auto error_of = [this](const std::vector<std::string>& paths) {
    ResultMerge merge(paths);
    try {
      merge.Read();
    } catch (const InputError& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of({empty, a, b}),
            b + ":1: its columns are task_id,final_status,error_info,price; " + a +
                "'s are task_id,final_status,error_info,etag: merge files of one run");
  EXPECT_EQ(error_of({plain, a}),
            a + ":1: its columns are task_id,final_status,error_info,etag; " + plain +
                "'s are task_id,final_status,error_info: merge files of one run");
  EXPECT_EQ(error_of({a, plain}),
            plain + ":1: its columns are task_id,final_status,error_info; " + a +
                "'s are task_id,final_status,error_info,etag: merge files of one run");
  EXPECT_EQ(error_of({a, twice}),
            twice + ":1: its columns are task_id,final_status,error_info,etag,etag2; " + a +
                "'s are task_id,final_status,error_info,etag: merge files of one run");
}

TEST_F(ResultMergeTest, MalformedCaptureHeadersAreInputErrorsAtLineOneAndTheirColumn) {
  const std::string start = "task_id,final_status,error_info";
  EXPECT_EQ(ReadError(start + ",1x\n"),
            "1:33: capture column name \"1x\" is not a name (letters, digits and _, not "
            "starting with a digit)");
  EXPECT_EQ(ReadError(start + ",pr ice\n").substr(0, 31), "1:35: capture column name \"pr i");
  EXPECT_EQ(ReadError(start + ",price\r\n").substr(0, 31), "1:38: capture column name \"pric");
  EXPECT_EQ(ReadError(start + ",price,price\n"),
            "1:39: column \"price\" appears twice in the header");
  EXPECT_EQ(ReadError(start + ",task_id\n"),
            "1:33: column \"task_id\" appears twice in the header");
  EXPECT_EQ(ReadError(start + ",error_info\n"),
            "1:33: column \"error_info\" appears twice in the header");
  EXPECT_EQ(ReadError(start + ",,x\n"),
            "1:33: empty column name in the header (a capture column has a name)");
  EXPECT_EQ(ReadError(start + ",x,\n"),
            "1:35: empty column name in the header (a capture column has a name)");
  EXPECT_EQ(ReadError(start + "s\n1,Completed,\n"),
            "1:1: not a result CSV: its header is task_id,final_status,error_infos; a result CSV "
            "starts task_id,final_status,error_info");
  EXPECT_EQ(ReadError(start + ",_x9,Y\n1,Completed,,,\n"), "no error");
}

TEST_F(ResultMergeTest, MalformedCaptureFieldsAreInputErrorsAtFileLineColumn) {
  EXPECT_EQ(ReadError(kCaptureHeader + "1,Completed,\n"), "2:13: fewer fields than the header has");
  EXPECT_EQ(ReadError(kCaptureHeader + "1,Completed,,5\n"),
            "2:15: fewer fields than the header has");
  EXPECT_EQ(ReadError(kCaptureHeader + "1,Completed,,\"5\"\n"),
            "2:17: fewer fields than the header has");
  EXPECT_EQ(ReadError(kCaptureHeader + "1,Completed,,5,e,x\n"),
            "2:17: more fields than the header has");
  EXPECT_EQ(ReadError(kCaptureHeader + "1,Completed,,1,\"e\",x\n"),
            "2:19: more fields than the header has");
  EXPECT_EQ(ReadError(kCaptureHeader + "1,Failed,x,\"a\"b,e\n"),
            "2:15: text after a quoted field's closing quote");
  EXPECT_EQ(ReadError(kCaptureHeader + "1,Failed,x,a\"b,e\n"),
            "2:13: quote inside an unquoted field");
  EXPECT_EQ(ReadError(kCaptureHeader + "1,Completed,,1,e\n2,Failed,x,\"multi\nline\",e\r\n"),
            "4:8: carriage return outside quotes (result CSVs have LF line ends)");
  EXPECT_EQ(ReadError(kCaptureHeader + std::string("1,Completed,,a\0,e\n", 18)),
            "2:15: NUL byte in the input (is this a text file?)");
  EXPECT_EQ(ReadError(kCaptureHeader + std::string("1,Completed,,1,\"a\0\"\n", 20)),
            "2:18: NUL byte in the input (is this a text file?)");
}

TEST_F(ResultMergeTest, ExpectedTasksNoFileHasGetAnEmptyCellPerCaptureColumn) {
  const std::string a = Write("a.csv", kCaptureHeader + "3,Completed,,1,x\n");
  const std::vector<TaskId> tasks{1, 3};
  ResultMerge merge({a});
  std::string out;
  Merge(merge, out, &tasks);
  EXPECT_EQ(out, kCaptureHeader + "3,Completed,,1,x\n1,Failed,not run (no shard reported it),,\n");
}

TEST_F(ResultMergeTest, AFileTornWithinItsCaptureHeaderIsEmptyWithAWarning) {
  const std::string a = Write("a.csv", kCaptureHeader + "1,Completed,,1,x\n");
  const std::string b = Write("b.csv", "task_id,final_status,error_info,pri");
  const std::string c = Write("c.csv", "task_id,final_status,error_info,price,");
  ResultMerge merge({a, b, c});
  std::string out;
  const MergeSummary summary = Merge(merge, out);
  EXPECT_EQ(out, kCaptureHeader + "1,Completed,,1,x\n");
  EXPECT_EQ(summary.torn, 2u);
  ASSERT_EQ(merge.warnings().size(), 2u);
  EXPECT_EQ(merge.warnings()[0].substr(0, b.size() + 3), b + ":1:");
  EXPECT_EQ(merge.warnings()[1].substr(0, c.size() + 3), c + ":1:");
  // Torn, but not the start of a header this tool writes.
  EXPECT_EQ(ReadError("task_id,final_status,error_info,pr-"),
            "1:35: capture column name \"pr-\" is not a name (letters, digits and _, not "
            "starting with a digit)");
}

}  // namespace
}  // namespace orchestrator

namespace orchestrator {
namespace {

std::string JsonRow(TaskId id, const std::string& status, const std::string& rest = "") {
  return "{\"task_id\":" + std::to_string(id) + ",\"final_status\":\"" + status +
         "\",\"error_info\":\"" + (status == "Failed" ? "HTTP 500" : "") + "\"" + rest + "}\n";
}

TEST_F(ResultMergeTest, JsonLinesMergeRowByRowWithoutAHeader) {
  const std::string a = Write("a.jsonl", JsonRow(1, "Completed", R"(,"price":24.5)") +
                                             JsonRow(2, "Failed") + JsonRow(4, "Completed"));
  const std::string b = Write("b.jsonl", JsonRow(2, "Completed", R"(,"code":200,"note":"x")") +
                                             JsonRow(3, "Failed") + JsonRow(4, "Failed"));
  const std::string empty = Write("empty.jsonl", "");
  ResultMerge merge({a, empty, b});
  std::string out;
  const std::vector<TaskId> tasks{1, 2, 3, 4, 5};
  const MergeSummary summary = Merge(merge, out, &tasks);
  EXPECT_EQ(merge.format(), ResultFormat::kJsonl);
  // Each winning row byte for byte, in file order; then the missing task, with no captures.
  EXPECT_EQ(out, JsonRow(1, "Completed", R"(,"price":24.5)") + JsonRow(4, "Completed") +
                     JsonRow(2, "Completed", R"(,"code":200,"note":"x")") + JsonRow(3, "Failed") +
                     R"({"task_id":5,"final_status":"Failed",)"
                     "\"error_info\":\"not run (no shard reported it)\"}\n");
  EXPECT_EQ(summary.completed, 3u);
  EXPECT_EQ(summary.failed, 2u);
  EXPECT_EQ(summary.duplicates, 2u);
  EXPECT_EQ(summary.missing, 1u);
}

TEST_F(ResultMergeTest, AJsonLinesFilesTornLastRowIsLeftOutWithAWarning) {
  const std::string a =
      Write("a.jsonl", JsonRow(1, "Completed") + JsonRow(2, "Completed").substr(0, 30));
  const std::string b = Write("b.jsonl", "{\"task_id\":3");
  ResultMerge merge({a, b});
  std::string out;
  const MergeSummary summary = Merge(merge, out);
  EXPECT_EQ(out, JsonRow(1, "Completed"));
  EXPECT_EQ(summary.torn, 2u);
  ASSERT_EQ(merge.warnings().size(), 2u);
  EXPECT_EQ(merge.warnings()[0],
            a + ":2: ignoring a torn last row (a shard was cut short while writing it)");
  EXPECT_EQ(merge.warnings()[1].substr(0, b.size() + 3), b + ":1:");
}

TEST_F(ResultMergeTest, MalformedJsonLinesAreInputErrorsAtFileLineColumn) {
  EXPECT_EQ(ReadError(JsonRow(1, "Completed") + "{\"task_id\":2,]\n"),
            "2:14: not JSON (syntax error)");
  EXPECT_EQ(ReadError(JsonRow(1, "Completed") + JsonRow(2, "Done")),
            "2:1: final_status \"\\\"Done\\\"\" is neither \"Completed\" nor \"Failed\"");
  EXPECT_EQ(ReadError(JsonRow(1, "Completed") + "\n"),
            "2:1: blank line (a JSON Lines result has none)");
  EXPECT_EQ(ReadError(JsonRow(7, "Completed") + JsonRow(7, "Failed")),
            "2: task_id 7 is on an earlier row of this file too (a result CSV has each task "
            "once)");
}

TEST_F(ResultMergeTest, ACsvAndJsonLinesAreAnInputErrorNamingBothFiles) {
  const std::string csv = Write("a.csv", kHeader + "1,Completed,\n");
  const std::string jsonl = Write("b.jsonl", JsonRow(2, "Completed"));
  ResultMerge merge({csv, jsonl});
  try {
    merge.Read();
    FAIL() << "read";
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()), jsonl + ":1: it is JSON Lines (it starts with {), " + csv +
                                             " is a result CSV: merge files of one format");
  }
  // A CSV cannot become JSON Lines: its cells do not say which values are JSON.
  ResultMerge csv_only({csv});
  csv_only.Read();
  try {
    csv_only.SetOutputFormat(ResultFormat::kJsonl);
    FAIL() << "converted";
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()),
              csv +
                  ": it is a result CSV, which cannot be written as JSON Lines (--format "
                  "jsonl): its cells do not say which values are JSON");
  }
  // An empty file takes the format asked for.
  ResultMerge empty({Write("e.jsonl", "")});
  empty.Read();
  empty.SetOutputFormat(ResultFormat::kJsonl);
  EXPECT_EQ(empty.format(), ResultFormat::kJsonl);
}

TEST_F(ResultMergeTest, JsonLinesWrittenAsACsvGetAColumnPerCaptureKey) {
  const std::string a =
      Write("a.jsonl", JsonRow(1, "Completed", R"(,"price":24.5,"tags":["a, b"],"none":null)") +
                           JsonRow(2, "Failed"));
  const std::string b =
      Write("b.jsonl", JsonRow(2, "Completed", R"(,"sku":"say \"hi\"","price":1E2)") +
                           JsonRow(3, "Completed", R"(,"note":"x")"));
  ResultMerge merge({a, b});
  merge.Read();
  merge.ExpectTasks({1, 2, 3, 4}, "tasks.csv");
  merge.SetOutputFormat(ResultFormat::kCsv);
  EXPECT_EQ(merge.format(), ResultFormat::kCsv);
  const std::string path = dir_ + "/merged.csv";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  {
    OutputStream stream(fd, "merged", OutputStream::FlushPolicy::kWhenAsked);
    const MergeSummary summary = merge.Write(stream);
    EXPECT_EQ(summary.completed, 3u);
    EXPECT_EQ(summary.missing, 1u);
  }
  ::close(fd);
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  // Columns in the order rows first name them; a number as written, a string unquoted,
  // quotes and commas quoted as RFC 4180 asks; a key a row lacks, an empty cell.
  EXPECT_EQ(text.str(),
            "task_id,final_status,error_info,price,tags,none,sku,note\n"
            "1,Completed,,24.5,\"[\"\"a, b\"\"]\",null,,\n"
            "2,Completed,,100,,,\"say \"\"hi\"\"\",\n"
            "3,Completed,,,,,,x\n"
            "4,Failed,not run (no shard reported it),,,,,\n");
}

}  // namespace
}  // namespace orchestrator
