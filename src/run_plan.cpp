#include "orchestrator/run_plan.h"

#include <sched.h>

#include <algorithm>
#include <memory>
#include <string_view>
#include <thread>

namespace orchestrator {

std::vector<TaskList> SplitTasks(TaskList tasks, std::size_t count) {
  std::vector<TaskList> lists;
  if (count <= 1) {
    lists.push_back(std::move(tasks));  // not `return {...}`: an initializer list copies
    return lists;
  }
  lists.resize(count);
  const auto lists_count = static_cast<std::uint32_t>(count);
  const std::shared_ptr<const Placement> placement =
      PlaceTasks(tasks.tasks.size(), tasks.graph, lists_count);
  for (std::uint32_t k = 0; k < lists_count; ++k) {
    lists[k].type_names = tasks.type_names;
    lists[k].tasks.reserve(placement ? placement->whole_of[k].size()
                                     : ShareOf(tasks.tasks.size(), count, k));
    lists[k].graph = tasks.graph;  // shared, not copied
    lists[k].deal = {.list = k, .lists = lists_count, .placement = placement};
  }
  const Deal& deal = lists[0].deal;
  // A task's column values go with it to its list's own table.
  std::vector<std::string_view> values;
  for (std::size_t i = 0; i < tasks.tasks.size(); ++i) {
    TaskList& list = lists[deal.ListOf(static_cast<TaskIndex>(i))];
    Task task = tasks.tasks[i];
    if (task.values != kNoValues) {
      values.clear();
      for (std::size_t v = 0; v < tasks.values.ValueCount(task.values); ++v) {
        values.push_back(tasks.values.Value(task.values, v));
      }
      // Each list holds a part of what the whole table held, so it fits.
      task.values = list.values.AddRow(values);
    }
    list.tasks.push_back(task);
  }
  // TaskList::rows stays 0: a dealt list read no rows of its own (the input's count of
  // rows read, duplicates included, is the whole list's).
  for (std::size_t k = 0; k < count; ++k) lists[k].values.ShrinkToFit();
  return lists;
}

std::size_t DefaultThreadCount() {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  // The CPUs this process may use (taskset, cgroups' cpusets), not all the machine has.
  if (::sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_COUNT(&cpus) > 0) {
    return static_cast<std::size_t>(CPU_COUNT(&cpus));
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

std::size_t ShareOf(std::size_t total, std::size_t count, std::size_t index) {
  return total / count + (index < total % count ? 1 : 0);
}

RunRules::RunRules(HaltPolicy halt, std::optional<double> rate, std::vector<RunningLimit> limits,
                   const std::vector<std::string>& type_names,
                   const std::vector<const Blueprint*>& blueprints)
    : rates_(rate, blueprints) {
  if (halt.when != HaltPolicy::When::kNever) halt_.emplace(halt);
  if (!limits.empty()) limits_.emplace(std::move(limits), type_names, blueprints);
}

std::size_t PlanThreads(std::size_t requested, std::size_t cpus) {
  return requested != 0 ? requested : std::max<std::size_t>(1, cpus);
}

std::vector<WorkerPlan> PlanWorkers(TaskList tasks, std::size_t threads, std::size_t max_fetches) {
  const std::size_t count =
      std::max<std::size_t>(1, std::min({threads, max_fetches, tasks.tasks.size()}));
  std::vector<TaskList> lists = SplitTasks(std::move(tasks), count);
  const auto busy = static_cast<std::size_t>(std::count_if(
      lists.begin(), lists.end(), [](const TaskList& list) { return !list.tasks.empty(); }));
  std::vector<WorkerPlan> plans;
  plans.reserve(lists.size());
  for (std::size_t k = 0, busy_k = 0; k < lists.size(); ++k) {
    const bool idle = lists[k].tasks.empty();
    const std::size_t fetches = idle ? 1 : ShareOf(max_fetches, busy, busy_k++);
    plans.push_back({.tasks = std::move(lists[k]), .max_fetches = fetches});
  }
  return plans;
}

}  // namespace orchestrator
