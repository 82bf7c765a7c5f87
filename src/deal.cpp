#include "orchestrator/deal.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <numeric>
#include <queue>
#include <utility>

namespace orchestrator {

std::shared_ptr<const Placement> PlaceTasks(std::size_t task_count, const TaskGraph& graph,
                                            std::uint32_t lists) {
  if (lists <= 1 || graph.empty()) return nullptr;
  constexpr TaskIndex kNone = std::numeric_limits<TaskIndex>::max();
  // The links of the chains: a parent with one child that has no other parent.
  std::vector<TaskIndex> next(task_count, kNone);
  std::vector<bool> linked(task_count, false);  // some task's next
  bool any = false;
  for (TaskIndex parent = 0; parent < task_count; ++parent) {
    if (graph.ChildCount(parent) != 1) continue;
    graph.ForEachChild(parent, [&](const Dependent& dependent) {
      if (graph.ParentCount(dependent.child) != 1) return;
      next[parent] = dependent.child;
      linked[dependent.child] = true;
      any = true;
    });
  }
  if (!any) return nullptr;

  // Each chain from its head, a task outside any being a chain of one; numbered in the order
  // of their heads. The graph has no cycle, so every chain has a head.
  std::vector<std::uint32_t> chain_of(task_count);
  std::vector<std::size_t> length;
  for (TaskIndex head = 0; head < task_count; ++head) {
    if (linked[head]) continue;
    const auto chain = static_cast<std::uint32_t>(length.size());
    length.push_back(0);
    for (TaskIndex task = head; task != kNone; task = next[task]) {
      chain_of[task] = chain;
      ++length[chain];
    }
  }
  std::vector<TaskIndex>().swap(next);
  std::vector<bool>().swap(linked);

  // Largest first onto the lightest list.
  std::vector<std::uint32_t> order(length.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return length[a] > length[b]; });
  using Load = std::pair<std::size_t, std::uint32_t>;  // tasks so far, list
  std::priority_queue<Load, std::vector<Load>, std::greater<>> lightest;
  for (std::uint32_t list = 0; list < lists; ++list) lightest.push({0, list});
  std::vector<std::uint32_t> list_of_chain(length.size());
  for (const std::uint32_t chain : order) {
    const auto [load, list] = lightest.top();
    lightest.pop();
    list_of_chain[chain] = list;
    lightest.push({load + length[chain], list});
  }

  auto placement = std::make_shared<Placement>();
  placement->list_of = std::move(chain_of);
  placement->own_index.resize(task_count);
  placement->whole_of.resize(lists);
  for (TaskIndex task = 0; task < task_count; ++task) {
    const std::uint32_t list = list_of_chain[placement->list_of[task]];
    placement->list_of[task] = list;
    placement->own_index[task] = static_cast<TaskIndex>(placement->whole_of[list].size());
    placement->whole_of[list].push_back(task);
  }
  return placement;
}

}  // namespace orchestrator
