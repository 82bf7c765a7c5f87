#include "orchestrator/task_reader.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>

#include "orchestrator/byte_size.h"
#include "orchestrator/input_error.h"

#include "memory_file.h"

namespace orchestrator {
namespace {

InputFile MemoryFile(const std::string& text) { return MemoryInputFile(text, "tasks.csv"); }

TaskList Read(const std::string& text) { return ReadTasks(MemoryFile(text)); }

// Duplicates first go after 4,096 rows here, not 2^20: thousands of rows test what millions
// would, in a fraction of the time (a sanitizer's build took over a minute for the millions).
constexpr std::size_t kFirstCompaction = 4096;
TaskList ReadCompactingEarly(const std::string& text, const TaskKinds* kinds = nullptr,
                             std::size_t max_value_bytes = ColumnTable::kMaxBytes) {
  return ReadTasks(MemoryFile(text), kinds, {}, {max_value_bytes, kFirstCompaction});
}

std::vector<TaskId> Ids(const TaskList& list) {
  std::vector<TaskId> ids;
  for (const Task& task : list.tasks) ids.push_back(task.id);
  return ids;
}

// The message a bad input gives, or "" if it was accepted.
std::string ErrorOf(const std::string& text) {
  try {
    Read(text);
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

TEST(TaskReaderTest, ReadsTheSeedExample) {
  const TaskList list = Read(
      "task_id,task_type\n101,process_data\n102,process_data\n101,process_data\n"
      "103,process_data\n");
  EXPECT_EQ(Ids(list), (std::vector<TaskId>{101, 102, 103})) << "the first 101 is kept";
  EXPECT_EQ(list.rows, 4u);
  ASSERT_EQ(list.type_names.size(), 1u);
  EXPECT_EQ(list.TypeName(list.tasks[0]), "process_data");
}

TEST(TaskReaderTest, MatchesColumnsByNameInAnyOrderAndIgnoresOthers) {
  const TaskList list = Read("note,task_type,extra,task_id\nhello,a,x,7\nbye,b,y,8\n");
  EXPECT_EQ(Ids(list), (std::vector<TaskId>{7, 8}));
  EXPECT_EQ(list.TypeName(list.tasks[1]), "b");
}

TEST(TaskReaderTest, TaskTypeColumnIsOptional) {
  const TaskList list = Read("task_id\n5\n6\n");
  EXPECT_EQ(Ids(list), (std::vector<TaskId>{5, 6}));
  EXPECT_EQ(list.TypeName(list.tasks[0]), "");
}

TEST(TaskReaderTest, AcceptsQuotedFields) {
  const TaskList list = Read("task_id,task_type\n\"42\",\"a,b\"\n43,\"say \"\"hi\"\"\"\n");
  EXPECT_EQ(Ids(list), (std::vector<TaskId>{42, 43}));
  EXPECT_EQ(list.TypeName(list.tasks[0]), "a,b");
  EXPECT_EQ(list.TypeName(list.tasks[1]), "say \"hi\"");
}

TEST(TaskReaderTest, AcceptsCrlfBomBlankLinesAndNoFinalNewline) {
  const TaskList list = Read("\xEF\xBB\xBFtask_id,task_type\r\n\r\n1,a\r\n\n  \n2,b\r\n3,c");
  EXPECT_EQ(Ids(list), (std::vector<TaskId>{1, 2, 3}));
  EXPECT_EQ(list.TypeName(list.tasks[2]), "c");
}

TEST(TaskReaderTest, ToleratesBlanksAroundIdsAndLeadingZeros) {
  EXPECT_EQ(Ids(Read("task_id,task_type\n  7\t,a\n\" 8 \",a\n0000042,a\n")),
            (std::vector<TaskId>{7, 8, 42}));
}

TEST(TaskReaderTest, ReadsTheWholeUnsigned64BitRange) {
  EXPECT_EQ(Ids(Read("task_id\n0\n18446744073709551615\n")),
            (std::vector<TaskId>{0, 18446744073709551615u}));
}

TEST(TaskReaderTest, EmptyInputAndHeaderOnlyGiveNoTasks) {
  EXPECT_TRUE(Read("").tasks.empty());
  EXPECT_TRUE(Read("task_id,task_type\n").tasks.empty());
  EXPECT_TRUE(Read("task_id,task_type").tasks.empty());
}

TEST(TaskReaderTest, RejectsBadIdsWithTheirLine) {
  EXPECT_EQ(ErrorOf("task_id,task_type\n1,a\n,a\n"), "tasks.csv:3:1: task_id is empty");
  EXPECT_EQ(ErrorOf("task_id,task_type\n\"\",a\n"), "tasks.csv:2:2: task_id is empty");
  EXPECT_EQ(ErrorOf("task_id,task_type\n  ,a\n"), "tasks.csv:2:3: task_id is empty");
  for (const char* bad : {"-1", "+5", "abc", "1 2", "1.5", "1e3", "0x10", "5x", "-0"}) {
    EXPECT_EQ(ErrorOf(std::string("task_id,task_type\n") + bad + ",a\n"),
              std::string("tasks.csv:2:1: task_id \"") + bad +
                  "\" is not a whole number from 0 to 18446744073709551615")
        << bad;
  }
  EXPECT_EQ(ErrorOf("task_id\n1\n18446744073709551616\n"),
            "tasks.csv:3:1: task_id \"18446744073709551616\" is larger than "
            "18446744073709551615");
  // The column is where the value the message shows starts: past the quote and the blanks
  // inside it, which the task_id's reading trims (found by the fuzzer).
  EXPECT_EQ(ErrorOf("task_id,task_type\n 7,a\n\" (44 \",x\n"),
            "tasks.csv:3:3: task_id \"(44\" is not a whole number from 0 to 18446744073709551615");
}

TEST(TaskReaderTest, CountsPhysicalLinesPastBlankLinesAndBom) {
  EXPECT_EQ(ErrorOf("\xEF\xBB\xBFtask_id,task_type\r\n\r\n1,a\r\n\r\nx,b\r\n"),
            "tasks.csv:5:1: task_id \"x\" is not a whole number from 0 to 18446744073709551615");
}

TEST(TaskReaderTest, RejectsRowsWithTooFewOrTooManyFields) {
  EXPECT_EQ(ErrorOf("task_id,task_type\n1,a\n2\n"),
            "tasks.csv:3: fewer fields than the header has");
  EXPECT_EQ(ErrorOf("task_id,task_type\n1,a,b\n"), "tasks.csv:2: more fields than the header has");
}

TEST(TaskReaderTest, RejectsLineBreaksInsideQuotedFieldsSayingSo) {
  EXPECT_EQ(ErrorOf("task_id,task_type\n1,\"two\nlines\"\n"),
            "tasks.csv:2: quoted field not closed on this line (line breaks inside quoted "
            "fields are not supported)");
}

TEST(TaskReaderTest, RejectsHeaderProblemsOnTheHeaderLine) {
  EXPECT_EQ(ErrorOf("id,task_type\n1,a\n"),
            "tasks.csv:1: no task_id column in the header \"id,task_type\" (names are "
            "case-sensitive)");
  EXPECT_EQ(ErrorOf("\n\nTask_ID\n1\n"),
            "tasks.csv:3: no task_id column in the header \"Task_ID\" (names are "
            "case-sensitive)");
  EXPECT_EQ(ErrorOf("task_id,task_type,task_id\n1,a,1\n"),
            "tasks.csv:1: column \"task_id\" appears twice in the header");
}

// Without task_id the message shows the header and guesses why (issue 25): another
// separator, or no header line at all. Both readers (plain, and with blueprints) say the same.
TEST(TaskReaderTest, AHeaderWithoutTaskIdIsShownWithAGuessWhy) {
  const TaskKindTable kinds("kinds.toml");
  const auto both = [&](const std::string& text) {
    std::string with_kinds;
    try {
      ReadTasks(MemoryFile(text), &kinds);
    } catch (const InputError& error) {
      with_kinds = error.what();
    }
    EXPECT_EQ(with_kinds, ErrorOf(text)) << text;
    return ErrorOf(text);
  };
  EXPECT_EQ(both("id;type\n1;a\n"),
            "tasks.csv:1: no task_id column in the header \"id;type\" (the separator is a "
            "comma; is this file separated by ';'?)");
  EXPECT_EQ(both("task_id\ttask_type\n1\ta\n"),
            "tasks.csv:1: no task_id column in the header \"task_id\\x09task_type\" (the "
            "separator is a comma; is this file separated by a tab?)");
  EXPECT_EQ(both("1,foo\n2,bar\n"),
            "tasks.csv:1: no task_id column in the header \"1,foo\" (does the file lack its "
            "header line?)");
  EXPECT_EQ(both("\xef\xbb\xbf\r\n \"7\" ,x\r\n"),
            "tasks.csv:2: no task_id column in the header \" \\\"7\\\" ,x\" (does the file "
            "lack its header line?)");
  // What a terminal must not see is escaped, and a long header is cut.
  EXPECT_EQ(both("id\x1b[2J;x\n"),
            "tasks.csv:1: no task_id column in the header \"id\\x1b[2J;x\" (the separator is "
            "a comma; is this file separated by ';'?)");
  const std::string message = both(std::string(5000, 'a') + ",b\n");
  EXPECT_LT(message.size(), 200u) << message;
  EXPECT_NE(message.find("aaa...\" (names are case-sensitive)"), std::string::npos) << message;
}

TEST(TaskReaderTest, RejectsNulBytesLoneCarriageReturnsAndHugeLines) {
  EXPECT_EQ(ErrorOf(std::string("task_id,task_type\n1,a\n2,b\0c\n", 27)),
            "tasks.csv:3: NUL byte in the input (is this a text file?)");
  EXPECT_EQ(ErrorOf("task_id,task_type\r1,a\r2,b\r"),
            "tasks.csv:1: carriage return not followed by a line feed (only LF and CRLF line "
            "ends are read)");
  // ... also as the very last byte, where no next byte shows it is alone (found by the fuzzer).
  EXPECT_EQ(ErrorOf("task_id\n1\r"),
            "tasks.csv:2: carriage return not followed by a line feed (only LF and CRLF line "
            "ends are read)");
  const std::string long_line = "task_id,task_type\n1,a\n2," + std::string(kMaxLineLength, 'x');
  EXPECT_EQ(ErrorOf(long_line), "tasks.csv:3: line longer than 1048576 bytes");
}

TEST(TaskReaderTest, TheLineLimitCountsTheSameWithLfAndCrlf) {
  const std::string fields = "1," + std::string(kMaxLineLength - 2, 'x');  // exactly the limit
  for (const char* end : {"\n", "\r\n"}) {
    SCOPED_TRACE(end == std::string("\n") ? "LF" : "CRLF");
    const TaskList list = Read(std::string("task_id,task_type") + end + fields + end);
    ASSERT_EQ(list.tasks.size(), 1u);
    EXPECT_EQ(list.type_names[list.tasks[0].type].size(), kMaxLineLength - 2);
  }
}

TEST(TaskReaderTest, ReportsTheEarliestProblemInFileOrder) {
  // The parser's error (line 3) comes before the byte check's (line 4) ...
  EXPECT_EQ(ErrorOf(std::string("task_id,task_type\n1,a\n2\n3,\0\n", 28)),
            "tasks.csv:3: fewer fields than the header has");
  // ... and the byte check's (line 2) before anything the parser could say later.
  EXPECT_EQ(ErrorOf(std::string("task_id,task_type\n1,\0\n2\n", 25)),
            "tasks.csv:2: NUL byte in the input (is this a text file?)");
}

TEST(TaskReaderTest, QuotesHostileInputInMessagesBriefly) {
  const std::string message = ErrorOf("task_id\n\x1b[31m" + std::string(100, 'z') + "\n");
  EXPECT_EQ(message, "tasks.csv:2:1: task_id \"\\x1b[31m" + std::string(35, 'z') +
                         "...\" is not a whole number from 0 to 18446744073709551615");
}

TEST(TaskReaderTest, StoresEachTaskTypeOnce) {
  std::string text = "task_id,task_type\n";
  for (int i = 0; i < 1000; ++i) text += std::to_string(i) + (i % 2 ? ",odd\n" : ",even\n");
  const TaskList list = Read(text);
  EXPECT_EQ(list.tasks.size(), 1000u);
  EXPECT_EQ(list.type_names.size(), 2u);
  EXPECT_EQ(list.TypeName(list.tasks[3]), "odd");
}

// One task and 100,000 duplicate rows each with a new task_type took 400 MB in a run: every
// type got its blueprint, its counters and its lines in the report and the metrics file.
TEST(TaskReaderTest, ADuplicateRowsTaskTypeIsNotKept) {
  const TaskList list = Read("task_id,task_type\n1,a\n1,b\n2,c\n1,d\n2,e\n3,c\n");
  EXPECT_EQ(Ids(list), (std::vector<TaskId>{1, 2, 3}));
  EXPECT_EQ(list.type_names, (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(list.TypeName(list.tasks[0]), "a");
  EXPECT_EQ(list.TypeName(list.tasks[1]), "c");
  EXPECT_EQ(list.TypeName(list.tasks[2]), "c");

  std::string text = "task_id,task_type\n7,first\n";
  for (int row = 0; row < 100'000; ++row) text += "7,type" + std::to_string(row) + "\n";
  const TaskList duplicates = Read(text);
  EXPECT_EQ(duplicates.rows, 100'001u);
  ASSERT_EQ(duplicates.tasks.size(), 1u);
  EXPECT_EQ(duplicates.type_names, std::vector<std::string>{"first"});
}

TEST(TaskReaderTest, ReadsInputsLargerThanTheParsersBuffer) {
  // Past 32 MiB the parser reads in further blocks; rows must not be lost at the seams.
  std::string text = "task_id,task_type\n";
  const std::string padding(200, 'p');
  std::size_t rows = 0;
  while (text.size() < (std::size_t{40} << 20)) {
    text += std::to_string(rows++) + "," + padding + "\n";
  }
  const TaskList list = Read(text);
  ASSERT_EQ(list.tasks.size(), rows);
  EXPECT_EQ(list.tasks.back().id, rows - 1);
}

TEST(InputFileTest, NamesMissingFilesAndDirectories) {
  try {
    InputFile::Open("/nonexistent/tasks.csv");
    FAIL() << "opened a missing file";
  } catch (const InputError& error) {
    EXPECT_STREQ(error.what(), "/nonexistent/tasks.csv: cannot open: No such file or directory");
  }
  try {
    InputFile::Open("/tmp");
    FAIL() << "opened a directory";
  } catch (const InputError& error) {
    EXPECT_STREQ(error.what(), "/tmp: is a directory, not a CSV file");
  }
}

TEST(InputFileTest, DashIsStandardInput) {
  const InputFile input = InputFile::Open("-");
  EXPECT_EQ(input.fd(), STDIN_FILENO);
  EXPECT_EQ(input.name(), "<stdin>");
}

TEST(TaskReaderTest, DropsDuplicatesWhileReadingAndKeepsEachFirstOccurrence) {
  // 20,000 rows over 1,500 ids: past the first compactions while reading.
  std::string text = "task_id,task_type\n";
  constexpr std::size_t kRows = 20'000, kUnique = 1500;
  for (std::size_t row = 0; row < kRows; ++row) {
    text += std::to_string((row * 7) % kUnique);
    text += row < kUnique ? ",first\n" : ",later\n";
  }
  const TaskList list = ReadCompactingEarly(text);
  EXPECT_EQ(list.rows, kRows);
  ASSERT_EQ(list.tasks.size(), kUnique);
  for (std::size_t i = 0; i < kUnique; ++i) {
    EXPECT_EQ(list.tasks[i].id, (i * 7) % kUnique) << i;
    EXPECT_EQ(list.TypeName(list.tasks[i]), "first") << i;
  }
}

// ---- Typed columns (ReadTasks with TaskKinds) ----

// The blueprints of data/kinds.toml, and a catch-all when asked.
TaskKindTable Kinds(bool catch_all = false) {
  TaskKindTable kinds("kinds.toml");
  kinds.Add("ingest", {{{"region", ColumnType::kString}, {"size", ColumnType::kU32}}});
  kinds.Add("notify", {{{"channel", ColumnType::kString}, {"wait", ColumnType::kDuration}}});
  if (catch_all) kinds.Add("*", {});
  return kinds;
}

TaskList ReadWith(const std::string& text, const TaskKinds& kinds) {
  return ReadTasks(MemoryFile(text), &kinds);
}

std::string ErrorWith(const std::string& text, const TaskKinds& kinds) {
  try {
    ReadWith(text, kinds);
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

using Values = std::vector<std::string>;

// A task's values, or {"none"} when it has no row.
Values ValuesOf(const TaskList& list, const Task& task) {
  if (task.values == kNoValues) return {"none"};
  Values values;
  for (std::size_t k = 0; k < list.values.ValueCount(task.values); ++k) {
    values.emplace_back(list.Value(task, k));
  }
  return values;
}

TEST(TaskReaderColumnsTest, KeepsEachKindsColumnsInItsOrderAndCanonicalForm) {
  const TaskList list = ReadWith(
      "size,channel,task_id,wait,task_type,region,note\n"
      "012,,1,,ingest,eu-west,hello\n"
      ",ops,2,1.5s,notify,,bye\n"
      "7, x ,3,,other,\" us east \",\n",
      Kinds(true));
  ASSERT_EQ(list.tasks.size(), 3u);
  EXPECT_EQ(ValuesOf(list, list.tasks[0]), (Values{"eu-west", "12"}));
  EXPECT_EQ(ValuesOf(list, list.tasks[1]), (Values{"ops", "1.5s"}));
  EXPECT_EQ(ValuesOf(list, list.tasks[2]), Values{"none"}) << "the catch-all declares none";
  EXPECT_EQ(list.TypeName(list.tasks[2]), "other");
  EXPECT_EQ(list.values.rows(), 2u) << "rows only for the tasks that need them";
}

TEST(TaskReaderColumnsTest, KeepsOnlyTheColumnsTheKindDeclares) {
  TaskKindTable kinds("kinds.toml");
  kinds.Add("a", {{{"y", ColumnType::kString}}});
  const TaskList list =
      ReadWith("task_id,task_type,x,y,z\n1,a,xx,\" a longer value, kept \",zz\n2,a,,,\n", kinds);
  EXPECT_EQ(ValuesOf(list, list.tasks[0]), Values{" a longer value, kept "});
  EXPECT_EQ(ValuesOf(list, list.tasks[1]), Values{""});
  // Two row starts, the two values with a length byte each, and the string's NUL.
  EXPECT_EQ(list.values.MemoryBytes(), 2 * 4 + (1 + 22) + (1 + 0) + 1);
}

TEST(TaskReaderColumnsTest, RefusesATaskTypeWithNoBlueprintAtItsFirstRow) {
  EXPECT_EQ(ErrorWith("task_id,task_type,region,size\n1,ingest,eu,1\n\n3,ingset,eu,1\n"
                      "4,ingset,eu,1\n",
                      Kinds()),
            "tasks.csv:4:3: task_type \"ingset\" has no blueprint in kinds.toml (known: ingest, "
            "notify)");
  // No task_type column: every task's type is the empty one.
  EXPECT_EQ(ErrorWith("task_id\n1\n", Kinds()),
            "tasks.csv:2: task_type \"\" has no blueprint in kinds.toml (known: ingest, notify)");
  EXPECT_EQ(ReadWith("task_id\n1\n", Kinds(true)).tasks.size(), 1u);
}

TEST(TaskReaderColumnsTest, TheCatchAllKindTakesEveryOtherType) {
  TaskKindTable kinds("k.toml");
  kinds.Add("*", {{{"n", ColumnType::kI64}}});
  kinds.Add("plain", {});
  const TaskList list = ReadWith("task_id,task_type,n\n1,x,-5\n2,y,6\n3,plain,oops\n", kinds);
  EXPECT_EQ(ValuesOf(list, list.tasks[0]), Values{"-5"});
  EXPECT_EQ(ValuesOf(list, list.tasks[1]), Values{"6"});
  EXPECT_EQ(ValuesOf(list, list.tasks[2]), Values{"none"});
  EXPECT_EQ(ErrorWith("task_id,task_type,n\n1,x,-5\n2,y,6x\n", kinds),
            "tasks.csv:3:5: column n: \"6x\" is not an i64");
}

TEST(TaskReaderColumnsTest, RefusesAColumnTheHeaderLacksAtTheFirstRowThatNeedsIt) {
  const std::string header = "task_id,task_type,region\n";
  // Only the rows of a kind need its columns.
  EXPECT_EQ(ReadWith(header + "1,other,x\n", Kinds(true)).tasks.size(), 1u);
  EXPECT_EQ(ErrorWith(header + "1,other,x\n2,ingest,eu\n3,ingest,eu\n", Kinds(true)),
            "tasks.csv:3: task_type \"ingest\" needs column \"size\" (kinds.toml), which the "
            "header does not have");
  EXPECT_EQ(ErrorWith("task_id,task_type,Region,size\n1,ingest,eu,1\n", Kinds()),
            "tasks.csv:2: task_type \"ingest\" needs column \"region\" (kinds.toml), which the "
            "header does not have")
      << "names are case-sensitive";
}

TEST(TaskReaderColumnsTest, RefusesAColumnTheHeaderHasTwiceOnlyWhenARowNeedsIt) {
  const std::string text = "task_id,task_type,size,region,size\n1,other,1,eu,2\n";
  EXPECT_EQ(ReadWith(text, Kinds(true)).tasks.size(), 1u);
  EXPECT_EQ(ErrorWith(text + "2,ingest,1,eu,2\n", Kinds(true)),
            "tasks.csv:3: task_type \"ingest\" needs column \"size\" (kinds.toml), which the "
            "header has twice");
  // task_id and task_type are refused at once, as without kinds.
  EXPECT_EQ(ErrorWith("task_id,task_type,task_type\n1,a,a\n", Kinds(true)),
            "tasks.csv:1: column \"task_type\" appears twice in the header");
}

TEST(TaskReaderColumnsTest, RefusesABadValueNamingTheColumnOnItsPhysicalLine) {
  const std::string header = "task_id,task_type,region,size,channel,wait\n";
  EXPECT_EQ(ErrorWith(header + "1,ingest,eu,1,,\n2,ingest,eu,2,,\n\n3,ingest,eu,3,,\n"
                               "4,notify,,,ops,5s\n\r\n7,ingest,eu,12x,,\n8,ingest,eu,zz,,\n",
                      Kinds()),
            "tasks.csv:8:13: column size: \"12x\" is not a u32");
  EXPECT_EQ(ErrorWith(header + "1,notify,,,ops,5 s\n", Kinds()),
            "tasks.csv:2:16: column wait: \"5 s\" is not a duration (like 250ms, 1.5s, 10, 2m or "
            "1h)");
  EXPECT_EQ(ErrorWith(header + "1,ingest,eu,,,\n", Kinds()),
            "tasks.csv:2:13: column size: \"\" is not a u32");
  // The value as the parser hands it over: unquoted, blanks around it dropped.
  EXPECT_EQ(ErrorWith(header + "1,ingest,eu, \" 5\" ,,\n", Kinds()),
            "tasks.csv:2:15: column size: \" 5\" is not a u32");
  // The task_id first, then the columns in the kind's order.
  EXPECT_EQ(ErrorWith(header + "x,ingest,eu,y,,\n", Kinds()),
            "tasks.csv:2:1: task_id \"x\" is not a whole number from 0 to 18446744073709551615");
  TaskKindTable two("kinds.toml");
  two.Add("t", {{{"b", ColumnType::kBool}, {"a", ColumnType::kF64}}});
  EXPECT_EQ(ErrorWith("task_id,task_type,a,b\n1,t,x,y\n", two),
            "tasks.csv:2:7: column b: \"y\" is not a bool (true or false)");
}

TEST(TaskReaderColumnsTest, ReadsI32F32BytesAndJsonColumns) {
  TaskKindTable kinds("kinds.toml");
  kinds.Add("t", {{{"i", ColumnType::kI32},
                   {"f", ColumnType::kF32},
                   {"b", ColumnType::kBytes},
                   {"j", ColumnType::kJson}}});
  // A json value with commas and quotes is a quoted CSV field.
  const TaskList list = ReadWith(
      "task_id,task_type,i,f,b,j\n"
      "1,t,-007,0.30000000000000004,AAEC/w==,\"{\"\"a\"\": [1,\t 2]}\"\n"
      "2,t,0,1e-45,,null\n",
      kinds);
  ASSERT_EQ(list.tasks.size(), 2u);
  EXPECT_EQ(ValuesOf(list, list.tasks[0]),
            (Values{"-7", "0.3", std::string("\0\x01\x02\xff", 4), "{\"a\": [1,\t 2]}"}));
  EXPECT_EQ(ValuesOf(list, list.tasks[1]), (Values{"0", "1e-45", "", "null"}));
}

TEST(TaskReaderColumnsTest, RefusesABadI32F32BytesOrJsonValueAtItsLine) {
  TaskKindTable kinds("kinds.toml");
  kinds.Add("t", {{{"i", ColumnType::kI32},
                   {"f", ColumnType::kF32},
                   {"b", ColumnType::kBytes},
                   {"j", ColumnType::kJson}}});
  const std::string header = "task_id,task_type,i,f,b,j\n";
  const std::string good = "1,t,1,1,YQ==,\"\"\"x\"\"\"\n";
  EXPECT_EQ(ErrorWith(header + good + "2,t,2147483648,1,,1\n", kinds),
            "tasks.csv:3:5: column i: \"2147483648\" is not an i32 (larger than 2147483647)");
  EXPECT_EQ(ErrorWith(header + good + "2,t,1,1e39,,1\n", kinds),
            "tasks.csv:3:7: column f: \"1e39\" is not an f32 (out of range)");
  EXPECT_EQ(ErrorWith(header + good + "\n2,t,1,1,ab$c,1\n", kinds),
            "tasks.csv:4:9: column b: \"ab$c\" is not bytes (base64: \"$\" at byte 3)");
  EXPECT_EQ(ErrorWith(header + "1,t,1,1,,\"[1, 2]\"\n2,t,1,1,,{a:1}\n", kinds),
            "tasks.csv:3:10: column j: \"{a:1}\" is not json (syntax error at byte 2)");
  EXPECT_EQ(ErrorWith(header + good + "2,t,1,1,,\n", kinds),
            "tasks.csv:3:10: column j: \"\" is not json (incomplete JSON)");
}

TEST(TaskReaderColumnsTest, QuotesOddColumnNamesInMessages) {
  TaskKindTable kinds("kinds.toml");
  kinds.Add("t", {{{"my size", ColumnType::kU32}}});
  EXPECT_EQ(ErrorWith("task_id,task_type,my size\n1,t,x\n", kinds),
            "tasks.csv:2:5: column \"my size\": \"x\" is not a u32");
}

TEST(TaskReaderColumnsTest, AKindMayReadTheTaskIdAndTaskTypeColumns) {
  TaskKindTable kinds("kinds.toml");
  kinds.Add("*", {{{"task_type", ColumnType::kString}, {"task_id", ColumnType::kU32}}});
  const TaskList list = ReadWith("task_type,task_id\nabc,007\n", kinds);
  EXPECT_EQ(ValuesOf(list, list.tasks[0]), (Values{"abc", "7"}));
  EXPECT_EQ(ErrorWith("task_type,task_id\nabc,4294967296\n", kinds),
            "tasks.csv:2:5: column task_id: \"4294967296\" is not a u32 (larger than 4294967295)");
}

TEST(TaskReaderColumnsTest, KeepsTheFirstOccurrencesValuesAndDropsTheOthers) {
  const TaskList list = ReadWith(
      "task_id,task_type,region,size\n1,ingest,first,1\n2,other,,\n1,ingest,second,2\n"
      "3,ingest,third,3\n2,ingest,fourth,4\n",
      Kinds(true));
  EXPECT_EQ(Ids(list), (std::vector<TaskId>{1, 2, 3}));
  EXPECT_EQ(list.rows, 5u);
  EXPECT_EQ(ValuesOf(list, list.tasks[0]), (Values{"first", "1"}));
  EXPECT_EQ(ValuesOf(list, list.tasks[1]), Values{"none"});
  EXPECT_EQ(ValuesOf(list, list.tasks[2]), (Values{"third", "3"}));
  EXPECT_EQ(list.values.rows(), 2u) << "the duplicates' rows are dropped";
}

TEST(TaskReaderColumnsTest, DropsTheDuplicatesValuesWhileReading) {
  // 20,000 rows over 1,500 ids: past the first compactions while reading. Their values
  // take 6 + 2 to 6 bytes a row: about 240 KB if all were kept to the end, at most about
  // 70 KB (4,096 rows and the 1,500 kept) between compactions, under the limit of 128 KiB.
  std::string text = "task_id,task_type,region,size\n";
  constexpr std::size_t kRows = 20'000, kUnique = 1500;
  for (std::size_t row = 0; row < kRows; ++row) {
    text += std::to_string((row * 7) % kUnique);
    text += row < kUnique ? ",ingest,first," : ",ingest,later,";
    text += std::to_string(row) + "\n";
  }
  const TaskKindTable kinds = Kinds();
  const TaskList list = ReadCompactingEarly(text, &kinds, std::size_t{128} << 10);
  ASSERT_EQ(list.tasks.size(), kUnique);
  EXPECT_EQ(list.values.rows(), kUnique);
  for (std::size_t i = 0; i < kUnique; ++i) {
    EXPECT_EQ(ValuesOf(list, list.tasks[i]), (Values{"first", std::to_string(i)})) << i;
  }
  EXPECT_LT(list.values.MemoryBytes(), std::size_t{64} << 10);
}

// The types dropped while reading (at a compaction, past 1 Mi rows) take their blueprints'
// plans with them; a type that comes back later is a new one, and the types kept keep theirs.
TEST(TaskReaderColumnsTest, ADuplicateRowsTaskTypeIsDroppedWhileReading) {
  std::string text = "task_id,task_type,region,size\n1,ingest,eu,1\n";
  constexpr int kDuplicates = kFirstCompaction + 1000;
  for (int row = 0; row < kDuplicates; ++row) text += "1,t" + std::to_string(row) + ",,\n";
  text += "2,ingest,us,2\n3,t5,,\n4,other,,\n";
  const TaskKindTable kinds = Kinds(true);
  const TaskList list = ReadCompactingEarly(text, &kinds);
  EXPECT_EQ(Ids(list), (std::vector<TaskId>{1, 2, 3, 4}));
  EXPECT_EQ(list.type_names, (std::vector<std::string>{"ingest", "t5", "other"}));
  EXPECT_EQ(list.TypeName(list.tasks[1]), "ingest");
  EXPECT_EQ(ValuesOf(list, list.tasks[1]), (Values{"us", "2"}));
  EXPECT_EQ(list.TypeName(list.tasks[2]), "t5");
  EXPECT_EQ(ValuesOf(list, list.tasks[2]), Values{"none"});
  EXPECT_EQ(list.TypeName(list.tasks[3]), "other");
}

TEST(TaskReaderColumnsTest, RefusesColumnValuesPastTheLimitOnTheRowThatPassesIt) {
  // A row's values take 1 + 2 ("eu") + 1 + 1 ("7") bytes; row starts do not count.
  const std::string text = "task_id,task_type,region,size\n1,ingest,eu,7\n2,ingest,eu,7\n";
  constexpr std::size_t kTwoRows = 2 * (1 + 2 + 1 + 1);
  const TaskKindTable kinds = Kinds();
  EXPECT_EQ(ReadCompactingEarly(text, &kinds, kTwoRows).tasks.size(), 2u);
  try {
    ReadCompactingEarly(text, &kinds, kTwoRows - 1);
    FAIL() << "accepted values past the limit";
  } catch (const InputError& error) {
    EXPECT_STREQ(error.what(),
                 "tasks.csv:3: the column values of the tasks need 10 bytes or more, more than "
                 "one run holds");
  }
  EXPECT_EQ(FormatByteSize(ColumnTable::kMaxBytes + 1), "4 GiB") << "the default's message";
}

TEST(TaskReaderColumnsTest, AMillionTasksWithTwoShortColumnsTakeUnder34BytesEach) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "measures memory, which a sanitizer's build does not tell (and took a minute)";
#endif
  std::string text = "task_id,task_type,region,size,note\n";
  constexpr std::size_t kTasks = 1'000'000;
  for (std::size_t id = 0; id < kTasks; ++id) {
    text += std::to_string(id) + ",ingest,eu-west," + std::to_string(id % 1000) + ",unused\n";
  }
  const TaskList list = ReadWith(text, Kinds());
  ASSERT_EQ(list.tasks.size(), kTasks);
  EXPECT_EQ(ValuesOf(list, list.tasks[123'456]), (Values{"eu-west", "456"}));
  // Per task: 16 (the Task, and some capacity) + 4 (its row's start) + 1 + 7 ("eu-west") +
  // 1 + 1 to 3 (size).
  const std::size_t columns = list.values.MemoryBytes();
  const std::size_t total = columns + list.tasks.capacity() * sizeof(Task);
  std::printf("1,000,000 tasks: %zu bytes of columns, %zu in all (%.1f per task)\n", columns, total,
              static_cast<double>(total) / kTasks);
  EXPECT_LE(columns, kTasks * 16);
  EXPECT_LE(total, kTasks * 34);
  EXPECT_LT(total, std::size_t{150} << 20);
}

TEST(TaskReaderColumnsTest, WithoutKindsNoValuesAreKept) {
  const TaskList list = Read("task_id,task_type,region,size\n1,ingest,eu,12x\n");
  ASSERT_EQ(list.tasks.size(), 1u);
  EXPECT_EQ(list.tasks[0].values, kNoValues);
  EXPECT_EQ(list.values.rows(), 0u);
}

// What an input gives: its rows and tasks (id, type), or its error.
std::string Outcome(const std::function<TaskList()>& read) {
  try {
    const TaskList list = read();
    std::string out = std::to_string(list.rows) + " rows:";
    for (const Task& task : list.tasks) {
      out += " " + std::to_string(task.id) + "," + list.TypeName(task);
      if (task.values != kNoValues) out += ",values";
    }
    return out;
  } catch (const InputError& error) {
    return error.what();
  }
}

// With kinds the reader splits the rows itself (its columns are known only after the
// header): with a kind for every type and no columns, it must read every input as the reader
// without kinds does, the fuzzing corpus included.
TEST(TaskReaderColumnsTest, ReadsEveryInputAsTheReaderWithoutKinds) {
  std::vector<std::string> inputs = {
      "",
      "\n \n",
      "task_id,task_type",
      "\xEF\xBB\xBFtask_id,task_type\r\n\r\n1,a\r\n\n  \n2,b\r\n3,c",
      "note,task_type,extra,task_id\nhello,a,x,7\nbye,b,y,8\n",
      "task_id,task_type\n\"42\",\"a,b\"\n43,\"say \"\"hi\"\"\"\n1,  \" a \"  \n",
      "task_id,task_type\n  7\t,a\n\" 8 \",a\n0000042,a\n",
      "task_id,task_type\n1,a\n,a\n",
      "task_id,task_type\n5x,a\n",
      "task_id\n1\n18446744073709551616\n",
      "task_id,task_type\n1,a\n2\n",
      "task_id,task_type\n1,a,b\n",
      "task_id,task_type\n1,\"two\nlines\"\n",
      "task_id,\"task_type\n1,a\n",
      "id,task_type\n1,a\n",
      "\n\nTask_ID\n1\n",
      "task_id,task_type,task_id\n1,a,1\n",
      " task_id , \"task_type\" \n1,a\n",
      "\" task_id\"\n1\n",
      std::string("task_id,task_type\n1,a\n2,b\0c\n", 27),
      std::string("task_id,task_type\n1,a\n2\n3,\0\n", 28),
      "task_id,task_type\r1,a\r2,b\r",
      "task_id\n1\r",
      "task_id\nx\r",  // the byte check's error and the parser's, on one line
      "task_id,task_type\n1,a\n2," + std::string(kMaxLineLength, 'x'),
      "task_id,task_type\n1,ab\"c\"d\n2,\"ab\"cd\n",
      "task_id,task_type\n3,a\n1,b\n3,c\n2,d\n1,e\n",
  };
  const std::filesystem::path corpus =
      std::filesystem::path(ORCHESTRATOR_TEST_DATA_DIR) / "../fuzz/corpus/task_reader";
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    std::ifstream file(entry.path(), std::ios::binary);
    std::ostringstream bytes;
    bytes << file.rdbuf();
    inputs.push_back(bytes.str());
  }
  ASSERT_GT(inputs.size(), 60u);
  TaskKindTable kinds("kinds.toml");
  kinds.Add("*", {});
  for (const std::string& input : inputs) {
    EXPECT_EQ(Outcome([&] { return ReadWith(input, kinds); }), Outcome([&] { return Read(input); }))
        << QuoteForMessage(input, 200);
  }
}

// ---- Dependencies (depends_on and after) ----

// The graph as (parent id, child id, kind).
using IdEdge = std::tuple<TaskId, TaskId, Dependency>;
std::set<IdEdge> EdgesOf(const TaskList& list) {
  std::set<IdEdge> edges;
  EXPECT_TRUE(list.graph.empty() || list.graph.task_count() == list.tasks.size());
  for (TaskIndex p = 0; p < list.tasks.size(); ++p) {
    list.graph.ForEachChild(p, [&](const Dependent& d) {
      edges.emplace(list.tasks[p].id, list.tasks[d.child].id, d.kind);
    });
  }
  return edges;
}
constexpr Dependency kS = Dependency::kSuccess;
constexpr Dependency kF = Dependency::kFinish;

// Reads `text` without kinds and with a catch-all kind: both readers must agree.
TaskList ReadBoth(const std::string& text) {
  TaskList plain = Read(text);
  const TaskList with_kinds = ReadWith(text, Kinds(true));
  EXPECT_EQ(Ids(plain), Ids(with_kinds));
  EXPECT_EQ(EdgesOf(plain), EdgesOf(with_kinds));
  EXPECT_EQ(plain.warnings, with_kinds.warnings);
  return plain;
}

// The error `text` gives, the same with and without kinds.
std::string ErrorOfBoth(const std::string& text) {
  const std::string error = ErrorOf(text);
  EXPECT_EQ(ErrorWith(text, Kinds(true)), error) << "with kinds";
  return error;
}

TEST(TaskReaderDependenciesTest, WithoutTheColumnsTheGraphIsEmpty) {
  const TaskList list = ReadBoth("task_id,task_type\n1,a\n2,a\n");
  EXPECT_TRUE(list.graph.empty());
  EXPECT_TRUE(list.warnings.empty());
  // With the columns but nothing in them: no edges either.
  const TaskList blank = ReadBoth("task_id,depends_on,after\n1,,\n2, ;, \n");
  EXPECT_TRUE(blank.graph.empty());
  EXPECT_EQ(Ids(blank), (std::vector<TaskId>{1, 2}));
}

TEST(TaskReaderDependenciesTest, ReadsBothColumnsAnywhereSplitAtSpacesAndSemicolons) {
  const TaskList list = ReadBoth(
      "after,task_id,note,depends_on,task_type\n"
      ",101,x,,a\n"
      ",102,x,,a\n"
      "101,103,x,\"101;102\",a\n"
      "\" 102 ;103\",104,x,101 102,b\n"
      "\t101\t103 ,105,x,;;,a\n");
  EXPECT_EQ(EdgesOf(list), (std::set<IdEdge>{{101, 103, kS},
                                             {102, 103, kS},
                                             {101, 104, kS},
                                             {102, 104, kS},
                                             {103, 104, kF},
                                             {101, 105, kF},
                                             {103, 105, kF}}));
  // 101 in both columns of 103's row, 102 in both of 104's: one edge each, depends_on's.
  EXPECT_EQ(list.graph.edge_count(), 7u);
  EXPECT_EQ(list.graph.ParentCount(2), 2u);
  EXPECT_EQ(list.graph.ParentCount(3), 3u);
}

TEST(TaskReaderDependenciesTest, EitherColumnAlone) {
  EXPECT_EQ(EdgesOf(ReadBoth("task_id,after\n1,\n2,1\n")), (std::set<IdEdge>{{1, 2, kF}}));
  EXPECT_EQ(EdgesOf(ReadBoth("depends_on,task_id\n,1\n1 1,2\n")), (std::set<IdEdge>{{1, 2, kS}}));
}

TEST(TaskReaderDependenciesTest, AParentMayComeOnALaterLine) {
  const TaskList list = ReadBoth("task_id,depends_on\n1,3\n2,1\n3,\n");
  EXPECT_EQ(Ids(list), (std::vector<TaskId>{1, 2, 3}));
  EXPECT_EQ(EdgesOf(list), (std::set<IdEdge>{{3, 1, kS}, {1, 2, kS}}));
  EXPECT_EQ(list.graph.ParentCount(0), 1u);
}

TEST(TaskReaderDependenciesTest, KeepsTheOrderARowListsItsParentsInWhenAsked) {
  const std::string text =
      "task_id,after,depends_on,task_type\n"
      "1,,,a\n2,,,a\n3,,,a\n4,,,a\n"
      "5,\"1;4\",3 2 ;3 1,a\n";  // depends_on first: 3, 2, 1; then after's 4 (1 is taken)
  // (parent id, rank) of task 5's parents, in increasing parent order.
  const auto ranks_of_five = [](const TaskList& list) {
    std::vector<std::pair<TaskId, std::uint32_t>> ranks;
    for (TaskIndex p = 0; p < list.tasks.size(); ++p) {
      list.graph.ForEachChild(p, [&](const Dependent& d) {
        if (list.tasks[d.child].id == 5) ranks.emplace_back(list.tasks[p].id, d.rank);
      });
    }
    return ranks;
  };
  using Ranks = std::vector<std::pair<TaskId, std::uint32_t>>;
  ReadOptions keep_order;
  keep_order.dependency_order = true;
  EXPECT_EQ(ranks_of_five(ReadTasks(MemoryFile(text), nullptr, {}, keep_order)),
            (Ranks{{1, 3}, {2, 1}, {3, 0}, {4, 5}}));
  const TaskKindTable kinds = Kinds(true);
  EXPECT_EQ(ranks_of_five(ReadTasks(MemoryFile(text), &kinds, {}, keep_order)),
            (Ranks{{1, 3}, {2, 1}, {3, 0}, {4, 5}}))
      << "the reader of kinds alike";
  EXPECT_EQ(ranks_of_five(Read(text)), (Ranks{{1, 0}, {2, 0}, {3, 0}, {4, 0}}))
      << "not kept unless asked";
}

TEST(TaskReaderDependenciesTest, RefusesAnIdThatIsNoTaskId) {
  EXPECT_EQ(ErrorOfBoth("task_id,depends_on\n1,\n2,1\n\n3,\"1;12x\"\n"),
            "tasks.csv:5:6: depends_on \"12x\" is not a task_id");
  EXPECT_EQ(ErrorOfBoth("task_id,after,depends_on\n1,,\n2,-1,\n"),
            "tasks.csv:3:3: after \"-1\" is not a task_id");
  EXPECT_EQ(ErrorOfBoth("task_id,depends_on\n1,\"2,3\"\n2,\n3,\n"),
            "tasks.csv:2:4: depends_on \"2,3\" is not a task_id");
  EXPECT_EQ(ErrorOfBoth("task_id,depends_on\n1,18446744073709551616\n"),
            "tasks.csv:2:3: depends_on \"18446744073709551616\" is not a task_id");
}

TEST(TaskReaderDependenciesTest, RefusesAParentThatIsNoTaskOfTheInput) {
  EXPECT_EQ(ErrorOfBoth("task_id,depends_on\n101,\n102,101\n\n103,101 999\n104,998\n"),
            "tasks.csv:5: depends_on 999 is not a task in this input");
  EXPECT_EQ(ErrorOfBoth("task_id,after\n101,\n102,7\n"),
            "tasks.csv:3: after 7 is not a task in this input");
  // Named in both columns, it is a depends_on.
  EXPECT_EQ(ErrorOfBoth("task_id,after,depends_on\n101,7,7\n"),
            "tasks.csv:2: depends_on 7 is not a task in this input");
  // Only once the whole input is read: a problem of form on a later line comes first.
  EXPECT_EQ(ErrorOfBoth("task_id,depends_on\n101,999\n1x,\n"),
            "tasks.csv:3:1: task_id \"1x\" is not a whole number from 0 to 18446744073709551615");
  // The same for what the byte checks find (the rows after it are never read), before a
  // missing parent or a cycle.
  EXPECT_EQ(ErrorOfBoth(std::string("task_id,depends_on\n101,103\n102,\n103") + '\0' + ",\n"),
            "tasks.csv:4: NUL byte in the input (is this a text file?)");
  EXPECT_EQ(ErrorOfBoth("task_id,depends_on\n101,102\n102,101\n103,\r\r\n"),
            "tasks.csv:4: carriage return not followed by a line feed (only LF and CRLF line "
            "ends are read)");
}

TEST(TaskReaderDependenciesTest, RefusesATaskThatDependsOnItself) {
  EXPECT_EQ(ErrorOfBoth("task_id,depends_on\n100,\n102,100\n\n101,100;101\n"),
            "tasks.csv:5:9: task 101 depends on itself");
  EXPECT_EQ(ErrorOfBoth("task_id,after\n0101,101\n"), "tasks.csv:2:6: task 101 depends on itself");
}

TEST(TaskReaderDependenciesTest, RefusesACycleOfTwoNamingEachMemberAndItsLine) {
  EXPECT_EQ(ErrorOfBoth("task_id,depends_on\n101,102\n102,101\n"),
            "tasks.csv: dependency cycle: 101 (line 2) -> 102 (line 3) -> 101");
  // after counts too, and the cycle starts at its first task in the input.
  EXPECT_EQ(ErrorOfBoth("task_id,depends_on,after\n7,,\n\n202,,201\n201,202,\n"),
            "tasks.csv: dependency cycle: 202 (line 4) -> 201 (line 5) -> 202");
  // Even when it is reached through its later task first (10 -> 12 -> 11 -> 12).
  EXPECT_EQ(ErrorOfBoth("task_id,depends_on\n10,\n11,12\n12,10 11\n"),
            "tasks.csv: dependency cycle: 11 (line 3) -> 12 (line 4) -> 11");
  // A parent that is no task is reported before a cycle.
  EXPECT_EQ(ErrorOfBoth("task_id,depends_on\n101,102\n102,101\n103,9\n"),
            "tasks.csv:4: depends_on 9 is not a task in this input");
}

TEST(TaskReaderDependenciesTest, RefusesACycleOfAThousandNamingItWhole) {
  // Task 1000 + i on line i + 2 depends on the next; the last on the first.
  std::string text = "task_id,depends_on\n";
  for (int i = 0; i < 1000; ++i) {
    text += std::to_string(1000 + i) + "," + std::to_string(1000 + (i + 1) % 1000) + "\n";
  }
  // Each must finish before the next: 1000, then what waits for it (1999), and so on.
  std::string expected = "tasks.csv: dependency cycle: 1000 (line 2)";
  for (int i = 999; i >= 1; --i) {
    expected += " -> " + std::to_string(1000 + i) + " (line " + std::to_string(i + 2) + ")";
  }
  expected += " -> 1000";
  EXPECT_EQ(ErrorOfBoth(text), expected);
}

TEST(TaskReaderDependenciesTest, ADuplicateRowKeepsTheFirstRowsDependencies) {
  const TaskList list = ReadBoth(
      "task_id,depends_on,after\n"
      "101,,\n"
      "102,101,\n"
      "103,,\n"
      "102,101,\n"          // the same: no warning
      "103,,\n"             // the same (none): no warning
      "102,103,\n"          // other parents: ignored, with a warning
      "101,,103\n"          // ditto
      "102,\"101;101\",\n"  // the same set, written otherwise: no warning
      "102,,101\n");        // same parent, other kind: a warning
  EXPECT_EQ(Ids(list), (std::vector<TaskId>{101, 102, 103}));
  EXPECT_EQ(list.rows, 9u);
  EXPECT_EQ(EdgesOf(list), (std::set<IdEdge>{{101, 102, kS}}));
  EXPECT_EQ(list.warnings,
            (std::vector<std::string>{
                "tasks.csv:7: task 102 is a duplicate of line 3 with other dependencies; line 3's "
                "are used",
                "tasks.csv:8: task 101 is a duplicate of line 2 with other dependencies; line 2's "
                "are used",
                "tasks.csv:10: task 102 is a duplicate of line 3 with other dependencies; line 3's "
                "are used"}));
}

TEST(TaskReaderDependenciesTest, ADuplicatesIgnoredDependenciesMakeNoCycle) {
  // 2 -> 1 from line 3 is ignored (line 2's row wins), so 1 -> 2 alone is no cycle.
  const TaskList list = ReadBoth("task_id,depends_on\n1,\n1,2\n2,1\n");
  EXPECT_EQ(EdgesOf(list), (std::set<IdEdge>{{1, 2, kS}}));
  ASSERT_EQ(list.warnings.size(), 1u);
  EXPECT_EQ(list.warnings[0],
            "tasks.csv:3: task 1 is a duplicate of line 2 with other dependencies; line 2's are "
            "used");
}

TEST(TaskReaderDependenciesTest, ManyDuplicatesAcrossCompactionsWarnInLineOrderUpToALimit) {
  // More rows than the reader holds before it first drops duplicates: every later row of
  // task 0 (every odd row from the third on: 2052 of them) names other dependencies.
  constexpr std::size_t kRows = kFirstCompaction + 10;
  std::string text = "task_id,after\n0,\n1,\n";
  for (std::size_t row = 2; row < kRows; ++row) text += row % 2 ? "0,1\n" : "1,\n";
  const TaskList list = ReadCompactingEarly(text);
  EXPECT_EQ(Ids(list), (std::vector<TaskId>{0, 1}));
  EXPECT_TRUE(list.graph.empty());
  ASSERT_EQ(list.warnings.size(), 101u);
  EXPECT_EQ(list.warnings[0],
            "tasks.csv:5: task 0 is a duplicate of line 2 with other dependencies; line 2's are "
            "used");
  EXPECT_EQ(list.warnings[1].substr(0, 12), "tasks.csv:7:");
  EXPECT_EQ(list.warnings[100],
            "tasks.csv: 1952 more duplicates with other dependencies than the lines above (the "
            "first row of each task is used)");
}

TEST(TaskReaderDependenciesTest, RefusesADependencyColumnTwiceInTheHeader) {
  EXPECT_EQ(ErrorOfBoth("task_id,depends_on,depends_on\n1,,\n"),
            "tasks.csv:1: column \"depends_on\" appears twice in the header");
}

TEST(TaskReaderDependenciesTest, WorksWithTypedColumns) {
  const TaskList list = ReadWith(
      "task_id,task_type,region,size,depends_on\n"
      "1,ingest,eu,5,2\n"
      "2,ingest,us,6,\n"
      "1,ingest,xx,7,\n",
      Kinds());
  EXPECT_EQ(EdgesOf(list), (std::set<IdEdge>{{2, 1, kS}}));
  EXPECT_EQ(ValuesOf(list, list.tasks[0]), (Values{"eu", "5"}));
  EXPECT_EQ(ValuesOf(list, list.tasks[1]), (Values{"us", "6"}));
  EXPECT_EQ(list.warnings.size(), 1u);
  EXPECT_EQ(ErrorWith("task_id,task_type,region,size,depends_on\n1,ingest,eu,5,3\n", Kinds()),
            "tasks.csv:2: depends_on 3 is not a task in this input");
}

TEST(TaskKindTableTest, FindsTheTypeElseTheCatchAll) {
  TaskKindTable kinds("k.toml");
  EXPECT_EQ(kinds.Find("a"), nullptr);
  kinds.Add("a", {{{"x", ColumnType::kBool}}});
  ASSERT_NE(kinds.Find("a"), nullptr);
  EXPECT_EQ(kinds.Find("a")->columns.size(), 1u);
  EXPECT_EQ(kinds.Find("b"), nullptr);
  kinds.Add("*", {});
  EXPECT_EQ(kinds.Find("b"), kinds.Find("*"));
  EXPECT_EQ(kinds.Find("")->columns.size(), 0u);
  EXPECT_EQ(kinds.Source(), "k.toml");
}

TEST(TaskKindTableTest, UnknownTypeMessageNamesTheKnownTypesInTheirOrder) {
  TaskKindTable kinds("k.toml");
  EXPECT_EQ(kinds.UnknownTypeMessage("x"), "has no blueprint in k.toml (known: none)");
  kinds.Add("zeta", {});
  kinds.Add("*", {});
  kinds.Add("alpha", {});
  kinds.Add("odd name", {});
  kinds.Add("zeta", {});
  EXPECT_EQ(kinds.UnknownTypeMessage("x"),
            "has no blueprint in k.toml (known: zeta, alpha, \"odd name\")");
  for (int i = 0; i < 10; ++i) kinds.Add("t" + std::to_string(i), {});
  EXPECT_EQ(kinds.UnknownTypeMessage("x"),
            "has no blueprint in k.toml (known: zeta, alpha, \"odd name\", t0, t1, t2, t3, t4, "
            "t5, t6, ... (13 in all))");
}

// ---- A shard's share (ReadTasks with a filter) ----

TEST(TaskReaderFilterTest, KeepsOnlyTheTasksTheFilterWantsAndCountsOnlyTheirRows) {
  const TaskFilter even = [](TaskId id) { return id % 2 == 0; };
  const TaskList plain =
      ReadTasks(MemoryFile("task_id,task_type\n1,a\n2,b\n3,c\n2,b\n4,a\n"), nullptr, even);
  EXPECT_EQ(Ids(plain), (std::vector<TaskId>{2, 4}));
  EXPECT_EQ(plain.rows, 3u) << "2, 2 again, and 4";
  EXPECT_EQ(plain.TypeName(plain.tasks[1]), "a");

  const TaskKindTable kinds = Kinds();
  const TaskList typed = ReadTasks(
      MemoryFile("task_id,task_type,region,size\n1,ingest,eu,1\n2,ingest,us,2\n3,ingest,ap,3\n"),
      &kinds, even);
  ASSERT_EQ(Ids(typed), (std::vector<TaskId>{2}));
  EXPECT_EQ(ValuesOf(typed, typed.tasks[0]), (Values{"us", "2"}));
  EXPECT_EQ(typed.values.rows(), 1u) << "no values kept for another shard's tasks";
}

// Every shard knows the types of the whole input's tasks, as before; only a duplicate row's
// type is dropped.
TEST(TaskReaderFilterTest, TheTypesOfAnotherShardsRowsAreKeptAndOfDuplicatesNot) {
  const TaskFilter even = [](TaskId id) { return id % 2 == 0; };
  const TaskList list =
      ReadTasks(MemoryFile("task_id,task_type\n1,a\n2,b\n2,c\n4,b\n3,d\n"), nullptr, even);
  EXPECT_EQ(Ids(list), (std::vector<TaskId>{2, 4}));
  EXPECT_EQ(list.type_names, (std::vector<std::string>{"a", "b", "d"}));
  EXPECT_EQ(list.TypeName(list.tasks[0]), "b");
  EXPECT_EQ(list.TypeName(list.tasks[1]), "b");
}

TEST(TaskReaderFilterTest, ARowAnotherShardRunsIsStillChecked) {
  const TaskFilter none = [](TaskId) { return false; };
  const auto error = [&](const std::string& text, const TaskKinds* kinds) -> std::string {
    try {
      ReadTasks(MemoryFile(text), kinds, none);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(error("task_id,task_type\n1,a\nx,b\n", nullptr),
            "tasks.csv:3:1: task_id \"x\" is not a whole number from 0 to 18446744073709551615");
  const TaskKindTable kinds = Kinds();
  EXPECT_EQ(error("task_id,task_type,region,size\n1,ingest,eu,12x\n", &kinds),
            "tasks.csv:2:13: column size: \"12x\" is not a u32");
}

TEST(TaskReaderFilterTest, WithDependenciesEveryTaskIsKeptForTheGroupsToBeKnown) {
  const TaskFilter none = [](TaskId) { return false; };
  const TaskList list =
      ReadTasks(MemoryFile("task_id,task_type,depends_on\n1,a,\n2,a,1\n3,a,\n"), nullptr, none);
  EXPECT_EQ(Ids(list), (std::vector<TaskId>{1, 2, 3}));
  EXPECT_EQ(list.graph.edge_count(), 1u);
}

}  // namespace
}  // namespace orchestrator
