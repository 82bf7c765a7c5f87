// Dependencies between the tasks of one run (issue #11), in flat storage.
#ifndef ORCHESTRATOR_TASK_GRAPH_H_
#define ORCHESTRATOR_TASK_GRAPH_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace orchestrator {

/// Position of a task in a TaskList (also declared in task.h).
using TaskIndex = std::uint32_t;

/// What a child waits for.
enum class Dependency : std::uint8_t {
  kSuccess,  ///< depends_on: the parent must complete.
  kFinish,   ///< after: the parent must finish, whatever its outcome.
};

/// One child of a task, as ForEachChild gives it.
struct Dependent {
  TaskIndex child;
  Dependency kind;
  /// The parent's place among the child's parents as its row lists them (depends_on's, then
  /// after's), from 0; 0 for every edge of a graph built with Order::kDropped.
  std::uint32_t rank = 0;
};

/// Which tasks wait for which, by TaskIndex. Compressed sparse rows: for each task its
/// children, in one array (offsets per task), each edge 4 bytes and 1 bit for its kind, plus
/// a parent count per task: 8 bytes per task and about 4.1 per edge, no container per task.
/// A graph without edges holds nothing at all. Immutable once built, so copies share their
/// storage (a copy costs a reference count, whatever the size) and any number of threads
/// may read it at once.
class TaskGraph {
 public:
  struct Edge {
    TaskIndex parent;
    TaskIndex child;
    Dependency kind;
    std::uint32_t rank = 0;  ///< Dependent::rank
  };
  /// Whether a graph keeps each edge's rank: 4 bytes more per edge, for runs that need the
  /// order in which a child lists its parents.
  enum class Order : std::uint8_t { kDropped, kKept };

  TaskGraph() = default;  ///< No dependencies.

  /// The graph of `task_count` tasks with `edges` in any order (each end below task_count);
  /// the same parent->child twice is one edge (kSuccess wins, then the lower rank). A task
  /// may be its own parent here (a cycle of one): the reader refuses that, FindCycle reports
  /// it. Throws std::length_error for 2^32 edges or more, std::out_of_range for an end out of
  /// range.
  static TaskGraph FromEdges(std::size_t task_count, std::vector<Edge> edges,
                             Order order = Order::kDropped);

  bool empty() const { return rows_ == nullptr; }  ///< No edges at all.
  std::size_t edge_count() const { return empty() ? 0 : rows_->children.size(); }
  /// The tasks it was built for (0 for a default-constructed graph).
  std::size_t task_count() const { return task_count_; }

  /// Calls f(Dependent) for each child of `parent`, in increasing child order.
  template <typename F>
  void ForEachChild(TaskIndex parent, F&& f) const {
    if (empty()) return;
    const Rows& rows = *rows_;
    for (std::uint32_t e = rows.offsets[parent]; e < rows.offsets[parent + 1]; ++e) {
      f(Dependent{rows.children[e], KindOf(e), rows.ranks.empty() ? 0 : rows.ranks[e]});
    }
  }
  /// How many children `parent` has.
  std::uint32_t ChildCount(TaskIndex parent) const {
    return empty() ? 0 : rows_->offsets[parent + 1] - rows_->offsets[parent];
  }
  /// How many parents `child` has (each counted once).
  std::uint32_t ParentCount(TaskIndex child) const {
    return empty() ? 0 : rows_->parent_counts[child];
  }

  /// A cycle if there is one: its tasks in edge order, each a parent of the next and the last
  /// a parent of the first (the first is not repeated at the end). Starts at the member with
  /// the lowest index. Iterative: a chain of millions does not touch the call stack. O(V + E).
  std::optional<std::vector<TaskIndex>> FindCycle() const;

  /// The graph of the tasks `keep` says to keep (keep[i], one per task), renumbered in order;
  /// edges from or to a dropped task are dropped (for --resume: a parent carried over as
  /// Completed is done).
  TaskGraph Keep(const std::vector<bool>& keep) const;

  /// Weakly connected components: component id per task (task_count() of them), ids dense
  /// from 0 in the order of each component's first task. `*count` gets how many.
  std::vector<std::uint32_t> Components(std::uint32_t* count) const;

  /// The bytes this graph holds on the heap (shared with its copies).
  std::size_t MemoryBytes() const;

 private:
  struct Rows {
    std::vector<std::uint32_t> offsets;        // task_count_ + 1 offsets into children
    std::vector<TaskIndex> children;           // per parent, sorted by child
    std::vector<std::uint64_t> finish_bits;    // bit e set: edge e is kFinish
    std::vector<std::uint32_t> parent_counts;  // per task
    std::vector<std::uint32_t> ranks;          // per edge, with Order::kKept; else empty
  };

  Dependency KindOf(std::uint32_t edge) const {
    return (rows_->finish_bits[edge / 64] >> (edge % 64)) & 1 ? Dependency::kFinish
                                                              : Dependency::kSuccess;
  }

  std::size_t task_count_ = 0;
  std::shared_ptr<const Rows> rows_;  // null when there are no edges; shared by copies
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_TASK_GRAPH_H_
