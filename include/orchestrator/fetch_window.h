// How many fetches may be in flight now: --max-connections, fewer while the process cannot keep up.
#ifndef ORCHESTRATOR_FETCH_WINDOW_H_
#define ORCHESTRATOR_FETCH_WINDOW_H_

#include <chrono>
#include <cstddef>

#include "orchestrator/loop_load.h"

namespace orchestrator {

/// The number of fetches a runner may have in flight, adapted to what the process can do:
/// it starts at kInitial and grows while the process keeps up, at most kMaxGrowth at a time
/// (doubling below that), and halves what is in flight when the process stalls.
///
/// "Keeps up" is measured, not guessed: a timer that should fire every kTick reports how
/// late it fired (the event loop's lag). Every new connection costs CPU (a TLS handshake
/// over a millisecond on a 2-core machine); a window that opens a thousand connections at
/// once keeps the loop busy for seconds, attempts time out while they wait their turn, and
/// their retries open more connections. Grown only after a tick that kept up, and by at
/// most kMaxGrowth, the window opens connections at the pace the process can handshake.
///
/// Fetches on connections already open are cheap: a loop that is busy with them (a run
/// bound by the server or the CPU) holds its window; only a stall (kStalled, a large part of
/// any sensible timeout) shrinks it. Only the lag moves the window, so a slow server (fetches
/// long in flight, the loop idle) gets every fetch --max-connections allows.
class FetchWindow {
 public:
  /// How often the lag is measured (Observe called).
  static constexpr std::chrono::milliseconds kTick{10};
  /// A loop at most this late keeps up: a full window may grow.
  static constexpr std::chrono::milliseconds kKeepingUp{10};
  /// A loop this late has stalled: the window halves.
  static constexpr std::chrono::milliseconds kStalled{1000};
  /// Where the window starts (or at `max`, when that is smaller).
  static constexpr std::size_t kInitial = 64;
  /// The most it grows by at a time: the new connections one tick may have to handshake.
  static constexpr std::size_t kMaxGrowth = 64;
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
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_FETCH_WINDOW_H_
