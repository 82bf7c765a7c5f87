#include "orchestrator/task.h"

#include <fmt/format.h>
#include <algorithm>
#include <charconv>

#include "orchestrator/input_error.h"
#include "orchestrator/text.h"

namespace orchestrator {
namespace {

bool AllDigits(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::optional<TaskId> ParseTaskId(std::string_view text) {
  text = Trim(text);
  // from_chars alone would accept a prefix ("5x") and, for unsigned types, nothing else
  // we need to refuse; checking the characters first keeps the rule obvious.
  if (text.empty() || !AllDigits(text)) return std::nullopt;
  TaskId id = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return id;
}

std::string DescribeBadTaskId(std::string_view text) {
  const std::string_view trimmed = Trim(text);
  if (trimmed.empty()) return "task_id is empty";
  if (AllDigits(trimmed)) {
    return fmt::format("task_id {} is larger than 18446744073709551615", QuoteForMessage(trimmed));
  }
  return fmt::format("task_id {} is not a whole number from 0 to 18446744073709551615",
                     QuoteForMessage(trimmed));
}

std::size_t DropDuplicateTasks(std::vector<Task>& tasks) {
  std::vector<TaskId> ids(tasks.size());
  std::transform(tasks.begin(), tasks.end(), ids.begin(), [](const Task& t) { return t.id; });
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  const std::size_t dropped = tasks.size() - ids.size();
  if (dropped == 0) return 0;

  // Walk the tasks in input order; the first time an id is met it is kept.
  std::vector<bool> seen(ids.size());
  const auto duplicate = [&](const Task& task) {
    const auto slot = std::lower_bound(ids.begin(), ids.end(), task.id) - ids.begin();
    if (seen[slot]) return true;
    seen[slot] = true;
    return false;
  };
  tasks.erase(std::remove_if(tasks.begin(), tasks.end(), duplicate), tasks.end());
  tasks.shrink_to_fit();
  return dropped;
}

std::size_t DropDuplicateTasks(std::vector<Task>& tasks, ColumnTable& values) {
  const std::size_t dropped = DropDuplicateTasks(tasks);
  std::vector<std::uint32_t> keep;
  for (const Task& task : tasks) {
    if (task.values != kNoValues) keep.push_back(task.values);
  }
  if (keep.size() == values.rows()) return dropped;  // every row is still some task's
  values.KeepRows(keep);
  std::uint32_t next = 0;
  for (Task& task : tasks) {
    if (task.values != kNoValues) task.values = next++;
  }
  return dropped;
}

}  // namespace orchestrator
