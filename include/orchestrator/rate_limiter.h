// --rate: how fast fetch attempts may start.
#ifndef ORCHESTRATOR_RATE_LIMITER_H_
#define ORCHESTRATOR_RATE_LIMITER_H_

#include <chrono>
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
/// the starts it missed, so the rate holds on average, but never more than `catch_up` worth.
class RateLimiter {
 public:
  static constexpr std::chrono::milliseconds kCatchUp{10};

  explicit RateLimiter(double per_second);

  /// The earliest a start may happen: `now` itself when one may start at once.
  Clock::TimePoint NextStart(Clock::TimePoint now) const;
  /// Records a start at `now`, which must be at or after NextStart(now).
  void Started(Clock::TimePoint now);

 private:
  std::chrono::nanoseconds interval_;
  std::optional<Clock::TimePoint> next_;  // when the next start is due; none before the first
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_RATE_LIMITER_H_
