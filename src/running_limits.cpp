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

RunningLimits::RunningLimits(std::vector<RunningLimit> limits,
                             const std::vector<std::string>& type_names,
                             std::vector<const Blueprint*> blueprints)
    : limits_(std::move(limits)),
      blueprints_(std::move(blueprints)),
      by_type_(type_names.size()),
      whole_(limits_.size()),
      per_value_(limits_.size()) {
  if (blueprints_.size() == 1) blueprints_.resize(type_names.size(), blueprints_[0]);
  for (std::size_t l = 0; l < limits_.size(); ++l) whole_[l].max = limits_[l].max;
  for (std::size_t type = 0; type < type_names.size(); ++type) {
    for (std::size_t l = 0; l < limits_.size(); ++l) {
      const RunningLimit& limit = limits_[l];
      if (limit.type != "*" && limit.type != type_names[type]) continue;
      if (limit.column.empty()) {
        by_type_[type].push_back({l, std::nullopt});
      } else if (type < blueprints_.size()) {
        if (const auto slot = SlotOf(*blueprints_[type], limit.column)) {
          by_type_[type].push_back({l, slot});
        }
      }
    }
  }
}

RunningLimits::Pool& RunningLimits::PoolOf(const Applied& applied, const TaskList& list,
                                           TaskIndex task) {
  if (!applied.slot) return whole_[applied.limit];
  const Task& row = list.tasks[task];
  const TaskValues values(list, row, *blueprints_[row.type]);
  auto& pools = per_value_[applied.limit];
  const std::string_view value = values(*applied.slot).text;
  auto found = pools.find(value);
  if (found == pools.end()) {
    found = pools
                .emplace(std::string(value),
                         Pool{.max = limits_[applied.limit].max, .running = 0, .line = {}})
                .first;
  }
  return found->second;
}

// A pool's node stays where it is when others are added, so the pointers hold.
void RunningLimits::PoolsOf(const TaskList& list, TaskIndex task, TaskPools& pools) {
  pools.clear();
  for (const Applied& each : by_type_[list.tasks[task].type]) {
    pools.push_back(&PoolOf(each, list, task));
  }
}

bool RunningLimits::EnterLocked(const Waiter& waiter) {
  TaskPools pools;
  PoolsOf(*waiter.list, waiter.task, pools);
  for (Pool* pool : pools) {
    if (pool->running >= pool->max) {
      pool->line.push_back(waiter);
      return false;
    }
  }
  for (Pool* pool : pools) ++pool->running;
  return true;
}

bool RunningLimits::TryEnter(const TaskList& list, TaskIndex task, AdmissionSink& sink) {
  const std::lock_guard lock(mutex_);
  return EnterLocked({.sink = &sink, .list = &list, .task = task});
}

void RunningLimits::TryEnterEach(const TaskList& list, std::span<const TaskIndex> tasks,
                                 AdmissionSink& sink, std::vector<bool>& entered) {
  entered.assign(tasks.size(), false);
  const std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    entered[i] = EnterLocked({.sink = &sink, .list = &list, .task = tasks[i]});
  }
}

void RunningLimits::Leave(const TaskList& list, TaskIndex task) {
  boost::container::small_vector<Waiter, 4> admitted;
  {
    const std::lock_guard lock(mutex_);
    TaskPools pools;
    PoolsOf(list, task, pools);
    for (Pool* pool : pools) --pool->running;
    // One that cannot enter (another of its pools is full) waits in that pool's line, and
    // the next one here may have the place.
    for (Pool* pool : pools) {
      while (pool->running < pool->max && !pool->line.empty()) {
        const Waiter next = pool->line.front();
        pool->line.pop_front();
        if (EnterLocked(next)) admitted.push_back(next);
      }
    }
  }
  for (const Waiter& waiter : admitted) waiter.sink->Admitted(waiter.task);
}

void RunningLimits::Withdraw(const AdmissionSink& sink) {
  const std::lock_guard lock(mutex_);
  const auto withdraw = [&](Pool& pool) {
    std::erase_if(pool.line, [&](const Waiter& waiter) { return waiter.sink == &sink; });
  };
  for (Pool& pool : whole_) withdraw(pool);
  for (PoolsByValue& pools : per_value_) {
    for (auto& [value, pool] : pools) withdraw(pool);
  }
}

std::size_t RunningLimits::Running(std::size_t limit, std::string_view value) const {
  const std::lock_guard lock(mutex_);
  if (limits_[limit].column.empty()) return whole_[limit].running;
  const auto found = per_value_[limit].find(value);
  return found == per_value_[limit].end() ? 0 : found->second.running;
}

}  // namespace orchestrator
