// The values a task's templates are filled in with: its task_id, task_type and columns.
#ifndef ORCHESTRATOR_TASK_VALUES_H_
#define ORCHESTRATOR_TASK_VALUES_H_

#include <array>
#include <cstddef>
#include <string_view>

#include "orchestrator/blueprint.h"
#include "orchestrator/capture_store.h"
#include "orchestrator/dependency_values.h"
#include "orchestrator/task.h"
#include "orchestrator/template.h"

namespace orchestrator {

/// Answers Template::ExpandTo's questions for one task of `blueprint`: slot kTaskIdSlot is
/// the task_id, kTaskTypeSlot its task_type, kFirstColumnSlot + k the blueprint's column k
/// as the reader kept it (canonical, see ReadColumnValue), kFirstCaptureSlot + c what its
/// earlier steps captured for capture column c (a string; empty if none),
/// kFirstDependencySlot + c the one value of c among its dependencies' (a string; empty
/// unless exactly one has it: DependencyValues::One), kFirstDependenciesSlot + c a JSON array
/// of them all (kJson). Holds the task_id's text and that array, so it must outlive the
/// expansion; the rest are views into `tasks`, `blueprint`, `captures` and `dependencies`.
class TaskValues {
 public:
  /// `captures` and `index`: where the task's captured values are, for a blueprint whose
  /// templates name them (a runner's CaptureStore); null for one whose templates cannot.
  /// `dependencies`: its dependencies' values, for a blueprint whose templates name them.
  TaskValues(const TaskList& tasks, const Task& task, const Blueprint& blueprint,
             const CaptureStore* captures = nullptr, TaskIndex index = 0,
             const DependencyValues* dependencies = nullptr);
  TemplateValue operator()(std::size_t slot) const;

 private:
  const TaskList& tasks_;
  const Task& task_;
  const Blueprint& blueprint_;
  const CaptureStore* captures_;
  TaskIndex index_;
  const DependencyValues* dependencies_;
  mutable std::string all_values_;  // the last {deps.NAME}'s array
  std::array<char, 20> id_text_{};  // the longest task_id, 18446744073709551615, has 20 digits
  std::size_t id_length_ = 0;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_TASK_VALUES_H_
