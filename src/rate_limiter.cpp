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
    : interval_(std::max<std::chrono::nanoseconds::rep>(1, std::llround(1e9 / per_second))) {}

Clock::TimePoint RateLimiter::NextStart(Clock::TimePoint now) const {
  if (!next_ || *next_ <= now) return now;
  return *next_;
}

void RateLimiter::Started(Clock::TimePoint now) {
  // Idle for longer than a catch-up: start the spacing afresh from now, with no burst.
  if (!next_ || *next_ < now - kCatchUp) next_ = now;
  *next_ += interval_;
}

}  // namespace orchestrator
