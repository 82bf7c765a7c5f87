#include "orchestrator/retry_policy.h"

#include <fmt/format.h>
#include <algorithm>

namespace orchestrator {

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
    return {.note =
                fmt::format("Retry-After {} is longer than the {} we wait",
                            FormatDuration(*result.retry_after), FormatDuration(max_retry_after))};
  }
  // Exponential backoff, capped, with "equal jitter": at least half the backoff, so that a
  // retry never comes straight back, and the other half random, so that tasks that failed
  // together (a 429 storm) spread out.
  Duration backoff = max_delay;
  if (attempts <= 30)
    backoff = std::min(max_delay, base_delay * (std::int64_t{1} << (attempts - 1)));
  const auto half = backoff / 2;
  Duration delay =
      half +
      Duration(static_cast<std::int64_t>(random01 * static_cast<double>((backoff - half).count())));
  if (result.retry_after) delay = std::max(delay, *result.retry_after);
  return {.retry = true, .delay = delay, .note = {}};
}

}  // namespace orchestrator
