// How the tasks of one input are dealt out to the threads of a run.
#ifndef ORCHESTRATOR_DEAL_H_
#define ORCHESTRATOR_DEAL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "orchestrator/task_graph.h"

namespace orchestrator {

/// Where each task of a whole input went, when they were not simply dealt in turn.
struct Placement {
  std::vector<std::uint32_t> list_of;            ///< By whole index: the task's list...
  std::vector<TaskIndex> own_index;              ///< ...and its index there.
  std::vector<std::vector<TaskIndex>> whole_of;  ///< By list, by own index: the whole index.
};

/// Which tasks of a whole input one list holds, and where the others are. Dealt in turn,
/// task i of list `list` is task i * lists + list of the whole; with a `placement`, that says.
/// A list that was not dealt out is the whole: list 0 of 1, every index its own.
struct Deal {
  std::uint32_t list = 0;
  std::uint32_t lists = 1;
  /// Shared by the lists of one deal; null when the tasks were dealt in turn.
  std::shared_ptr<const Placement> placement;

  /// The whole input's index of this list's task `own`.
  TaskIndex WholeIndex(TaskIndex own) const {
    return placement ? placement->whole_of[list][own] : own * lists + list;
  }
  /// The list that holds the whole input's task `whole`...
  std::uint32_t ListOf(TaskIndex whole) const {
    return placement ? placement->list_of[whole] : whole % lists;
  }
  /// ...and its index there.
  TaskIndex OwnIndex(TaskIndex whole) const {
    return placement ? placement->own_index[whole] : whole / lists;
  }
};

/// Where `task_count` tasks with dependencies `graph` should go among `lists` lists. Dealt
/// in turn, except that a chain stays on one list: a task whose one parent has no other
/// child goes where that parent goes. A chain runs one link after the other whatever the
/// threads, and each link that crossed threads would cost two hand-overs between them; a
/// wide graph (a lattice, a fan-out) still spreads over every list. The chains, and the
/// tasks outside any, go largest first onto the list with the fewest tasks so far (the
/// lowest on a tie); each list keeps input order. Null when that is dealing in turn (no
/// chain, or one list).
std::shared_ptr<const Placement> PlaceTasks(std::size_t task_count, const TaskGraph& graph,
                                            std::uint32_t lists);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_DEAL_H_
