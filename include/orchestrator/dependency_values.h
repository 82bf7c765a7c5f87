// What a task's dependencies captured, for its `{dep.NAME}` and `{deps.NAME}` placeholders.
#ifndef ORCHESTRATOR_DEPENDENCY_VALUES_H_
#define ORCHESTRATOR_DEPENDENCY_VALUES_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "orchestrator/captured_values.h"
#include "orchestrator/task.h"

namespace orchestrator {

/// A parent carried over by --resume, and what it captured in the earlier run.
struct CarriedParent {
  std::uint32_t rank = 0;  ///< Its place among the child's parents (Dependent::rank).
  TaskId parent = 0;
  CapturedValues values;
};
/// What parents carried over captured, for their children that run now: by the child's
/// task_id.
using CarriedParentValues = std::unordered_map<TaskId, std::vector<CarriedParent>>;

/// The captured values of each task's dependencies, given to it as each parent gets its row
/// and kept until its own row (Forget). Only a run whose templates name dependencies' values
/// fills it; a task none of whose parents captured anything costs an entry per parent.
class DependencyValues {
 public:
  /// What `parent` captured, for `child`, whose row lists it at place `rank`
  /// (Dependent::rank).
  void Add(TaskIndex child, std::uint32_t rank, TaskId parent, CapturedValues values);

  /// The value of capture column `column` that exactly one of `child`'s dependencies has; or
  /// nullopt, and `problem` says why: `no dependency captured price`, or `dependencies 3 and
  /// 5 both captured price; {deps.price} lists them all`. `name` is the column's name.
  std::optional<std::string_view> One(TaskIndex child, std::size_t column, std::string_view name,
                                      std::string& problem) const;
  /// Appends a JSON array of every dependency's value of `column` to `out`: a string, or the
  /// JSON value a value is (CapturedAs::kJson), null for one without it, in the order the
  /// child's row lists them (rank; task_id for parents of the same rank).
  void AppendAll(std::string& out, TaskIndex child, std::size_t column) const;

  /// The child has its row: its parents' values go.
  void Forget(TaskIndex child) { by_child_.erase(child); }

  /// The children it holds values for: for tests.
  std::size_t children() const { return by_child_.size(); }

 private:
  struct Entry {
    std::uint32_t rank;
    TaskId parent;
    CapturedValues values;
  };
  std::unordered_map<TaskIndex, std::vector<Entry>> by_child_;  // each by rank, then parent
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_DEPENDENCY_VALUES_H_
