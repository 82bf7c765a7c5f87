#include "orchestrator/retry_policy.h"

#include <fmt/format.h>
#include <algorithm>

namespace orchestrator {
namespace {

// `10 min` for whole minutes, else as FormatDuration writes it.
std::string LimitText(Duration limit) {
  constexpr Duration kMinute(60'000);
  if (limit >= kMinute && limit % kMinute == Duration(0)) {
    return fmt::format("{} min", limit / kMinute);
  }
  return FormatDuration(limit);
}

}  // namespace

bool RetryPolicy::IsTransient(const FetchResult& result) {
  switch (result.failure) {
    case FetchFailure::kConnect:
    case FetchFailure::kConnectionLost:
    case FetchFailure::kTimeout:
      return true;
    case FetchFailure::kHttpStatus:
      switch (result.http_status) {
        case 408:  // Request Timeout
        case 429:  // Too Many Requests
        case 500:  // Internal Server Error
        case 502:  // Bad Gateway
        case 503:  // Service Unavailable
        case 504:  // Gateway Timeout
          return true;
        default:
          return false;
      }
    default:
      return false;
  }
}

RetryDecision RetryPolicy::Decide(int attempts, const FetchResult& result, double random01) const {
  if (!IsTransient(result) || attempts > max_retries) return {};
  if (result.retry_after && *result.retry_after > max_retry_after) {
    // What the tool does, not the server's number: a huge one is saturated on parsing.
    return {.note =
                fmt::format("Retry-After longer than {}; not waiting", LimitText(max_retry_after))};
  }
  // Exponential backoff, capped, with "equal jitter": at least half the backoff, so that a
  // retry never comes straight back, and the other half random, so that tasks that failed
  // together (a 429 storm) spread out. The cap is max_delay, or base_delay when that is
  // longer (a long --retry-delay is honoured, not cut); the doubling stops at the cap before
  // it could overflow.
  Duration backoff = std::max(base_delay, Duration(0));
  const Duration cap = std::max(max_delay, backoff);
  for (int retry = 1; retry < attempts && backoff > Duration(0) && backoff < cap; ++retry) {
    backoff = backoff > cap / 2 ? cap : backoff * 2;
  }
  const Duration half = backoff / 2;
  const Duration rest = backoff - half;
  // random01 < 1, but the product rounded to a double may reach `rest`, which may be
  // beyond what converts back exactly.
  const double spread = random01 * static_cast<double>(rest.count());
  Duration delay = half + (spread < static_cast<double>(rest.count())
                               ? Duration(static_cast<std::int64_t>(spread))
                               : rest);
  if (result.retry_after) delay = std::max(delay, *result.retry_after);
  return {.retry = true, .delay = delay, .note = {}};
}

std::string FailureReason(const FetchResult& result, int attempts, const std::string& note) {
  std::string reason = result.message;
  std::string context;
  if (attempts > 1) context = fmt::format("after {} attempts", attempts);
  if (!note.empty()) context += (context.empty() ? "" : "; ") + note;
  if (!context.empty()) reason += fmt::format(" ({})", context);
  return reason;
}

AfterFailure RetryDecider::Decide(const RetryPolicy& policy, int attempts,
                                  const FetchResult& result) {
  const double random01 = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
  RetryDecision decision = policy.Decide(attempts, result, random01);
  if (decision.retry) return {.retry = true, .delay = decision.delay, .reason = {}};
  return {.retry = false, .delay = {}, .reason = FailureReason(result, attempts, decision.note)};
}

}  // namespace orchestrator
