#include "orchestrator/running_limits.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <utility>

#include "orchestrator/task_values.h"

namespace orchestrator {

std::variant<RunningLimit, std::string> ParseRunningLimit(std::string_view text) {
  const auto problem = [&] {
    return fmt::format(
        "--limit \"{}\": expected TYPE=N or TYPE[COLUMN]=N with N from 1 (TYPE * for every "
        "type), like ingest=5 or 'ingest[tenant]=3'",
        text);
  };
  const std::size_t equals = text.rfind('=');
  if (equals == std::string_view::npos || equals == 0) return problem();
  std::string_view target = text.substr(0, equals);
  const std::string_view number = text.substr(equals + 1);
  RunningLimit limit;
  limit.text = std::string(text);
  const char* end = number.data() + number.size();
  const auto [ptr, error] = std::from_chars(number.data(), end, limit.max);
  if (number.empty() || error != std::errc() || ptr != end || limit.max == 0) return problem();
  if (target.ends_with(']')) {
    const std::size_t open = target.find('[');
    if (open == std::string_view::npos || open == 0 || open + 2 >= target.size()) {
      return problem();
    }
    limit.column = std::string(target.substr(open + 1, target.size() - open - 2));
    target = target.substr(0, open);
  }
  if (target.empty() || target.find_first_of("[]") != std::string_view::npos ||
      limit.column.find_first_of("[]") != std::string::npos) {
    return problem();
  }
  limit.type = std::string(target);
  return limit;
}

CheckResult CheckLimitColumns(const std::vector<RunningLimit>& limits, const BlueprintFile& file) {
  for (const RunningLimit& limit : limits) {
    if (limit.column.empty()) continue;
    for (const Blueprint& kind : file.kinds) {
      if (limit.type != "*" && limit.type != kind.name) continue;
      if (!SlotOf(kind, limit.column)) {
        return fmt::format("--limit \"{}\": [types.{}] in {} declares no column {}", limit.text,
                           kind.name, file.path, limit.column);
      }
    }
  }
  return kPassed;
}

namespace {

void AddColumn(Blueprint& blueprint, const std::string& column) {
  if (!SlotOf(blueprint, column)) blueprint.columns.push_back({column, ColumnType::kString});
}

TaskKinds::Kind KindOf(const Blueprint& blueprint) {
  TaskKinds::Kind kind;
  for (const ColumnSpec& column : blueprint.columns) {
    kind.columns.push_back({column.name, column.type});
  }
  return kind;
}

}  // namespace

BuiltinKinds::BuiltinKinds(Blueprint builtin, const std::vector<RunningLimit>& limits)
    : any_(std::move(builtin)) {
  // TYPE `*` first: its columns are every type's, so a named type starts from them.
  for (const RunningLimit& limit : limits) {
    if (!limit.column.empty() && limit.type == "*") AddColumn(any_, limit.column);
  }
  bool any_column = !any_.columns.empty();
  for (const RunningLimit& limit : limits) {
    if (limit.column.empty() || limit.type == "*") continue;
    const auto [named, added] = named_.try_emplace(limit.type, any_);
    if (added) named->second.name = limit.type;
    AddColumn(named->second, limit.column);
    any_column = any_column || !named->second.columns.empty();
  }
  if (!any_column) return;  // task_id or task_type alone: the reader has them anyway
  // The kind of each type lists its blueprint's columns in the same order: the reader keeps
  // a row's values in that order, and the blueprint's slots read them so.
  kinds_.emplace("--limit");
  kinds_->Add("*", KindOf(any_));
  for (const auto& [type, blueprint] : named_) kinds_->Add(type, KindOf(blueprint));
}

const Blueprint& BuiltinKinds::Of(std::string_view task_type) const {
  const auto found = named_.find(task_type);
  return found == named_.end() ? any_ : found->second;
}

std::vector<RunningLimit> MergeLimits(std::vector<RunningLimit> command_line,
                                      const std::vector<RunningLimit>& file) {
  const std::size_t given = command_line.size();
  for (const RunningLimit& limit : file) {
    const auto end = command_line.begin() + static_cast<std::ptrdiff_t>(given);
    const bool overridden = std::any_of(command_line.begin(), end, [&](const RunningLimit& cli) {
      return cli.type == limit.type && cli.column == limit.column;
    });
    if (!overridden) command_line.push_back(limit);
  }
  return command_line;
}

std::vector<std::string> LimitWarnings(const std::vector<RunningLimit>& limits,
                                       const std::vector<std::string>& type_names) {
  std::vector<std::string> warnings;
  for (const RunningLimit& limit : limits) {
    if (limit.type == "*") continue;
    if (std::find(type_names.begin(), type_names.end(), limit.type) == type_names.end()) {
      warnings.push_back(
          fmt::format("--limit \"{}\": no task has task_type {}", limit.text, limit.type));
    }
  }
  return warnings;
}

RunningLimits::RunningLimits(std::vector<RunningLimit> limits, const TaskList& tasks,
                             const std::vector<const Blueprint*>& blueprints)
    : limits_(std::move(limits)),
      tasks_(tasks),
      blueprints_(blueprints),
      by_type_(tasks.type_names.size()),
      whole_(limits_.size()),
      per_value_(limits_.size()) {
  for (std::size_t type = 0; type < tasks.type_names.size(); ++type) {
    for (std::size_t l = 0; l < limits_.size(); ++l) {
      const RunningLimit& limit = limits_[l];
      if (limit.type != "*" && limit.type != tasks.type_names[type]) continue;
      if (limit.column.empty()) {
        by_type_[type].push_back({l, std::nullopt});
      } else if (type < blueprints.size()) {
        if (const auto slot = SlotOf(*blueprints[type], limit.column)) {
          by_type_[type].push_back({l, slot});
        }
      }
    }
  }
}

RunningLimits::Pool& RunningLimits::PoolOf(const Applied& applied, TaskIndex task) {
  if (!applied.slot) return whole_[applied.limit];
  const Task& row = tasks_.tasks[task];
  const TaskValues values(tasks_, row, *blueprints_[row.type]);
  auto& pools = per_value_[applied.limit];
  const std::string_view value = values(*applied.slot).text;
  auto found = pools.find(value);
  if (found == pools.end()) found = pools.emplace(std::string(value), Pool{}).first;
  return found->second;
}

bool RunningLimits::TryEnter(TaskIndex task) {
  // A pool's node stays where it is when others are added, so the pointers hold.
  entering_.clear();
  for (const Applied& each : by_type_[tasks_.tasks[task].type]) {
    Pool& pool = PoolOf(each, task);
    if (pool.running >= limits_[each.limit].max) {
      pool.line.push_back(task);
      return false;
    }
    entering_.push_back(&pool);
  }
  for (Pool* pool : entering_) ++pool->running;
  return true;
}

void RunningLimits::Leave(TaskIndex task, std::vector<TaskIndex>& retry) {
  for (const Applied& each : by_type_[tasks_.tasks[task].type]) {
    Pool& pool = PoolOf(each, task);
    --pool.running;
    if (!pool.line.empty()) {
      retry.push_back(pool.line.front());
      pool.line.pop_front();
    }
  }
}

std::size_t RunningLimits::Running(std::size_t limit, std::string_view value) const {
  if (limits_[limit].column.empty()) return whole_[limit].running;
  const auto found = per_value_[limit].find(value);
  return found == per_value_[limit].end() ? 0 : found->second.running;
}

}  // namespace orchestrator
