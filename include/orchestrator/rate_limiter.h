// --rate: how fast fetch attempts may start.
#ifndef ORCHESTRATOR_RATE_LIMITER_H_
#define ORCHESTRATOR_RATE_LIMITER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "orchestrator/clock.h"

namespace orchestrator {

/// Parses --rate: "200/s", "6000/m", "3/h" or a plain number per second ("0.5"). Returns the
/// starts per second (above 0, at most a million), or a message saying what is wrong.
std::variant<double, std::string> ParseRate(std::string_view text);

/// Spaces starts evenly, 1/rate apart from the first one: no burst at the start or after an
/// idle spell. A wake-up that comes a little late (the clock's 10 ms grid) may catch up on
/// the starts it missed, so the rate holds on average, but never more than `kCatchUp` worth.
///
/// One limiter is the rate of a whole run: the workers' runners share it, each claiming a
/// start with TryStart, which hands every slot of the schedule to one caller alone (a
/// compare-and-swap of the next slot's time), so the rate holds across threads with no
/// burst at the start and no rounding of R over the threads.
class RateLimiter {
 public:
  static constexpr std::chrono::milliseconds kCatchUp{10};

  explicit RateLimiter(double per_second);
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  /// The earliest a start may happen: `now` itself when one may start at once.
  Clock::TimePoint NextStart(Clock::TimePoint now) const;
  /// Claims a start at `now`: true if one was due and it is the caller's; false if none is
  /// due yet (NextStart says when), another caller having perhaps just taken it.
  bool TryStart(Clock::TimePoint now);

 private:
  using Ticks = Clock::TimePoint::rep;  // since the steady clock's epoch
  static constexpr Ticks kNone = std::numeric_limits<Ticks>::min();  // before the first start

  Clock::TimePoint::duration interval_;
  std::atomic<Ticks> next_{kNone};  // when the next start is due
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_RATE_LIMITER_H_
