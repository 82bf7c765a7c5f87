#include "orchestrator/task_reader.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "orchestrator/input_error.h"

namespace orchestrator {
namespace {

// An in-memory file with `text`, read the way the tool reads any descriptor.
InputFile MemoryFile(const std::string& text) {
  const int fd = ::memfd_create("tasks.csv", MFD_CLOEXEC);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::lseek(fd, 0, SEEK_SET);
  return InputFile(fd, "tasks.csv");
}

TaskList Read(const std::string& text) { return ReadTasks(MemoryFile(text)); }

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
  EXPECT_EQ(ErrorOf("task_id,task_type\n1,a\n,a\n"), "tasks.csv:3: task_id is empty");
  EXPECT_EQ(ErrorOf("task_id,task_type\n\"\",a\n"), "tasks.csv:2: task_id is empty");
  EXPECT_EQ(ErrorOf("task_id,task_type\n  ,a\n"), "tasks.csv:2: task_id is empty");
  for (const char* bad : {"-1", "+5", "abc", "1 2", "1.5", "1e3", "0x10", "5x", "-0"}) {
    EXPECT_EQ(ErrorOf(std::string("task_id,task_type\n") + bad + ",a\n"),
              std::string("tasks.csv:2: task_id \"") + bad +
                  "\" is not a whole number from 0 to 18446744073709551615")
        << bad;
  }
  EXPECT_EQ(ErrorOf("task_id\n1\n18446744073709551616\n"),
            "tasks.csv:3: task_id \"18446744073709551616\" is larger than "
            "18446744073709551615");
}

TEST(TaskReaderTest, CountsPhysicalLinesPastBlankLinesAndBom) {
  EXPECT_EQ(ErrorOf("\xEF\xBB\xBFtask_id,task_type\r\n\r\n1,a\r\n\r\nx,b\r\n"),
            "tasks.csv:5: task_id \"x\" is not a whole number from 0 to 18446744073709551615");
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
            "tasks.csv:1: the header has no task_id column (names are case-sensitive)");
  EXPECT_EQ(ErrorOf("\n\nTask_ID\n1\n"),
            "tasks.csv:3: the header has no task_id column (names are case-sensitive)");
  EXPECT_EQ(ErrorOf("task_id,task_type,task_id\n1,a,1\n"),
            "tasks.csv:1: column \"task_id\" appears twice in the header");
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
  EXPECT_EQ(message, "tasks.csv:2: task_id \"\\x1b[31m" + std::string(35, 'z') +
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
  // 2.5 million rows over 1,500 ids: past the first compactions while reading.
  std::string text = "task_id,task_type\n";
  constexpr std::size_t kRows = 2'500'000, kUnique = 1500;
  for (std::size_t row = 0; row < kRows; ++row) {
    text += std::to_string((row * 7) % kUnique);
    text += row < kUnique ? ",first\n" : ",later\n";
  }
  const TaskList list = Read(text);
  EXPECT_EQ(list.rows, kRows);
  ASSERT_EQ(list.tasks.size(), kUnique);
  for (std::size_t i = 0; i < kUnique; ++i) {
    EXPECT_EQ(list.tasks[i].id, (i * 7) % kUnique) << i;
    EXPECT_EQ(list.TypeName(list.tasks[i]), "first") << i;
  }
}

}  // namespace
}  // namespace orchestrator
