#include "orchestrator/task_values.h"

#include <charconv>

namespace orchestrator {

TaskValues::TaskValues(const TaskList& tasks, const Task& task, const Blueprint& blueprint,
                       const CaptureStore* captures, TaskIndex index,
                       const DependencyValues* dependencies)
    : tasks_(tasks),
      task_(task),
      blueprint_(blueprint),
      captures_(captures),
      index_(index),
      dependencies_(dependencies) {
  const auto written = std::to_chars(id_text_.data(), id_text_.data() + id_text_.size(), task.id);
  id_length_ = static_cast<std::size_t>(written.ptr - id_text_.data());
}

TemplateValue TaskValues::operator()(std::size_t slot) const {
  if (slot == kTaskIdSlot) return {ColumnType::kU64, std::string_view(id_text_.data(), id_length_)};
  if (slot == kTaskTypeSlot) return {ColumnType::kString, tasks_.TypeName(task_)};
  if (slot >= kFirstDependenciesSlot) {
    all_values_.clear();
    if (dependencies_ != nullptr) {
      dependencies_->AppendAll(all_values_, index_, slot - kFirstDependenciesSlot);
    } else {
      all_values_ = "[]";
    }
    return {ColumnType::kJson, all_values_};
  }
  if (slot >= kFirstDependencySlot) {
    std::string problem;  // checked before the task ran
    std::optional<std::string_view> value;
    if (dependencies_ != nullptr) {
      value = dependencies_->One(index_, slot - kFirstDependencySlot, "", problem);
    }
    return {ColumnType::kString, value.value_or(std::string_view())};
  }
  if (slot >= kFirstCaptureSlot) {
    std::optional<std::string_view> value;
    if (captures_ != nullptr) value = captures_->Find(index_, slot - kFirstCaptureSlot);
    return {ColumnType::kString, value.value_or(std::string_view())};
  }
  const std::size_t column = slot - kFirstColumnSlot;
  return {blueprint_.columns[column].type, tasks_.Value(task_, column)};
}

}  // namespace orchestrator
