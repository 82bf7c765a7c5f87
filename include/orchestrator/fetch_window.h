// How many fetches may be in flight now: --max-connections, fewer while the process cannot keep up.
#ifndef ORCHESTRATOR_FETCH_WINDOW_H_
#define ORCHESTRATOR_FETCH_WINDOW_H_

#include <chrono>
#include <cstddef>
#include <optional>

#include "orchestrator/loop_load.h"

namespace orchestrator {

/// The number of fetches a runner may have in flight, adapted to what the process can do:
/// it starts at kInitial and grows while the process has CPU to spare, at most kMaxGrowth
/// at a time (doubling below that), and halves what is in flight when the process stalls.
///
/// What the process can do is measured, not guessed: a timer that should fire every kTick
/// reports how late it fired (the event loop's lag) and how much of the tick the loop's
/// thread spent on a CPU (LoopLoad). Every new connection costs CPU (a TLS handshake over a
/// millisecond on a 2-core machine); a window that opens a thousand connections at once
/// keeps the loop busy for seconds, attempts time out while they wait their turn, and their
/// retries open more connections. So the window grows only after a tick that kept up (at
/// most kKeepingUp late) on a loop that computed for at most kBusy of its recent ticks, and
/// by at most kMaxGrowth: it opens connections at the pace the process can handshake them,
/// and stops opening them once the loop's CPU is spent, when more would buy nothing (a
/// server that answers at once, a run bound by this process). A timer alone misses that: a
/// loop whose callbacks are each short fires every timer on time while it uses all of a CPU.
///
/// Fetches on connections already open are cheap: a loop that is busy with them (a run
/// bound by the server or the CPU) holds its window; only a stall (kStalled, a large part of
/// any sensible timeout) shrinks it. So a slow server (fetches long in flight, the loop
/// idle) gets every fetch --max-connections allows.
class FetchWindow {
 public:
  /// How often the load is measured (Observe called).
  static constexpr std::chrono::milliseconds kTick{10};
  /// A loop at most this late keeps up: a full window may grow.
  static constexpr std::chrono::milliseconds kKeepingUp{10};
  /// A loop this late has stalled: the window halves.
  static constexpr std::chrono::milliseconds kStalled{1000};
  /// Where the window starts (or at `max`, when that is smaller).
  static constexpr std::size_t kInitial = 64;
  /// The most it grows by at a time: the new connections one tick may have to handshake.
  static constexpr std::size_t kMaxGrowth = 64;
  /// A loop busier than this (the share of its ticks on a CPU, smoothed) has no CPU to spare
  /// for the handshakes of more connections: its window holds.
  static constexpr double kBusy = 0.5;
  /// The newest tick's weight in that smoothed share: about the mean of the last 4 ticks.
  static constexpr double kSmoothing = 0.25;
  /// It never shrinks below this (or `max`).
  static constexpr std::size_t kFloor = 8;

  /// A window of at most `max` (at least 1) fetches. With `adaptive` false it stays at
  /// `max` whatever Observe hears.
  explicit FetchWindow(std::size_t max, bool adaptive = true);

  /// Fetches that may be in flight now.
  std::size_t limit() const { return limit_; }
  /// Times the window halved so far.
  std::size_t shrinks() const { return shrinks_; }

  /// The loop's load over the last tick; `in_flight` fetches are in flight and `waiting` says
  /// whether others wait for a place. Returns true when the window grew (more may start now).
  bool Observe(LoopLoad load, std::size_t in_flight, bool waiting);

 private:
  std::size_t max_;
  std::size_t floor_;
  std::size_t limit_;
  bool adaptive_;
  std::size_t shrinks_ = 0;
  std::optional<double> busy_;  // the loop's CPU share, smoothed over the last few ticks
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_FETCH_WINDOW_H_
