// Dependencies across threads: the news a runner sends when a parent of another list's task
// has its row.
#ifndef ORCHESTRATOR_PARENT_END_H_
#define ORCHESTRATOR_PARENT_END_H_

#include <cstdint>
#include <vector>

#include "orchestrator/captured_values.h"
#include "orchestrator/task.h"
#include "orchestrator/task_graph.h"

namespace orchestrator {

/// A task has its row, and `child` waited for it. 16 bytes: a lattice of a million tasks
/// sends about a million of these between threads.
struct ParentEnd {
  TaskId parent = 0;                       ///< The parent's task_id, for "dependency 101 failed".
  TaskIndex child = 0;                     ///< In the numbering of the child's own list.
  Dependency kind = Dependency::kSuccess;  ///< What the child waited for.
  bool completed = false;                  ///< The parent's row says Completed.
};
static_assert(sizeof(ParentEnd) == 16, "sent once per edge between lists");

/// What a parent captured, for a child of another list, sent before its ParentEnd when the
/// run's templates name dependencies' values (Blueprint::uses_dependency_values).
struct ParentValues {
  TaskIndex child = 0;     ///< In the numbering of the child's own list.
  std::uint32_t rank = 0;  ///< The parent's place among the child's (Dependent::rank).
  TaskId parent = 0;
  CapturedValues values;
};

/// What one list's runner must hear of its tasks' parents on other lists, in one hand-over.
struct ParentNews {
  std::vector<ParentValues> values;  ///< First: a child's values come before its release.
  std::vector<ParentEnd> ends;
  bool empty() const { return values.empty() && ends.empty(); }
};

/// Where a runner sends the ParentEnds meant for the tasks of other lists (TaskList::deal),
/// whose runners hear them by Runner::ParentsEnded.
class ParentEndSink {
 public:
  virtual ~ParentEndSink() = default;
  /// `news.child` of list `list` (not the sender's) waited for a parent that has its row.
  virtual void ParentEnded(std::uint32_t list, const ParentEnd& news) = 0;
  /// What the parent captured, for `values.child` of list `list`: sent before its
  /// ParentEnded, when the run's templates name dependencies' values.
  virtual void ParentCaptured(std::uint32_t list, ParentValues values) = 0;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_PARENT_END_H_
