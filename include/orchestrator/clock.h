// The runner's view of time: what time it is, and one wake-up call.
#ifndef ORCHESTRATOR_CLOCK_H_
#define ORCHESTRATOR_CLOCK_H_

#include <chrono>
#include <functional>

namespace orchestrator {

/// Monotonic time and a single re-armable wake-up. One wake-up is all the runner needs:
/// it keeps its own deadline queue, so a million delays cost one timer, not a million.
class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  /// The calendar time now, for records people read (a webhook's started_at).
  virtual std::chrono::system_clock::time_point WallNow() const = 0;
  /// Calls `wake` once, on the event loop, at or after `when`. Replaces any earlier request.
  virtual void WakeAt(TimePoint when, std::function<void()> wake) = 0;
  /// Drops the pending wake-up, if any.
  virtual void CancelWake() = 0;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_CLOCK_H_
