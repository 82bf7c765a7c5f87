// The unit of work: a task read from the input CSV.
#ifndef ORCHESTRATOR_TASK_H_
#define ORCHESTRATOR_TASK_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orchestrator {

/// A task's identity in the input and the output: an unsigned 64-bit decimal.
using TaskId = std::uint64_t;

/// Position of a task in a TaskList. The runner refers to tasks by index, not by
/// pointer, so that per-task bookkeeping stays a few bytes.
using TaskIndex = std::uint32_t;

/// One unique task. Kept at 16 bytes: a run may hold millions of them.
struct Task {
  TaskId id = 0;
  std::uint32_t type = 0;  ///< Index into TaskList::type_names.

  friend bool operator==(const Task&, const Task&) = default;
};

/// The tasks of one run, in input order.
struct TaskList {
  std::vector<Task> tasks;
  /// Distinct task_type values, each stored once (a million rows usually share one or two).
  std::vector<std::string> type_names;
  /// Data rows read, duplicates included.
  std::size_t rows = 0;

  const std::string& TypeName(const Task& task) const { return type_names[task.type]; }
};

/// Parses a task_id: decimal digits only (leading zeros allowed), 0 to 18446744073709551615,
/// with spaces or tabs around it. Anything else (empty, a sign, a fraction, an exponent, hex,
/// an inner space, overflow) gives nullopt.
std::optional<TaskId> ParseTaskId(std::string_view text);

/// Says what is wrong with a task_id that ParseTaskId refused, for an error message.
std::string DescribeBadTaskId(std::string_view text);

/// Keeps the first occurrence of each task_id and drops the rest, preserving input order.
/// Returns how many tasks were dropped. Sorts a copy of the ids rather than building a
/// node-based hash set: 8 bytes of scratch per task instead of ~40.
std::size_t DropDuplicateTasks(std::vector<Task>& tasks);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_TASK_H_
