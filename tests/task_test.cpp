#include "orchestrator/task.h"

#include <gtest/gtest.h>

namespace orchestrator {
namespace {

TEST(ParseTaskIdTest, AcceptsDecimalDigitsWithBlanksAround) {
  EXPECT_EQ(ParseTaskId("0"), 0u);
  EXPECT_EQ(ParseTaskId("007"), 7u);
  EXPECT_EQ(ParseTaskId(" \t42 \t"), 42u);
  EXPECT_EQ(ParseTaskId("18446744073709551615"), 18446744073709551615u);
}

TEST(ParseTaskIdTest, RefusesEverythingElse) {
  for (const char* bad : {"", " ", "-1", "+1", "1.0", "1e3", "0x1", "1 2", "a", "١",
                          "18446744073709551616", "99999999999999999999999"}) {
    EXPECT_FALSE(ParseTaskId(bad).has_value()) << bad;
  }
}

TEST(ParseTaskIdTest, DescribesWhatIsWrong) {
  EXPECT_EQ(DescribeBadTaskId(" "), "task_id is empty");
  EXPECT_EQ(DescribeBadTaskId("18446744073709551616"),
            "task_id \"18446744073709551616\" is larger than 18446744073709551615");
  EXPECT_EQ(DescribeBadTaskId("-3"),
            "task_id \"-3\" is not a whole number from 0 to 18446744073709551615");
}

std::vector<Task> Tasks(std::initializer_list<std::pair<TaskId, std::uint32_t>> items) {
  std::vector<Task> tasks;
  for (auto [id, type] : items) tasks.push_back({id, type});
  return tasks;
}

TEST(DropDuplicateTasksTest, KeepsFirstOccurrenceInInputOrder) {
  std::vector<Task> tasks = Tasks({{101, 0}, {102, 0}, {101, 1}, {103, 0}, {102, 2}, {5, 0}});
  EXPECT_EQ(DropDuplicateTasks(tasks), 2u);
  EXPECT_EQ(tasks, Tasks({{101, 0}, {102, 0}, {103, 0}, {5, 0}}));
}

TEST(DropDuplicateTasksTest, LeavesUniqueTasksAlone) {
  std::vector<Task> tasks = Tasks({{3, 0}, {1, 0}, {2, 0}});
  EXPECT_EQ(DropDuplicateTasks(tasks), 0u);
  EXPECT_EQ(tasks, Tasks({{3, 0}, {1, 0}, {2, 0}}));
  std::vector<Task> none;
  EXPECT_EQ(DropDuplicateTasks(none), 0u);
}

TEST(DropDuplicateTasksTest, HandlesManyRepeatsOfOneId) {
  std::vector<Task> tasks(10'000, Task{9, 0});
  tasks.push_back({10, 0});
  EXPECT_EQ(DropDuplicateTasks(tasks), 9'999u);
  EXPECT_EQ(tasks, Tasks({{9, 0}, {10, 0}}));
}

TEST(TaskTest, CarriesItsColumnRowInTheSixteenBytes) {
  static_assert(sizeof(Task) == 16);
  EXPECT_EQ(Task{}.values, kNoValues);
  EXPECT_EQ((Task{7, 1}.values), kNoValues);
}

TEST(DropDuplicateTasksTest, KeepsTheFirstOccurrencesColumnRow) {
  std::vector<Task> tasks{{1, 0, 0}, {2, 0, kNoValues}, {1, 0, 1}, {3, 0, 2}, {2, 0, 3}};
  EXPECT_EQ(DropDuplicateTasks(tasks), 2u);
  EXPECT_EQ(tasks, (std::vector<Task>{{1, 0, 0}, {2, 0, kNoValues}, {3, 0, 2}}));
}

TEST(DropDuplicateTasksTest, DropsTheColumnRowsOfDroppedTasks) {
  ColumnTable values;
  std::vector<Task> tasks;
  const auto add = [&](TaskId id, std::initializer_list<std::string_view> row) {
    tasks.push_back({id, 0, row.size() == 0 ? kNoValues : values.AddRow(row)});
  };
  add(1, {"a1"});
  add(2, {});
  add(1, {"a1 again"});
  add(3, {"c", "3"});
  add(2, {"b again"});
  add(4, {"d"});
  EXPECT_EQ(DropDuplicateTasks(tasks, values), 2u);
  ASSERT_EQ(tasks.size(), 4u);
  EXPECT_EQ(values.rows(), 3u);
  EXPECT_EQ(tasks[0].values, 0u);
  EXPECT_EQ(tasks[1].values, kNoValues);
  EXPECT_EQ(tasks[2].values, 1u);
  EXPECT_EQ(tasks[3].values, 2u);
  EXPECT_EQ(values.Value(tasks[0].values, 0), "a1");
  EXPECT_EQ(values.Value(tasks[2].values, 1), "3");
  EXPECT_EQ(values.Value(tasks[3].values, 0), "d");

  EXPECT_EQ(DropDuplicateTasks(tasks, values), 0u);
  EXPECT_EQ(values.rows(), 3u);
  EXPECT_EQ(values.Value(tasks[3].values, 0), "d");
}

}  // namespace
}  // namespace orchestrator
