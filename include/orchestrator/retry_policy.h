// When a failed fetch is tried again, and after how long.
#ifndef ORCHESTRATOR_RETRY_POLICY_H_
#define ORCHESTRATOR_RETRY_POLICY_H_

#include <string>

#include "orchestrator/duration.h"
#include "orchestrator/http_client.h"

namespace orchestrator {

/// What to do after a failed attempt.
struct RetryDecision {
  bool retry = false;
  Duration delay{0};  ///< How long to wait before the next attempt, when retrying.
  std::string note;   ///< Why not, when the reason is worth telling the user.
};

/// curl's transient set (connect errors, resets and empty replies, timeouts, HTTP 408, 429,
/// 500, 502, 503, 504), retried with exponential backoff and jitter, honouring Retry-After.
/// The backoff doubles up to max(max_delay, base_delay), never past it, so any values are
/// safe; --retry-delay is refused beyond max_retry_after.
struct RetryPolicy {
  int max_retries = 2;                ///< Attempts beyond the first.
  Duration base_delay{1'000};         ///< Backoff before the first retry, doubling after.
  Duration max_delay{30'000};         ///< Cap on the backoff, unless base_delay is longer.
  Duration max_retry_after{600'000};  ///< A longer Retry-After ends the retries.

  /// Whether trying again may succeed: the failure says nothing final about the resource.
  static bool IsTransient(const FetchResult& result);

  /// Decides after `attempts` failed attempts (1 after the first), the last one `result`.
  /// `random01` in [0, 1) spreads the wait over [backoff/2, backoff) so that tasks failing
  /// together do not come back together.
  RetryDecision Decide(int attempts, const FetchResult& result, double random01) const;
};

/// The reason a fetch failed for good, as error_info gives it: the last attempt's message,
/// then how many attempts were made and `note` (RetryDecision::note), if any:
/// "HTTP 503 Service Unavailable (after 3 attempts)".
std::string FailureReason(const FetchResult& result, int attempts, const std::string& note);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_RETRY_POLICY_H_
