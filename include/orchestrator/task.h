// The unit of work: a task read from the input CSV.
#ifndef ORCHESTRATOR_TASK_H_
#define ORCHESTRATOR_TASK_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "orchestrator/column_table.h"
#include "orchestrator/deal.h"
#include "orchestrator/task_graph.h"

namespace orchestrator {

/// A task's identity in the input and the output: an unsigned 64-bit decimal.
using TaskId = std::uint64_t;

/// Position of a task in a TaskList. The runner refers to tasks by index, not by
/// pointer, so that per-task bookkeeping stays a few bytes.
using TaskIndex = std::uint32_t;

/// A task that carries no column values.
inline constexpr std::uint32_t kNoValues = ColumnTable::kNoRow;

/// One unique task. Kept at 16 bytes: a run may hold millions of them.
struct Task {
  TaskId id = 0;
  std::uint32_t type = 0;  ///< Index into TaskList::type_names.
  /// Row of TaskList::values holding the typed columns its blueprint declares (in the
  /// blueprint's order), or kNoValues when it declares none.
  std::uint32_t values = kNoValues;

  friend bool operator==(const Task&, const Task&) = default;
};
static_assert(sizeof(Task) == 16, "a run may hold millions of tasks");

/// The tasks of one run, in input order.
struct TaskList {
  std::vector<Task> tasks;
  /// Distinct task_type values, each stored once (a million rows usually share one or two).
  std::vector<std::string> type_names;
  /// The column values of the tasks whose blueprint declares columns (Task::values).
  ColumnTable values;
  /// Data rows read, duplicates included.
  std::size_t rows = 0;
  /// Which tasks wait for which (the depends_on and after columns), by index into the whole
  /// input's tasks (see `deal`); empty when the input has neither column or names no
  /// dependency. The lists dealt from one input share it.
  TaskGraph graph;
  /// Which of the whole input's tasks `tasks` are.
  Deal deal;
  /// What the reader found worth saying but not worth refusing the input for, each a whole
  /// message without the `orchestrator: warning: ` prefix (e.g. `tasks.csv:7: task 101 is a
  /// duplicate of line 2 with other dependencies; line 2's are used`), in line order.
  std::vector<std::string> warnings;

  const std::string& TypeName(const Task& task) const { return type_names[task.type]; }
  /// Column `k` of `task`'s blueprint, in canonical form; the task must have values.
  std::string_view Value(const Task& task, std::size_t k) const {
    return values.Value(task.values, k);
  }
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
/// The same, and drops from `values` the rows only the dropped tasks used, renumbering the
/// kept tasks' rows (the rows of `tasks` are named once each).
std::size_t DropDuplicateTasks(std::vector<Task>& tasks, ColumnTable& values);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_TASK_H_
