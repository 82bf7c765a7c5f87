#include "orchestrator/rate_limiter.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace orchestrator {

std::variant<double, std::string> ParseRate(std::string_view text) {
  const auto problem = [&] {
    return fmt::format(
        "--rate \"{}\": expected starts per second, minute or hour above 0, like 200/s, 6000/m, "
        "3/h or 50",
        text);
  };
  std::string_view number = text;
  double per = 1;  // seconds per unit
  if (const std::size_t slash = text.find('/'); slash != std::string_view::npos) {
    number = text.substr(0, slash);
    const std::string_view unit = text.substr(slash + 1);
    if (unit == "s") {
      per = 1;
    } else if (unit == "m") {
      per = 60;
    } else if (unit == "h") {
      per = 3600;
    } else {
      return problem();
    }
  }
  double value = 0;
  const char* end = number.data() + number.size();
  const auto [ptr, error] = std::from_chars(number.data(), end, value);
  if (number.empty() || error != std::errc() || ptr != end || !std::isfinite(value) ||
      !(value > 0)) {
    return problem();
  }
  const double per_second = value / per;
  if (per_second > 1e6) {
    return fmt::format("--rate \"{}\": at most 1000000/s", text);
  }
  return per_second;
}

RateLimiter::RateLimiter(double per_second)
    : interval_(std::chrono::duration_cast<Clock::TimePoint::duration>(std::chrono::nanoseconds(
          std::max<std::chrono::nanoseconds::rep>(1, std::llround(1e9 / per_second))))) {}

Clock::TimePoint RateLimiter::NextStart(Clock::TimePoint now) const {
  const Ticks next = next_.load(std::memory_order_acquire);
  if (next == kNone || next <= now.time_since_epoch().count()) return now;
  return Clock::TimePoint(Clock::TimePoint::duration(next));
}

bool RateLimiter::TryStart(Clock::TimePoint now) {
  const Ticks at = now.time_since_epoch().count();
  const Ticks catch_up = std::chrono::duration_cast<Clock::TimePoint::duration>(kCatchUp).count();
  Ticks next = next_.load(std::memory_order_acquire);
  while (true) {
    if (next != kNone && next > at) return false;
    // Idle for longer than a catch-up: the spacing starts afresh from now, with no burst.
    const Ticks slot = next == kNone || next < at - catch_up ? at : next;
    if (next_.compare_exchange_weak(next, slot + interval_.count(), std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      return true;
    }
  }
}

}  // namespace orchestrator
