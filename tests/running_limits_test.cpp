#include "orchestrator/running_limits.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include "orchestrator/input_error.h"

#include "memory_file.h"

namespace orchestrator {
namespace {

RunningLimit Limit(std::string_view text) {
  auto parsed = ParseRunningLimit(text);
  EXPECT_TRUE(std::holds_alternative<RunningLimit>(parsed)) << text;
  return std::holds_alternative<RunningLimit>(parsed) ? std::get<RunningLimit>(parsed)
                                                      : RunningLimit{};
}

TEST(RunningLimitsTest, ParsesTypesColumnsAndStar) {
  const RunningLimit plain = Limit("ingest=5");
  EXPECT_EQ(plain.type, "ingest");
  EXPECT_EQ(plain.column, "");
  EXPECT_EQ(plain.max, 5u);
  const RunningLimit per = Limit("ingest[tenant]=3");
  EXPECT_EQ(per.type, "ingest");
  EXPECT_EQ(per.column, "tenant");
  EXPECT_EQ(per.max, 3u);
  EXPECT_EQ(Limit("*=100").type, "*");
  EXPECT_EQ(Limit("*[tenant]=2").column, "tenant");
  EXPECT_EQ(Limit("a=b=2").type, "a=b") << "the last = splits";
  for (const char* bad :
       {"", "ingest", "ingest=", "ingest=0", "ingest=-1", "ingest=x", "=3", "ingest[]=3",
        "[tenant]=3", "ingest[tenant=3", "ingest]=3", "in[g]est[t]=3"}) {
    EXPECT_TRUE(std::holds_alternative<std::string>(ParseRunningLimit(bad))) << bad;
  }
  EXPECT_EQ(std::get<std::string>(ParseRunningLimit("ingest=0")),
            "--limit \"ingest=0\": expected TYPE=N or TYPE[COLUMN]=N with N from 1 (TYPE * for "
            "every type), like ingest=5 or 'ingest[tenant]=3'");
}

class PoolsTest : public ::testing::Test {
 protected:
  // Types "a" (column tenant) and "b" (no columns); `tenants[i]` for task i of type a.
  void Make(std::vector<std::string> limit_texts, const std::vector<std::string>& rows) {
    a_.name = "a";
    a_.columns = {{"tenant", ColumnType::kString}};
    b_.name = "b";
    tasks_.type_names = {"a", "b"};
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (rows[i] == "b") {
        tasks_.tasks.push_back({i, 1, kNoValues});
      } else {
        tasks_.tasks.push_back({i, 0, tasks_.values.AddRow({rows[i]})});
      }
    }
    std::vector<RunningLimit> limits;
    for (const std::string& text : limit_texts) limits.push_back(Limit(text));
    pools_.emplace(std::move(limits), tasks_, blueprints_);
  }

  Blueprint a_;
  Blueprint b_;
  std::vector<const Blueprint*> blueprints_{&a_, &b_};
  TaskList tasks_;
  std::optional<RunningLimits> pools_;
  std::vector<TaskIndex> retry_;
};

TEST_F(PoolsTest, ATypeLimitLetsInThatManyAndQueuesTheRestInOrder) {
  Make({"a=2"}, {"x", "x", "x", "x", "b"});
  EXPECT_TRUE(pools_->TryEnter(0));
  EXPECT_TRUE(pools_->TryEnter(1));
  EXPECT_FALSE(pools_->TryEnter(2));
  EXPECT_FALSE(pools_->TryEnter(3));
  EXPECT_TRUE(pools_->TryEnter(4)) << "type b has no limit";
  EXPECT_EQ(pools_->Running(0), 2u);
  pools_->Leave(1, retry_);
  EXPECT_EQ(retry_, std::vector<TaskIndex>{2}) << "first in line";
  EXPECT_TRUE(pools_->TryEnter(2));
  EXPECT_EQ(pools_->Running(0), 2u);
}

TEST_F(PoolsTest, ALimitPerColumnCountsEachValueApart) {
  Make({"a[tenant]=1"}, {"t1", "t1", "t2", "t2"});
  EXPECT_TRUE(pools_->TryEnter(0));
  EXPECT_FALSE(pools_->TryEnter(1));
  EXPECT_TRUE(pools_->TryEnter(2)) << "another tenant";
  EXPECT_FALSE(pools_->TryEnter(3));
  EXPECT_EQ(pools_->Running(0, "t1"), 1u);
  EXPECT_EQ(pools_->Running(0, "t2"), 1u);
  pools_->Leave(2, retry_);
  EXPECT_EQ(retry_, std::vector<TaskIndex>{3});
}

TEST_F(PoolsTest, ATaskEntersEveryPoolOrNone) {
  // At most 3 overall, and 1 per tenant of type a.
  Make({"*=3", "a[tenant]=1"}, {"t1", "t1", "b", "b", "b"});
  EXPECT_TRUE(pools_->TryEnter(0));
  EXPECT_FALSE(pools_->TryEnter(1)) << "its tenant is full";
  EXPECT_EQ(pools_->Running(0), 1u) << "and it took no place overall";
  EXPECT_TRUE(pools_->TryEnter(2));
  EXPECT_TRUE(pools_->TryEnter(3));
  EXPECT_FALSE(pools_->TryEnter(4)) << "3 overall";
  pools_->Leave(0, retry_);  // frees a place overall and one for t1
  EXPECT_EQ(retry_, (std::vector<TaskIndex>{4, 1}));
}

TEST(RunningLimitsTest, TheCommandLineWinsOverTheFile) {
  const std::vector<RunningLimit> merged =
      MergeLimits({Limit("a=2"), Limit("*=9")}, {Limit("a=5"), Limit("a[tenant]=3"), Limit("b=1")});
  std::vector<std::string> texts;
  for (const RunningLimit& limit : merged) texts.push_back(limit.text);
  EXPECT_EQ(texts, (std::vector<std::string>{"a=2", "*=9", "a[tenant]=3", "b=1"}));
}

std::vector<std::string> ColumnsOf(const Blueprint& blueprint) {
  std::vector<std::string> names;
  for (const ColumnSpec& column : blueprint.columns) names.push_back(column.name);
  return names;
}

std::vector<std::string> ColumnsOf(const TaskKinds::Kind* kind) {
  std::vector<std::string> names;
  if (kind == nullptr) return {"no kind"};
  for (const TaskKinds::Column& column : kind->columns) names.push_back(column.name);
  return names;
}

using Names = std::vector<std::string>;

// The built-in blueprint, as far as the columns go.
Blueprint Star() {
  Blueprint blueprint;
  blueprint.name = std::string(1, '*');
  return blueprint;
}

TEST(BuiltinKindsTest, ALimitPerColumnNeedsItsColumnInTheRowsOfItsTypeAlone) {
  const BuiltinKinds builtin(Star(), {Limit("ingest[tenant]=3"), Limit("ingest=9")});
  EXPECT_EQ(ColumnsOf(builtin.Of("ingest")), Names{"tenant"});
  EXPECT_EQ(builtin.Of("ingest").name, "ingest");
  EXPECT_EQ(ColumnsOf(builtin.Of("process_data")), Names{});
  EXPECT_EQ(builtin.Of("process_data").name, "*");
  ASSERT_NE(builtin.kinds(), nullptr);
  EXPECT_EQ(ColumnsOf(builtin.kinds()->Find("ingest")), Names{"tenant"});
  EXPECT_EQ(ColumnsOf(builtin.kinds()->Find("process_data")), Names{})
      << "every other type has a kind, with no column";
}

TEST(BuiltinKindsTest, StarColumnsAreEveryTypesAndComeFirst) {
  const BuiltinKinds builtin(Star(), {Limit("ingest[region]=2"), Limit("*[tenant]=3"),
                                      Limit("ingest[tenant]=1"), Limit("notify[task_type]=1")});
  EXPECT_EQ(ColumnsOf(builtin.Of("ingest")), (Names{"tenant", "region"}));
  EXPECT_EQ(ColumnsOf(builtin.Of("other")), Names{"tenant"});
  EXPECT_EQ(ColumnsOf(builtin.Of("notify")), Names{"tenant"}) << "task_type is a slot already";
  ASSERT_NE(builtin.kinds(), nullptr);
  EXPECT_EQ(ColumnsOf(builtin.kinds()->Find("ingest")), (Names{"tenant", "region"}));
  EXPECT_EQ(ColumnsOf(builtin.kinds()->Find("other")), Names{"tenant"});
}

TEST(BuiltinKindsTest, WithoutALimitPerInputColumnNoRowIsChecked) {
  const BuiltinKinds builtin(Star(), {Limit("ingest=3"), Limit("*=100"), Limit("a[task_id]=1")});
  EXPECT_EQ(builtin.kinds(), nullptr) << "task_id is a slot, no column to keep";
  EXPECT_EQ(ColumnsOf(builtin.Of("ingest")), Names{});
  EXPECT_EQ(&builtin.Of("ingest"), &builtin.Of("other"));
}

InputFile MemoryFile(const std::string& text) { return MemoryInputFile(text, "tasks.csv"); }

std::string ReadError(const std::string& text, const BuiltinKinds& builtin) {
  try {
    ReadTasks(MemoryFile(text), builtin.kinds());
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

TEST(BuiltinKindsTest, TheReaderWantsTheColumnOnlyInTheRowsOfTheTypesNamed) {
  const BuiltinKinds builtin(Star(), {Limit("ingest[tenant]=3")});
  // The README's tasks.csv: no ingest rows, no tenant column.
  const TaskList list = ReadTasks(
      MemoryFile("task_id,task_type\n101,process_data\n102,process_data\n"), builtin.kinds());
  EXPECT_EQ(list.tasks.size(), 2u);
  EXPECT_EQ(ReadError("task_id,task_type\n101,process_data\n102,ingest\n", builtin),
            "tasks.csv:3: task_type \"ingest\" needs column \"tenant\" (--limit), which the "
            "header does not have");
  // With the column, only the ingest rows' values are kept; the others leave it empty.
  const TaskList mixed = ReadTasks(
      MemoryFile("task_id,task_type,tenant\n1,process_data,\n2,ingest,t1\n3,process_data,x\n"),
      builtin.kinds());
  ASSERT_EQ(mixed.tasks.size(), 3u);
  EXPECT_EQ(mixed.tasks[0].values, kNoValues);
  EXPECT_EQ(mixed.Value(mixed.tasks[1], 0), "t1");
  EXPECT_EQ(mixed.tasks[2].values, kNoValues);
  EXPECT_EQ(ReadError("task_id,task_type\n1,process_data\n",
                      BuiltinKinds(Star(), {Limit("*[tenant]=1")})),
            "tasks.csv:2: task_type \"process_data\" needs column \"tenant\" (--limit), which "
            "the header does not have")
      << "TYPE * names every type";
}

}  // namespace
}  // namespace orchestrator
