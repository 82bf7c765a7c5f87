#include "orchestrator/shard.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <vector>

namespace orchestrator {
namespace {

constexpr std::string_view kShardPlaceholder = "{shard}";

// Decimal digits only, the whole text.
std::optional<std::uint64_t> ParseCount(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// An environment variable that must be a non-negative integer when set.
struct Variable {
  const char* name;
  const char* text;  // null when unset
  std::optional<std::uint64_t> value;
};

Variable Read(const EnvironmentLookup& lookup, const char* name) {
  const char* text = lookup(name);
  return {name, text, text != nullptr ? ParseCount(text) : std::nullopt};
}

std::string NotANumber(const Variable& variable) {
  return fmt::format("{}=\"{}\" is not a number: pass --shard K/N", variable.name,
                     std::string_view(variable.text).substr(0, 40));
}

std::string CountProblem(std::uint64_t count, std::string_view where) {
  return fmt::format("{}: {} shards; expected 1 to {}", where, count, kMaxShards);
}

// Kubernetes: JOB_COMPLETION_INDEX, with the count from --shard-count or ORCHESTRATOR_SHARDS.
std::variant<std::optional<Shard>, std::string> FromIndexedJob(
    const Variable& index, const EnvironmentLookup& lookup,
    std::optional<std::uint32_t> shard_count) {
  if (!index.value) return NotANumber(index);
  std::uint64_t count = 0;
  if (shard_count) {
    count = *shard_count;
  } else {
    const Variable shards = Read(lookup, "ORCHESTRATOR_SHARDS");
    if (shards.text == nullptr) {
      return fmt::format(
          "JOB_COMPLETION_INDEX={} is set, but not the number of shards: pass --shard-count N "
          "or set ORCHESTRATOR_SHARDS (the Job's completions)",
          *index.value);
    }
    if (!shards.value) return NotANumber(shards);
    count = *shards.value;
    if (count == 0 || count > kMaxShards) return CountProblem(count, "ORCHESTRATOR_SHARDS");
  }
  if (*index.value >= count) {
    return fmt::format("JOB_COMPLETION_INDEX={} is out of range for {} shards (0 to {})",
                       *index.value, count, count - 1);
  }
  return Shard{static_cast<std::uint32_t>(*index.value), static_cast<std::uint32_t>(count)};
}

// Slurm: K = (ID - MIN) / STEP of COUNT, when the array is one arithmetic range.
std::variant<std::optional<Shard>, std::string> FromJobArray(
    const Variable& id, const EnvironmentLookup& lookup, std::optional<std::uint32_t> shard_count) {
  const Variable min = Read(lookup, "SLURM_ARRAY_TASK_MIN");
  const Variable max = Read(lookup, "SLURM_ARRAY_TASK_MAX");
  const Variable step = Read(lookup, "SLURM_ARRAY_TASK_STEP");
  const Variable count = Read(lookup, "SLURM_ARRAY_TASK_COUNT");
  for (const Variable* variable : {&id, &min, &max, &step, &count}) {
    if (variable->text == nullptr) {
      return fmt::format("SLURM_ARRAY_TASK_ID is set but not {}: pass --shard K/N", variable->name);
    }
    if (!variable->value) return NotANumber(*variable);
  }
  const std::uint64_t first = *min.value, last = *max.value, stride = *step.value,
                      elements = *count.value, element = *id.value;
  const bool one_range = stride > 0 && first <= last && first <= element && element <= last &&
                         (last - first) % stride == 0 && (element - first) % stride == 0 &&
                         (last - first) / stride + 1 == elements;
  if (!one_range) {
    return fmt::format(
        "this Slurm job array is not one arithmetic range (ids {} to {} step {}, {} "
        "elements, this one {}): pass --shard K/N to say which share this element runs",
        first, last, stride, elements, element);
  }
  if (elements > kMaxShards) return CountProblem(elements, "SLURM_ARRAY_TASK_COUNT");
  if (shard_count && *shard_count != elements) {
    return fmt::format("--shard-count {} differs from the Slurm job array's {} elements",
                       *shard_count, elements);
  }
  return Shard{static_cast<std::uint32_t>((element - first) / stride),
               static_cast<std::uint32_t>(elements)};
}

}  // namespace

std::uint64_t ShardHash(TaskId id) {
  std::uint64_t z = id + 0x9E3779B97F4A7C15u;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
  return z ^ (z >> 31);
}

std::uint32_t ShardOf(TaskId id, std::uint32_t count) {
  return static_cast<std::uint32_t>(ShardHash(id) % count);
}

std::size_t KeepShard(TaskList& list, Shard shard) {
  std::vector<Task>& tasks = list.tasks;
  const std::size_t before = tasks.size();
  if (shard.count <= 1) return 0;
  if (list.graph.empty()) {
    std::erase_if(tasks,
                  [&](const Task& task) { return ShardOf(task.id, shard.count) != shard.index; });
    return before - tasks.size();
  }
  // Each group to the shard of its smallest id: every process finds the same groups.
  std::uint32_t groups = 0;
  const std::vector<std::uint32_t> group = list.graph.Components(&groups);
  std::vector<TaskId> smallest(groups, std::numeric_limits<TaskId>::max());
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    smallest[group[i]] = std::min(smallest[group[i]], tasks[i].id);
  }
  std::vector<bool> keep(tasks.size());
  std::size_t kept = 0;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (ShardOf(smallest[group[i]], shard.count) != shard.index) continue;
    keep[i] = true;
    tasks[kept++] = tasks[i];
  }
  tasks.resize(kept);
  list.graph = list.graph.Keep(keep);
  return before - kept;
}

std::string ShardName(Shard shard) { return fmt::format("{}/{}", shard.index, shard.count); }

std::variant<Shard, std::string> ParseShard(std::string_view text) {
  const std::size_t slash = text.find('/');
  const std::optional<std::uint64_t> index = ParseCount(text.substr(0, slash));
  const std::optional<std::uint64_t> count =
      slash == std::string_view::npos ? std::nullopt : ParseCount(text.substr(slash + 1));
  if (!index.has_value() || !count.has_value()) {
    return fmt::format("\"{}\": expected K/N, shard K of N counting from 0 (e.g. 0/4)",
                       text.substr(0, 40));
  }
  const std::uint64_t k = *index, n = *count;
  if (n == 0 || n > kMaxShards) return CountProblem(n, text);
  if (k >= n) {
    return fmt::format("{}: shard {} is out of range for {} shards (0 to {})", text, k, n, n - 1);
  }
  return Shard{static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(n)};
}

std::variant<std::optional<Shard>, std::string> ShardFromEnvironment(
    const EnvironmentLookup& lookup, std::optional<std::uint32_t> shard_count) {
  if (const Variable index = Read(lookup, "JOB_COMPLETION_INDEX"); index.text != nullptr) {
    return FromIndexedJob(index, lookup, shard_count);
  }
  if (const Variable id = Read(lookup, "SLURM_ARRAY_TASK_ID"); id.text != nullptr) {
    return FromJobArray(id, lookup, shard_count);
  }
  if (shard_count || lookup("ORCHESTRATOR_SHARDS") != nullptr) {
    return std::string(
        "a shard count is given (--shard-count or ORCHESTRATOR_SHARDS) but not which shard "
        "this is: pass --shard K/N, or run as a Kubernetes Indexed Job (JOB_COMPLETION_INDEX)");
  }
  return std::optional<Shard>();
}

bool NamesShard(std::string_view path) {
  return path.find(kShardPlaceholder) != std::string_view::npos;
}

std::string ExpandShardPath(std::string_view path, Shard shard) {
  std::string expanded;
  std::size_t from = 0;
  for (std::size_t at; (at = path.find(kShardPlaceholder, from)) != std::string_view::npos;
       from = at + kShardPlaceholder.size()) {
    expanded.append(path.substr(from, at - from));
    expanded += std::to_string(shard.index);
  }
  expanded.append(path.substr(from));
  return expanded;
}

}  // namespace orchestrator
