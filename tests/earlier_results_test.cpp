#include "orchestrator/earlier_results.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "orchestrator/input_error.h"

#include "memory_file.h"

namespace orchestrator {
namespace {

InputFile MemoryFile(const std::string& text) { return MemoryInputFile(text, "results.csv"); }

EarlierResults Read(const std::string& text) { return ReadEarlierResults(MemoryFile(text)); }

std::string ErrorOf(const std::string& text) {
  try {
    Read(text);
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

constexpr char kHeader[] = "task_id,final_status,error_info\n";

TEST(EarlierResultsTest, KeepsCompletedIdsSortedAndChecksFailedRows) {
  const EarlierResults earlier =
      Read(std::string(kHeader) +
           "7,Completed,\n3,Failed,HTTP 503 Service Unavailable\n1,Completed,\n"
           "9,Failed,\"timed out after 10s, twice\"\n7,Completed,\n");
  EXPECT_EQ(earlier.completed, (std::vector<TaskId>{1, 7}));
  EXPECT_EQ(earlier.rows, 5u);
  EXPECT_FALSE(earlier.torn_line.has_value());
  EXPECT_TRUE(earlier.Completed(7));
  EXPECT_FALSE(earlier.Completed(3));
  EXPECT_FALSE(earlier.Completed(9));
}

TEST(EarlierResultsTest, AnEmptyOrHeaderOnlyFileRecordsNothing) {
  for (const std::string& text : {std::string(), std::string(kHeader)}) {
    const EarlierResults earlier = Read(text);
    EXPECT_TRUE(earlier.completed.empty());
    EXPECT_EQ(earlier.rows, 0u);
    EXPECT_FALSE(earlier.torn_line.has_value());
  }
}

TEST(EarlierResultsTest, LeavesOutATornLastRowAndSaysWhichLine) {
  const EarlierResults earlier = Read(std::string(kHeader) + "1,Completed,\n2,Complet");
  EXPECT_EQ(earlier.completed, (std::vector<TaskId>{1}));
  EXPECT_EQ(earlier.torn_line, 3u);
  // Even a row that looks whole is torn without its line feed: the task runs again.
  EXPECT_EQ(Read(std::string(kHeader) + "1,Completed,\n2,Completed,").completed,
            (std::vector<TaskId>{1}));
  // A torn header: nothing was recorded.
  const EarlierResults header_only = Read("task_id,final_st");
  EXPECT_TRUE(header_only.completed.empty());
  EXPECT_EQ(header_only.torn_line, 1u);
}

TEST(EarlierResultsTest, AcceptsCrlfLineEnds) {
  EXPECT_EQ(Read("task_id,final_status,error_info\r\n4,Completed,\r\n").completed,
            (std::vector<TaskId>{4}));
}

TEST(EarlierResultsTest, AnyOtherMalformedLineIsAnInputErrorWithItsLine) {
  EXPECT_EQ(ErrorOf(std::string(kHeader) + "1,Completed,\n2,Done,\n3,Completed,\n"),
            "results.csv:3:3: final_status \"Done\" is neither Completed nor Failed");
  EXPECT_EQ(ErrorOf(std::string(kHeader) + "x1,Completed,\n"),
            "results.csv:2:1: task_id \"x1\" is not a whole number from 0 to "
            "18446744073709551615");
  EXPECT_NE(ErrorOf(std::string(kHeader) + "1,Completed\n2,Completed,\n").find("results.csv:2:"),
            std::string::npos);
}

// A tasks CSV given as --resume said `Extra column "task_type" in header of file`.
TEST(EarlierResultsTest, ATasksCsvIsNotAResultCsvAndTheMessageShowsItsHeader) {
  EXPECT_EQ(ErrorOf("task_id,task_type\n1,process_data\n"),
            "results.csv:1: not a result CSV: its header is task_id,task_type; a result CSV "
            "starts task_id,final_status,error_info");
  EXPECT_EQ(ErrorOf("\n\"task_id\";final_status\n"),
            "results.csv:2: not a result CSV: its header is \"task_id\";final_status; a result "
            "CSV starts task_id,final_status,error_info");
  EXPECT_EQ(ErrorOf("task_id,final_status,error_info,task_id\n"),
            "results.csv:1: not a result CSV: its header is "
            "task_id,final_status,error_info,task_id; a result CSV starts "
            "task_id,final_status,error_info");
  // What a terminal must not see is escaped, and a long header is cut.
  EXPECT_EQ(ErrorOf("id\x1b]0;x\x07\n"),
            "results.csv:1: not a result CSV: its header is id\\x1b]0;x\\x07; a result CSV "
            "starts task_id,final_status,error_info");
  EXPECT_LT(ErrorOf(std::string(5000, 'a') + "\n").size(), 250u);
}

TEST(EarlierResultsTest, KeepsTheCapturedValuesOfCompletedRowsByThisRunsColumns) {
  const std::string columns[] = {"etag", "price"};  // this run's, in its order
  const EarlierResults earlier =
      ReadEarlierResults(MemoryFile("task_id,final_status,error_info,price,old,etag\n"
                                    "1,Completed,,12.5,x,\"\"\"e1\"\"\"\n"
                                    "2,Failed,HTTP 500,3,y,e2\n"
                                    "3,Completed,,,,\n"
                                    "4,Completed,,\"a, b\",z,\x1b[31m\n"),
                         columns);
  EXPECT_EQ(earlier.completed, (std::vector<TaskId>{1, 3, 4}));
  EXPECT_EQ(earlier.dropped_columns, std::vector<std::string>{"old"});
  EXPECT_EQ(earlier.CapturedOf(1).Find(0), "\"e1\"");
  EXPECT_EQ(earlier.CapturedOf(1).Find(1), "12.5");
  EXPECT_TRUE(earlier.CapturedOf(2).empty());  // failed: it runs again
  EXPECT_TRUE(earlier.CapturedOf(3).empty());
  EXPECT_EQ(earlier.CapturedOf(4).Find(1), "a, b");
  // A file edited by hand brings no control character into a row.
  EXPECT_EQ(earlier.CapturedOf(4).Find(0), "\xEF\xBF\xBD[31m");
  // A header whose extra columns are no captures' names is no result CSV of ours.
  EXPECT_NE(ErrorOf("task_id,final_status,error_info,price,price\n").find("not a result CSV"),
            std::string::npos);
  EXPECT_NE(ErrorOf("task_id,final_status,error_info,2x\n").find("not a result CSV"),
            std::string::npos);
}

// What the earlier run captured for `id`, column by column: text, or JSON marked (json)
// ("-" where nothing was).
std::string CapturedCells(const EarlierResults& earlier, TaskId id, std::size_t columns) {
  std::string cells;
  const CapturedValues values = earlier.CapturedOf(id);
  for (std::size_t column = 0; column < columns; ++column) {
    if (column > 0) cells += '|';
    const std::optional<CapturedValue> value = values.FindValue(column);
    cells += !value ? "-" : std::string(value->text) + (value->json() ? "(json)" : "");
  }
  return cells;
}

TEST(EarlierResultsTest, ReadsJsonLinesToldByTheirFirstByte) {
  const std::string columns[] = {"etag", "price", "meta"};  // this run's, in its order
  const EarlierResults earlier = ReadEarlierResults(
      MemoryInputFile(
          R"({"task_id":7,"final_status":"Completed","error_info":"","price":24.5,"old":1,)"
          R"("etag":"\"e1\"","meta":{"a":[1,2.50,"x"]}})"
          "\n"
          R"({"task_id":3,"final_status":"Failed","error_info":"HTTP 500","price":3})"
          "\n"
          R"({"task_id":18446744073709551615,"final_status":"Completed","error_info":"",)"
          R"("price":"12","etag":"\u001b[31m","new":2,"old":3})"
          "\n"
          R"({"task_id":1,"final_status":"Completed","error_info":""})"
          "\n",
          "results.jsonl"),
      columns);
  EXPECT_EQ(earlier.completed, (std::vector<TaskId>{1, 7, 18446744073709551615u}));
  EXPECT_EQ(earlier.rows, 4u);
  EXPECT_FALSE(earlier.torn_line.has_value());
  EXPECT_EQ(earlier.dropped_columns, (std::vector<std::string>{"old", "new"}));
  // Numbers and objects keep their JSON (compact, numbers as written); strings are text,
  // made safe as a capture makes them.
  EXPECT_EQ(CapturedCells(earlier, 7, 3), "\"e1\"|24.5(json)|{\"a\":[1,2.5,\"x\"]}(json)");
  EXPECT_EQ(CapturedCells(earlier, 18446744073709551615u, 3), "\xEF\xBF\xBD[31m|12|-");
  EXPECT_TRUE(earlier.CapturedOf(3).empty());  // failed: it runs again
  EXPECT_TRUE(earlier.CapturedOf(1).empty());
}

TEST(EarlierResultsTest, JsonLinesLeaveOutATornLastRowAndSayWhichLine) {
  const std::string one = R"({"task_id":1,"final_status":"Completed","error_info":""})";
  const EarlierResults earlier =
      ReadEarlierResults(MemoryInputFile(one + "\n" + one.substr(0, 20), "r.jsonl"));
  EXPECT_EQ(earlier.completed, (std::vector<TaskId>{1}));
  EXPECT_EQ(earlier.torn_line, 2u);
  // Even a row that looks whole is torn without its line feed: the task runs again.
  const EarlierResults whole = ReadEarlierResults(MemoryInputFile(
      one + "\n" + R"({"task_id":2,"final_status":"Completed","error_info":""})", "r.jsonl"));
  EXPECT_EQ(whole.completed, (std::vector<TaskId>{1}));
  EXPECT_EQ(whole.torn_line, 2u);
  // Torn within the first row: nothing was recorded.
  const EarlierResults first = ReadEarlierResults(MemoryInputFile("{\"task_id\":1,", "r.jsonl"));
  EXPECT_TRUE(first.completed.empty());
  EXPECT_EQ(first.torn_line, 1u);
}

TEST(EarlierResultsTest, AMalformedJsonLineIsAnInputErrorAtItsLineAndColumn) {
  const std::string one = R"({"task_id":1,"final_status":"Completed","error_info":""})";
  const auto error_of = [](const std::string& text) {
    try {
      ReadEarlierResults(MemoryInputFile(text, "r.jsonl"));
    } catch (const InputError& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of(one + "\n" + R"({"task_id":2,"final_status":"Done","error_info":""})" + "\n"),
            "r.jsonl:2:1: final_status \"\\\"Done\\\"\" is neither \"Completed\" nor \"Failed\"");
  EXPECT_EQ(error_of(one + "\n\n" + one + "\n"),
            "r.jsonl:2:1: blank line (a JSON Lines result has none)");
  EXPECT_EQ(error_of(one + "\n{\"task_id\":2,]\n"), "r.jsonl:2:14: not JSON (syntax error)");
  EXPECT_EQ(error_of(one + "\n" + one + "x\n"),
            "r.jsonl:2:57: text after the JSON object (a result row is one object on one line)");
  EXPECT_EQ(error_of(one + "\n" + std::string("{\"a\":\"\0\"}\n", 10)),
            "r.jsonl:2: NUL byte in the input (is this a text file?)");
}

TEST(EarlierResultsTest, ACsvCellIsAJsonValueWhereThisRunsCaptureOfItsColumnSaysSo) {
  const auto capture = [](const std::string& name, const std::string& spec, std::size_t column) {
    return Capture{name, std::get<CaptureSpec>(CaptureSpec::Parse(spec)), column};
  };
  const Capture captures[] = {capture("code", "status", 0), capture("price", "json:/p", 1),
                              capture("etag", "header:ETag", 2), capture("mixed", "size", 3),
                              capture("mixed", "url", 3)};
  const Capture* all[] = {&captures[0], &captures[1], &captures[2], &captures[3], &captures[4]};
  const std::vector<CsvCellReading> readings = CsvCellReadings(all, 5);
  EXPECT_EQ(readings, (std::vector<CsvCellReading>{
                          CsvCellReading::kJsonValue, CsvCellReading::kJsonValue,
                          CsvCellReading::kText, CsvCellReading::kText, CsvCellReading::kText}));
  const std::string columns[] = {"code", "price", "etag", "mixed", "unused"};
  const EarlierResults earlier =
      ReadEarlierResults(MemoryFile("task_id,final_status,error_info,code,price,etag,mixed,unused\n"
                                    "1,Completed,,200,12.5,7,8,9\n"
                                    "2,Completed,,200,\"{\"\"a\"\":1}\",,,\n"
                                    "3,Completed,,200,\"\"\"s\"\"\",,,\n"
                                    "4,Completed,,oops,a b,,,\n"),
                         columns, readings);
  EXPECT_EQ(CapturedCells(earlier, 1, 5), "200(json)|12.5(json)|7|8|9");
  EXPECT_EQ(CapturedCells(earlier, 2, 5), "200(json)|{\"a\":1}(json)|-|-|-");
  EXPECT_EQ(CapturedCells(earlier, 3, 5), "200(json)|\"s\"|-|-|-");
  EXPECT_EQ(CapturedCells(earlier, 4, 5), "oops|a b|-|-|-");
}

TEST(EarlierResultsTest, ReadsAPipeToItsEnd) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const std::string text = std::string(kHeader) + "5,Completed,\n6,Failed,cancelled\n";
  std::thread writer([&] {
    EXPECT_EQ(::write(fds[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fds[1]);
  });
  const EarlierResults earlier = ReadEarlierResults(InputFile(fds[0], "<pipe>"));
  writer.join();
  EXPECT_EQ(earlier.completed, (std::vector<TaskId>{5}));
}

std::vector<TaskId> Ids(const TaskList& list) {
  std::vector<TaskId> ids;
  for (const Task& task : list.tasks) ids.push_back(task.id);
  return ids;
}

TEST(EarlierResultsTest, TakeCompletedKeepsInputOrderOnBothSides) {
  TaskList tasks;
  tasks.tasks = {{5, 0}, {1, 0}, {9, 0}, {3, 0}, {7, 0}};
  EarlierResults earlier;
  earlier.completed = {3, 5, 42};  // 42 is not in the input: ignored
  EXPECT_EQ(TakeCompleted(tasks, earlier), (std::vector<TaskId>{5, 3}));
  EXPECT_EQ(Ids(tasks), (std::vector<TaskId>{1, 9, 7}));
  EXPECT_TRUE(tasks.graph.empty());
}

TEST(EarlierResultsTest, TakeCompletedKeepsTheGraphInStepWithTheTasks) {
  // 5 -> 1 (depends_on), 5 -> 9 (after), 1 -> 3, 9 -> 7 (after), by index.
  TaskList tasks;
  tasks.tasks = {{5, 0}, {1, 0}, {9, 0}, {3, 0}, {7, 0}};
  tasks.graph = TaskGraph::FromEdges(5, {{0, 1, Dependency::kSuccess},
                                         {0, 2, Dependency::kFinish},
                                         {1, 3, Dependency::kSuccess},
                                         {2, 4, Dependency::kFinish}});
  EarlierResults earlier;
  earlier.completed = {3, 5};  // a parent done, and a child done before its parent
  EXPECT_EQ(TakeCompleted(tasks, earlier), (std::vector<TaskId>{5, 3}));
  ASSERT_EQ(Ids(tasks), (std::vector<TaskId>{1, 9, 7}));
  // 1 and 9 wait for nobody now; 7 still waits for 9, at their new indices.
  ASSERT_EQ(tasks.graph.task_count(), 3u);
  EXPECT_EQ(tasks.graph.edge_count(), 1u);
  EXPECT_EQ(tasks.graph.ParentCount(0), 0u);
  EXPECT_EQ(tasks.graph.ParentCount(1), 0u);
  EXPECT_EQ(tasks.graph.ParentCount(2), 1u);
  std::vector<TaskIndex> children_of_9;
  tasks.graph.ForEachChild(1, [&](const Dependent& d) {
    children_of_9.push_back(d.child);
    EXPECT_EQ(d.kind, Dependency::kFinish);
  });
  EXPECT_EQ(children_of_9, (std::vector<TaskIndex>{2}));
}

TEST(EarlierResultsTest, TakeCompletedWithNothingEarlierLeavesTheGraph) {
  TaskList tasks;
  tasks.tasks = {{5, 0}, {1, 0}};
  tasks.graph = TaskGraph::FromEdges(2, {{0, 1, Dependency::kSuccess}});
  EarlierResults earlier;
  earlier.completed = {42};
  EXPECT_TRUE(TakeCompleted(tasks, earlier).empty());
  EXPECT_EQ(tasks.graph.edge_count(), 1u);
  EXPECT_EQ(tasks.graph.ParentCount(1), 1u);
}

}  // namespace
}  // namespace orchestrator
