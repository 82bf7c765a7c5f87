// How a run becomes its workers: how many threads, and what each one gets.
#ifndef ORCHESTRATOR_RUN_PLAN_H_
#define ORCHESTRATOR_RUN_PLAN_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/blueprint.h"
#include "orchestrator/halt_policy.h"
#include "orchestrator/halt_switch.h"
#include "orchestrator/run_rates.h"
#include "orchestrator/running_limits.h"
#include "orchestrator/task.h"

namespace orchestrator {

/// The rules that hold for the whole run, one object each, which every worker's runner is
/// given and shares: --rate and the blueprints' rates, --halt, the pools of --limit (and the
/// blueprints' max_running). It must outlive the workers.
class RunRules {
 public:
  /// `blueprints[t]`: the blueprint of task type t (`type_names[t]`).
  RunRules(HaltPolicy halt, std::optional<double> rate, std::vector<RunningLimit> limits,
           const std::vector<std::string>& type_names,
           const std::vector<const Blueprint*>& blueprints);
  RunRules(const RunRules&) = delete;
  RunRules& operator=(const RunRules&) = delete;

  RunRates& rates() { return rates_; }
  /// Null without --halt.
  HaltSwitch* halt() { return halt_ ? &*halt_ : nullptr; }
  /// Null without a limit.
  RunningLimits* limits() { return limits_ ? &*limits_ : nullptr; }

 private:
  RunRates rates_;
  std::optional<HaltSwitch> halt_;
  std::optional<RunningLimits> limits_;
};

/// Deals `tasks` out to `count` lists in turn (task i to list i % count), so that each
/// list gets the same mix of the input; with dependencies, as PlaceTasks says (chains stay
/// on one list). Every list keeps all the type names, at the same indices, so a Task means
/// the same in each; a task's column values move to its list's table. Every list shares the
/// whole input's graph, and says which list it is and where the others' tasks are
/// (TaskList::deal): a dependency may cross lists, and their runners tell each other. A
/// list may be empty (one long chain).
std::vector<TaskList> SplitTasks(TaskList tasks, std::size_t count);

/// Threads a run uses unless told: one per CPU this process may run on.
std::size_t DefaultThreadCount();

/// Worker `index`'s part of `total` (fetch slots, say) when `count` workers share it evenly.
std::size_t ShareOf(std::size_t total, std::size_t count, std::size_t index);

/// The threads a run uses: `requested` (--threads), or one per CPU (`cpus`) when it is 0.
std::size_t PlanThreads(std::size_t requested, std::size_t cpus);

/// One worker's part of a run.
struct WorkerPlan {
  TaskList tasks;
  std::size_t max_fetches = 1;  ///< its share of the run's fetch slots (and connections)
};

/// Deals `tasks` out (SplitTasks) to at most `threads` workers, never more than there are
/// fetch slots or tasks (and at least one), and `max_fetches` out to the workers that got
/// tasks, evenly (ShareOf); a worker without tasks (one long chain leaves the others none)
/// keeps one slot it never uses.
std::vector<WorkerPlan> PlanWorkers(TaskList tasks, std::size_t threads, std::size_t max_fetches);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_RUN_PLAN_H_
