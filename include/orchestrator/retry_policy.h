// When a failed fetch is tried again, and after how long.
#ifndef ORCHESTRATOR_RETRY_POLICY_H_
#define ORCHESTRATOR_RETRY_POLICY_H_

#include <cstdint>
#include <random>
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

/// What follows a failed attempt: another one after `delay`, or the end, with the reason
/// error_info gives (FailureReason).
struct AfterFailure {
  bool retry = false;
  Duration delay{0};   ///< When retrying.
  std::string reason;  ///< When not.
};

/// Decides for every fetch of one loop (the tasks' and the webhooks'), each with its own
/// policy, drawing the backoff's jitter from a generator of its own.
class RetryDecider {
 public:
  explicit RetryDecider(std::uint64_t seed) : random_(seed) {}
  /// `attempts` attempts under `policy` failed (1 after the first), the last with `result`.
  AfterFailure Decide(const RetryPolicy& policy, int attempts, const FetchResult& result);

 private:
  std::mt19937_64 random_;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_RETRY_POLICY_H_
