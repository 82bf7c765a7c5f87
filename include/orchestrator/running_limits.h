// --limit: how many tasks may run at once, per task_type and per value of a column.
#ifndef ORCHESTRATOR_RUNNING_LIMITS_H_
#define ORCHESTRATOR_RUNNING_LIMITS_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "orchestrator/blueprint.h"
#include "orchestrator/blueprint_file.h"
#include "orchestrator/fallible.h"
#include "orchestrator/running_limit.h"
#include "orchestrator/task.h"
#include "orchestrator/task_reader.h"

namespace orchestrator {

/// With a blueprint file: why `limits` cannot hold, if one names a column that a blueprint
/// it applies to does not declare (every blueprint of the file, for TYPE `*`).
CheckResult CheckLimitColumns(const std::vector<RunningLimit>& limits, const BlueprintFile& file);

/// Without a blueprint file: the built-in blueprint of each task_type, and what the reader
/// checks its rows against. A limit per column makes its column a string column of the types
/// it names (every type, for TYPE `*`), read from the input; a row of such a type in a header
/// without the column is an input error, and rows of the other types need none of them.
class BuiltinKinds {
 public:
  BuiltinKinds(Blueprint builtin, const std::vector<RunningLimit>& limits);

  /// The blueprint of `task_type`'s rows: `builtin` with the columns of the limits naming
  /// it, in the order the limits came (those of TYPE `*` first).
  const Blueprint& Of(std::string_view task_type) const;
  /// For the reader: null when no limit names a column, so no row needs one.
  const TaskKinds* kinds() const { return kinds_ ? &*kinds_ : nullptr; }

 private:
  Blueprint any_;                                        // of every type not in named_
  std::map<std::string, Blueprint, std::less<>> named_;  // by a limit per column
  std::optional<TaskKindTable> kinds_;
};

/// The limits of a run: those of the command line, then those of the blueprint file that
/// the command line does not set again (the same type, and column or none).
std::vector<RunningLimit> MergeLimits(std::vector<RunningLimit> command_line,
                                      const std::vector<RunningLimit>& file);

/// A warning for each limit whose task_type no row has.
std::vector<std::string> LimitWarnings(const std::vector<RunningLimit>& limits,
                                       const std::vector<std::string>& type_names);

/// Hears that a task which waited in a pool's line has its places now. Called from whichever
/// thread freed the place, with no lock held: a sink of a runner on another thread passes the
/// news to that runner's own loop.
class AdmissionSink {
 public:
  virtual ~AdmissionSink() = default;
  /// `task` (of the list the sink's runner runs) entered every pool it waited for.
  virtual void Admitted(TaskIndex task) = 0;
};

/// The pools of a run's --limit options, one count per pool for the whole run, and the tasks
/// waiting for a place in them; every runner of the run shares it, on whatever thread. A task
/// enters every pool that applies to it at once, or none: when one is full it waits in that
/// pool's line, in the order tasks came on every thread, holding nothing. When a place frees,
/// the task at the head of the line enters in the same step (no task that comes later can
/// take the place first) and its runner hears it through its AdmissionSink.
///
/// One lock guards the counts and the lines; it is held for a few lookups, never while a
/// runner works, so threads that share it wait on each other little.
class RunningLimits {
 public:
  /// `blueprints[t]` is the blueprint of tasks of type t (`type_names[t]`); one alone serves
  /// every type. A limit's column is read from its template slot; a limit whose column a
  /// type's blueprint lacks does not apply to that type (the caller has refused that already).
  RunningLimits(std::vector<RunningLimit> limits, const std::vector<std::string>& type_names,
                std::vector<const Blueprint*> blueprints);
  RunningLimits(const RunningLimits&) = delete;
  RunningLimits& operator=(const RunningLimits&) = delete;

  bool empty() const { return limits_.empty(); }

  /// Takes a place in each pool of task `task` of `list`, and returns true; or, when one is
  /// full, takes none, puts the task in that pool's line and returns false: `sink` hears when
  /// it has entered. `list` must outlive its time in the line.
  bool TryEnter(const TaskList& list, TaskIndex task, AdmissionSink& sink);
  /// TryEnter for each of `tasks` in turn, under one lock: `entered[i]` says whether
  /// `tasks[i]` entered. For the start of a run, when every runner asks for every task at once.
  void TryEnterEach(const TaskList& list, std::span<const TaskIndex> tasks, AdmissionSink& sink,
                    std::vector<bool>& entered);
  /// `task` of `list`, which entered, has ended: its places are free. The tasks at the heads
  /// of those pools' lines enter while there is room, and their sinks hear it (after the lock
  /// is let go: a sink may be called on this thread, and start its task at once).
  void Leave(const TaskList& list, TaskIndex task);
  /// Takes every task `sink` is told of out of the lines: its runner has given them rows.
  void Withdraw(const AdmissionSink& sink);

  /// Tasks running in the pool of `limit` (an index into the limits given) and, for a
  /// limit per column, `value`.
  std::size_t Running(std::size_t limit, std::string_view value = {}) const;

 private:
  struct Waiter {
    AdmissionSink* sink;
    const TaskList* list;
    TaskIndex task;
  };
  struct Pool {
    std::size_t max = 1;
    std::size_t running = 0;
    std::deque<Waiter> line;
  };
  struct Applied {
    std::size_t limit;                // index into limits_
    std::optional<std::size_t> slot;  // the column's template slot, for a limit per column
  };
  // The pools of one task: few (one per limit that applies to its type).
  using TaskPools = boost::container::small_vector<Pool*, 4>;

  // Looks a pool up by the value's text itself: no string is made but for a new value.
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const {
      return std::hash<std::string_view>{}(text);
    }
  };
  using PoolsByValue = std::unordered_map<std::string, Pool, TextHash, std::equal_to<>>;

  // With mutex_ held, all three.
  void PoolsOf(const TaskList& list, TaskIndex task, TaskPools& pools);
  Pool& PoolOf(const Applied& applied, const TaskList& list, TaskIndex task);
  bool EnterLocked(const Waiter& waiter);

  const std::vector<RunningLimit> limits_;
  std::vector<const Blueprint*> blueprints_;   // by task type
  std::vector<std::vector<Applied>> by_type_;  // the limits that apply to each task type
  mutable std::mutex mutex_;
  std::vector<Pool> whole_;              // by limit, for limits without a column
  std::vector<PoolsByValue> per_value_;  // by limit
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_RUNNING_LIMITS_H_
