#include "orchestrator/task_graph.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <stdexcept>
#include <utility>

namespace orchestrator {
namespace {

constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

// An edge as one sortable number: parent, child, then the kind in the lowest bit, so that of
// two edges between the same tasks the kSuccess one sorts first.
std::uint64_t KeyOf(const TaskGraph::Edge& edge) {
  return (std::uint64_t{edge.parent} << 33) | (std::uint64_t{edge.child} << 1) |
         (edge.kind == Dependency::kFinish ? 1 : 0);
}

}  // namespace

TaskGraph TaskGraph::FromEdges(std::size_t task_count, std::vector<Edge> edges, Order order) {
  TaskGraph graph;
  graph.task_count_ = task_count;
  if (edges.empty()) return graph;
  auto rows = std::make_shared<Rows>();
  if (edges.size() >= kNone) throw std::length_error("a task graph holds fewer than 2^32 edges");
  for (const Edge& edge : edges) {
    if (edge.parent >= task_count || edge.child >= task_count) {
      throw std::out_of_range("a task graph edge names a task out of range");
    }
  }
  std::vector<std::uint64_t> keys(edges.size());
  if (order == Order::kKept) {
    // Sorted by key, then rank, so that of two edges between the same tasks the one kept
    // (kSuccess, then the lower rank) comes first.
    std::sort(edges.begin(), edges.end(), [](const Edge& a, const Edge& b) {
      const std::uint64_t ka = KeyOf(a);
      const std::uint64_t kb = KeyOf(b);
      return ka != kb ? ka < kb : a.rank < b.rank;
    });
    edges.erase(std::unique(edges.begin(), edges.end(),
                            [](const Edge& a, const Edge& b) {
                              return a.parent == b.parent && a.child == b.child;
                            }),
                edges.end());
    keys.resize(edges.size());
    rows->ranks.resize(edges.size());
    for (std::size_t e = 0; e < edges.size(); ++e) {
      keys[e] = KeyOf(edges[e]);
      rows->ranks[e] = edges[e].rank;
    }
    std::vector<Edge>().swap(edges);
  } else {
    for (std::size_t e = 0; e < edges.size(); ++e) keys[e] = KeyOf(edges[e]);
    std::vector<Edge>().swap(edges);  // the keys hold it all now, in 8 bytes instead of 16
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end(),
                           [](std::uint64_t a, std::uint64_t b) { return a >> 1 == b >> 1; }),
               keys.end());
  }

  rows->offsets.assign(task_count + 1, 0);
  rows->parent_counts.assign(task_count, 0);
  rows->children.resize(keys.size());
  rows->finish_bits.assign((keys.size() + 63) / 64, 0);
  for (std::size_t e = 0; e < keys.size(); ++e) {
    const auto parent = static_cast<TaskIndex>(keys[e] >> 33);
    const auto child = static_cast<TaskIndex>((keys[e] >> 1) & kNone);
    ++rows->offsets[parent + 1];
    ++rows->parent_counts[child];
    rows->children[e] = child;
    if (keys[e] & 1) rows->finish_bits[e / 64] |= std::uint64_t{1} << (e % 64);
  }
  for (std::size_t i = 0; i < task_count; ++i) rows->offsets[i + 1] += rows->offsets[i];
  graph.rows_ = std::move(rows);
  return graph;
}

std::optional<std::vector<TaskIndex>> TaskGraph::FindCycle() const {
  if (empty()) return std::nullopt;
  const std::vector<std::uint32_t>& offsets = rows_->offsets;
  const std::vector<TaskIndex>& children = rows_->children;
  enum : std::uint8_t { kUnseen, kOnPath, kDone };
  std::vector<std::uint8_t> state(task_count_, kUnseen);
  // The depth-first path: each task on it with the next of its edges to follow.
  struct Frame {
    TaskIndex task;
    std::uint32_t next_edge;
  };
  std::vector<Frame> path;
  for (std::size_t start = 0; start < task_count_; ++start) {
    if (state[start] != kUnseen || offsets[start] == offsets[start + 1]) continue;
    state[start] = kOnPath;
    path.push_back({static_cast<TaskIndex>(start), offsets[start]});
    while (!path.empty()) {
      Frame& top = path.back();
      if (top.next_edge == offsets[top.task + 1]) {
        state[top.task] = kDone;
        path.pop_back();
        continue;
      }
      const TaskIndex child = children[top.next_edge++];
      if (state[child] == kUnseen) {
        state[child] = kOnPath;
        path.push_back({child, offsets[child]});
      } else if (state[child] == kOnPath) {
        // A back edge: the path from `child` to the top, and back to `child`, is a cycle.
        std::size_t from = path.size() - 1;
        while (path[from].task != child) --from;
        std::vector<TaskIndex> cycle;
        cycle.reserve(path.size() - from);
        for (std::size_t k = from; k < path.size(); ++k) cycle.push_back(path[k].task);
        std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
        return cycle;
      }
    }
  }
  return std::nullopt;
}

TaskGraph TaskGraph::Keep(const std::vector<bool>& keep) const {
  TaskGraph graph;
  if (empty()) {  // nothing to renumber (a default graph need not know its task count)
    graph.task_count_ = static_cast<std::size_t>(std::count(keep.begin(), keep.end(), true));
    return graph;
  }
  if (keep.size() != task_count_) {
    throw std::invalid_argument("TaskGraph::Keep needs one flag per task");
  }
  const std::vector<std::uint32_t>& offsets = rows_->offsets;
  const std::vector<TaskIndex>& children = rows_->children;
  auto rows = std::make_shared<Rows>();
  std::vector<std::uint32_t> renumbered(task_count_, kNone);
  std::size_t kept = 0;
  for (std::size_t i = 0; i < task_count_; ++i) {
    if (keep[i]) renumbered[i] = static_cast<std::uint32_t>(kept++);
  }
  graph.task_count_ = kept;
  // Renumbering keeps the order, so the children stay sorted per parent.
  rows->offsets.assign(kept + 1, 0);
  rows->parent_counts.assign(kept, 0);
  for (std::size_t parent = 0; parent < task_count_; ++parent) {
    const std::uint32_t new_parent = renumbered[parent];
    if (new_parent == kNone) continue;
    for (std::uint32_t e = offsets[parent]; e < offsets[parent + 1]; ++e) {
      const std::uint32_t new_child = renumbered[children[e]];
      if (new_child == kNone) continue;
      const std::size_t at = rows->children.size();
      if (at % 64 == 0) rows->finish_bits.push_back(0);
      if (KindOf(e) == Dependency::kFinish)
        rows->finish_bits[at / 64] |= std::uint64_t{1} << (at % 64);
      rows->children.push_back(new_child);
      if (!rows_->ranks.empty()) rows->ranks.push_back(rows_->ranks[e]);
      ++rows->parent_counts[new_child];
    }
    rows->offsets[new_parent + 1] = static_cast<std::uint32_t>(rows->children.size());
  }
  if (rows->children.empty()) return TaskGraph::FromEdges(kept, {});
  rows->children.shrink_to_fit();
  rows->finish_bits.shrink_to_fit();
  rows->ranks.shrink_to_fit();
  graph.rows_ = std::move(rows);
  return graph;
}

std::vector<std::uint32_t> TaskGraph::Components(std::uint32_t* count) const {
  // Union-find, the root of a set being its lowest task; path halving keeps it flat.
  std::vector<std::uint32_t> root(task_count_);
  for (std::size_t i = 0; i < task_count_; ++i) root[i] = static_cast<std::uint32_t>(i);
  const auto find = [&](std::uint32_t x) {
    while (root[x] != x) {
      root[x] = root[root[x]];
      x = root[x];
    }
    return x;
  };
  if (!empty()) {
    for (std::size_t parent = 0; parent < task_count_; ++parent) {
      for (std::uint32_t e = rows_->offsets[parent]; e < rows_->offsets[parent + 1]; ++e) {
        const std::uint32_t a = find(static_cast<std::uint32_t>(parent));
        const std::uint32_t b = find(rows_->children[e]);
        if (a < b) {
          root[b] = a;
        } else if (b < a) {
          root[a] = b;
        }
      }
    }
  }
  // Every task straight to its root (lower tasks first, so each find is short)...
  for (std::size_t i = 0; i < task_count_; ++i) root[i] = find(static_cast<std::uint32_t>(i));
  // ...then, a root being its set's lowest task and so met before the other members, number
  // the roots as they come and give each other task its root's number.
  std::uint32_t next = 0;
  for (std::size_t i = 0; i < task_count_; ++i) root[i] = root[i] == i ? next++ : root[root[i]];
  if (count != nullptr) *count = next;
  return root;
}

std::size_t TaskGraph::MemoryBytes() const {
  if (empty()) return 0;
  return sizeof(Rows) + rows_->offsets.capacity() * sizeof(std::uint32_t) +
         rows_->children.capacity() * sizeof(TaskIndex) +
         rows_->finish_bits.capacity() * sizeof(std::uint64_t) +
         rows_->parent_counts.capacity() * sizeof(std::uint32_t) +
         rows_->ranks.capacity() * sizeof(std::uint32_t);
}

}  // namespace orchestrator
