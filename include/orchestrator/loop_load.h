// What a probe measured of an event loop over one tick: how late it ran, how busy it was.
#ifndef ORCHESTRATOR_LOOP_LOAD_H_
#define ORCHESTRATOR_LOOP_LOAD_H_

#include <chrono>

namespace orchestrator {

/// One tick of an event loop, as LoopLoadProbe measures it.
struct LoopLoad {
  /// How late the probe's timer fired: about 0 on a loop that keeps up, the length of the
  /// work queued ahead of it on one that does not.
  std::chrono::milliseconds lag{0};
  /// The share of the tick (0 to 1) its thread spent on a CPU: the rest it waited for
  /// events, or for a CPU another process held.
  double busy = 0;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_LOOP_LOAD_H_
