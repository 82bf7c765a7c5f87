#include "orchestrator/fetch_window.h"

#include <algorithm>

namespace orchestrator {

FetchWindow::FetchWindow(std::size_t max, bool adaptive)
    : max_(std::max<std::size_t>(1, max)),
      floor_(std::min(max_, kFloor)),
      limit_(adaptive ? std::min(max_, kInitial) : max_),
      adaptive_(adaptive) {}

bool FetchWindow::Observe(LoopLoad load, std::size_t in_flight, bool waiting) {
  if (!adaptive_) return false;
  const std::chrono::milliseconds lag = load.lag;
  // The first tick is the whole history: no measurement yet is no sign of an idle loop.
  busy_ = busy_ ? *busy_ + (load.busy - *busy_) * kSmoothing : load.busy;
  if (lag >= kStalled) {
    // Half of what is in flight, not of the limit: a limit far above the fetches in flight
    // (most tasks in their delay) would otherwise take several halvings to bite.
    const std::size_t shrunk = std::max(floor_, std::min(limit_, in_flight) / 2);
    if (shrunk < limit_) {
      limit_ = shrunk;
      ++shrinks_;
    }
    return false;
  }
  // Grow only a window in use: one that idles says nothing of what more would cost.
  if (lag > kKeepingUp || *busy_ > kBusy || !waiting || in_flight < limit_ || limit_ == max_) {
    return false;
  }
  limit_ = std::min(max_, limit_ + std::min(limit_, kMaxGrowth));
  return true;
}

}  // namespace orchestrator
