#include "orchestrator/running_limits.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

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

// Records the tasks admitted from a pool's line, in the order told.
class AdmissionLog final : public AdmissionSink {
 public:
  void Admitted(TaskIndex task) override { admitted.push_back(task); }
  std::vector<TaskIndex> admitted;
};

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
    pools_.emplace(std::move(limits), tasks_.type_names, blueprints_);
  }
  bool TryEnter(TaskIndex task, AdmissionSink* sink = nullptr) {
    return pools_->TryEnter(tasks_, task, sink != nullptr ? *sink : log_);
  }
  std::vector<TaskIndex> Leave(TaskIndex task) {
    log_.admitted.clear();
    pools_->Leave(tasks_, task);
    return log_.admitted;
  }

  Blueprint a_;
  Blueprint b_;
  std::vector<const Blueprint*> blueprints_{&a_, &b_};
  TaskList tasks_;
  std::optional<RunningLimits> pools_;
  AdmissionLog log_;
};

TEST_F(PoolsTest, ATypeLimitLetsInThatManyAndQueuesTheRestInOrder) {
  Make({"a=2"}, {"x", "x", "x", "x", "b"});
  EXPECT_TRUE(TryEnter(0));
  EXPECT_TRUE(TryEnter(1));
  EXPECT_FALSE(TryEnter(2));
  EXPECT_FALSE(TryEnter(3));
  EXPECT_TRUE(TryEnter(4)) << "type b has no limit";
  EXPECT_EQ(pools_->Running(0), 2u);
  EXPECT_EQ(Leave(1), std::vector<TaskIndex>{2}) << "first in line, and in at once";
  EXPECT_EQ(pools_->Running(0), 2u);
  EXPECT_EQ(Leave(0), std::vector<TaskIndex>{3});
  EXPECT_EQ(Leave(2), std::vector<TaskIndex>{});
  EXPECT_EQ(pools_->Running(0), 1u);
}

TEST_F(PoolsTest, ALimitPerColumnCountsEachValueApart) {
  Make({"a[tenant]=1"}, {"t1", "t1", "t2", "t2"});
  EXPECT_TRUE(TryEnter(0));
  EXPECT_FALSE(TryEnter(1));
  EXPECT_TRUE(TryEnter(2)) << "another tenant";
  EXPECT_FALSE(TryEnter(3));
  EXPECT_EQ(pools_->Running(0, "t1"), 1u);
  EXPECT_EQ(pools_->Running(0, "t2"), 1u);
  EXPECT_EQ(Leave(2), std::vector<TaskIndex>{3});
  EXPECT_EQ(pools_->Running(0, "t2"), 1u) << "3 holds the place 2 freed";
}

TEST_F(PoolsTest, ATaskEntersEveryPoolOrNone) {
  // At most 3 overall, and 1 per tenant of type a.
  Make({"*=3", "a[tenant]=1"}, {"t1", "t1", "b", "b", "b"});
  EXPECT_TRUE(TryEnter(0));
  EXPECT_FALSE(TryEnter(1)) << "its tenant is full";
  EXPECT_EQ(pools_->Running(0), 1u) << "and it took no place overall";
  EXPECT_TRUE(TryEnter(2));
  EXPECT_TRUE(TryEnter(3));
  EXPECT_FALSE(TryEnter(4)) << "3 overall";
  // Frees a place overall and one for t1: 4, first in the overall line, takes the place
  // overall; then 1 finds the overall pool full again and waits in its line, behind no one.
  EXPECT_EQ(Leave(0), std::vector<TaskIndex>{4});
  EXPECT_EQ(pools_->Running(0), 3u);
  EXPECT_EQ(pools_->Running(1, "t1"), 0u) << "1 holds nothing while it waits";
  EXPECT_EQ(Leave(2), std::vector<TaskIndex>{1});
  EXPECT_EQ(pools_->Running(1, "t1"), 1u);
}

// One place that frees lets in as many of the line as there is room for: a task that cannot
// enter (another of its pools is full) does not keep the place from the next one.
TEST_F(PoolsTest, AWaiterBlockedElsewhereLetsTheNextOneIn) {
  Make({"*=2", "a[tenant]=1"}, {"t1", "t1", "t2"});
  EXPECT_TRUE(TryEnter(0));
  EXPECT_FALSE(TryEnter(1)) << "t1 is full";
  EXPECT_TRUE(TryEnter(2));
  // The overall pool is full; 1 waits for t1. Now 2 leaves: a place overall, and the line
  // overall is empty, so no one enters; then 0 leaves: 1 enters.
  EXPECT_EQ(Leave(2), std::vector<TaskIndex>{});
  EXPECT_EQ(Leave(0), std::vector<TaskIndex>{1});
}

TEST_F(PoolsTest, AWithdrawnRunnerHearsNothingMore) {
  Make({"a=1"}, {"x", "x", "x"});
  AdmissionLog other;
  EXPECT_TRUE(TryEnter(0));
  EXPECT_FALSE(pools_->TryEnter(tasks_, 1, other));
  EXPECT_FALSE(TryEnter(2));
  pools_->Withdraw(other);
  EXPECT_EQ(Leave(0), std::vector<TaskIndex>{2}) << "1 was withdrawn";
  EXPECT_TRUE(other.admitted.empty());
}

// Threads that share the pools never let more in than the limit, and every task gets in.
TEST_F(PoolsTest, ThreadsThatShareAPoolKeepItsLimitAndLoseNoOne) {
  constexpr std::size_t kTasks = 5'000;
  constexpr std::size_t kThreads = 4;
  Make({"a=3"}, std::vector<std::string>(kTasks, "x"));
  std::atomic<std::size_t> held{0};  // tasks known to be in, not yet leaving
  std::atomic<std::size_t> most{0};
  std::atomic<std::size_t> done{0};
  const auto entered = [&] {
    const std::size_t now = held.fetch_add(1) + 1;
    std::size_t seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
  };
  // A thread's tasks are i % kThreads == k; one let in from a line goes to its own thread.
  struct Lane final : AdmissionSink {
    std::function<void()> entered;
    std::mutex mutex;
    std::vector<TaskIndex> ready;
    void Admitted(TaskIndex task) override {
      entered();
      const std::lock_guard lock(mutex);
      ready.push_back(task);
    }
  };
  std::array<Lane, kThreads> lanes;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::vector<std::thread> threads;
  for (std::size_t k = 0; k < kThreads; ++k) {
    lanes[k].entered = entered;
    threads.emplace_back([&, k] {
      std::deque<TaskIndex> running;
      auto next = static_cast<TaskIndex>(k);
      while (done.load() < kTasks && std::chrono::steady_clock::now() < deadline) {
        if (next < kTasks) {
          if (TryEnter(next, &lanes[k])) {
            entered();
            running.push_back(next);
          }
          next += kThreads;
        }
        {
          const std::lock_guard lock(lanes[k].mutex);
          running.insert(running.end(), lanes[k].ready.begin(), lanes[k].ready.end());
          lanes[k].ready.clear();
        }
        // Each thread keeps two in while it has tasks to try: eight want in at once.
        if (running.size() > 1 || (next >= kTasks && !running.empty())) {
          const TaskIndex leaving = running.front();
          running.pop_front();
          held.fetch_sub(1);
          done.fetch_add(1);
          pools_->Leave(tasks_, leaving);
        } else {
          std::this_thread::yield();  // waiting for others to free a place
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(done.load(), kTasks) << "a task was lost in a line";
  EXPECT_LE(most.load(), 3u);
  EXPECT_EQ(pools_->Running(0), 0u);
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
