// A shard: one process's share of a run split over N processes (issue #13), on Slurm job
// arrays, Kubernetes Indexed Jobs or by hand. Not to be confused with a worker, one thread's
// share of a process's tasks.
#ifndef ORCHESTRATOR_SHARD_H_
#define ORCHESTRATOR_SHARD_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "orchestrator/task.h"

namespace orchestrator {

/// Shard `index` of `count` (0 <= index < count).
struct Shard {
  std::uint32_t index = 0;
  std::uint32_t count = 1;

  bool operator==(const Shard&) const = default;
};

/// The most shards a run may be split into.
inline constexpr std::uint32_t kMaxShards = 1'000'000;

/// The stable hash that places a task, SplitMix64's output function applied to its id:
///   z = task_id + 0x9E3779B97F4A7C15            (mod 2^64, as every step)
///   z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
///   z = (z ^ (z >> 27)) * 0x94D049BB133111EB
///   z =  z ^ (z >> 31)
/// Every bit of the id moves every bit of z, so ids with structure (all even, steps of N,
/// a prefix per customer) spread evenly, which `id % N` would not.
std::uint64_t ShardHash(TaskId id);

/// The shard of a task with no dependencies: ShardHash(id) % count. A task with
/// dependencies goes with its whole connected group: the shard of the group's smallest id.
std::uint32_t ShardOf(TaskId id, std::uint32_t count);

/// Keeps in `list` only the tasks of `shard`, in their order, and returns how many it
/// dropped. With dependencies, each weakly connected group of tasks moves as one, to the
/// shard of its smallest task_id, so no dependency crosses shards; the graph is renumbered.
/// `list` must be a whole input, as ReadTasks returns it (before --resume takes any task).
std::size_t KeepShard(TaskList& list, Shard shard);

/// "K/N", as --shard takes it and the summary line names it.
std::string ShardName(Shard shard);

/// Parses --shard's K/N. A message (without the flag's name) for anything else.
std::variant<Shard, std::string> ParseShard(std::string_view text);

/// Reads an environment variable: its value, or null when it is not set.
using EnvironmentLookup = std::function<const char*(const char*)>;

/// Where this process's shard comes from, when --shard is not given:
///  - Kubernetes Indexed Jobs: JOB_COMPLETION_INDEX gives K; N is `shard_count`
///    (--shard-count), else ORCHESTRATOR_SHARDS (Kubernetes has no variable for it).
///  - Slurm job arrays: K = (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN) /
///    SLURM_ARRAY_TASK_STEP, N = SLURM_ARRAY_TASK_COUNT, when the array is one arithmetic
///    range; otherwise (--array=1,4,9) a message that says to pass --shard.
///  - With only --shard-count (or ORCHESTRATOR_SHARDS) and no index: a message.
///  - Nothing: no shard, the whole run.
/// JOB_COMPLETION_INDEX is looked at before the Slurm variables. A message is a usage error.
std::variant<std::optional<Shard>, std::string> ShardFromEnvironment(
    const EnvironmentLookup& lookup, std::optional<std::uint32_t> shard_count);

/// Whether `path` contains "{shard}". Without a shard, a usage error: the file of which shard?
bool NamesShard(std::string_view path);

/// `path` with each "{shard}" replaced by `shard`'s index.
std::string ExpandShardPath(std::string_view path, Shard shard);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_SHARD_H_
