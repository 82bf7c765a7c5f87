#include "orchestrator/retry_policy.h"

#include <gtest/gtest.h>

#include "orchestrator/http_status.h"

namespace orchestrator {
namespace {

FetchResult Status(int code) {
  return {FetchFailure::kHttpStatus, code, "HTTP " + std::to_string(code), std::nullopt, {}};
}

FetchResult Failure(FetchFailure failure) { return {failure, 0, "x", std::nullopt, {}}; }

TEST(RetryPolicyTest, TransientAreCurlsSet) {
  for (int code : {408, 429, 500, 502, 503, 504}) {
    EXPECT_TRUE(RetryPolicy::IsTransient(Status(code))) << code;
  }
  for (int code : {301, 400, 401, 403, 404, 410, 501, 505}) {
    EXPECT_FALSE(RetryPolicy::IsTransient(Status(code))) << code;
  }
  EXPECT_TRUE(RetryPolicy::IsTransient(Failure(FetchFailure::kConnect)));
  EXPECT_TRUE(RetryPolicy::IsTransient(Failure(FetchFailure::kConnectionLost)));
  EXPECT_TRUE(RetryPolicy::IsTransient(Failure(FetchFailure::kTimeout)));
  for (FetchFailure final :
       {FetchFailure::kDns, FetchFailure::kTls, FetchFailure::kProtocol, FetchFailure::kRedirect,
        FetchFailure::kTooLarge, FetchFailure::kOther}) {
    EXPECT_FALSE(RetryPolicy::IsTransient(Failure(final)));
  }
}

TEST(RetryPolicyTest, RetriesUpToTheLimit) {
  const RetryPolicy policy{.max_retries = 2};
  EXPECT_TRUE(policy.Decide(1, Status(503), 0.5).retry);
  EXPECT_TRUE(policy.Decide(2, Status(503), 0.5).retry);
  EXPECT_FALSE(policy.Decide(3, Status(503), 0.5).retry);
  EXPECT_FALSE(policy.Decide(1, Status(404), 0.5).retry);
  EXPECT_FALSE(RetryPolicy{.max_retries = 0}.Decide(1, Status(503), 0.5).retry);
}

TEST(RetryPolicyTest, BacksOffExponentiallyWithJitterInTheUpperHalf) {
  const RetryPolicy policy{
      .max_retries = 10, .base_delay = Duration(1000), .max_delay = Duration(30'000)};
  EXPECT_EQ(policy.Decide(1, Status(503), 0.0).delay, Duration(500));
  EXPECT_EQ(policy.Decide(1, Status(503), 0.999).delay, Duration(999));
  EXPECT_EQ(policy.Decide(2, Status(503), 0.0).delay, Duration(1000));
  EXPECT_EQ(policy.Decide(3, Status(503), 0.0).delay, Duration(2000));
  EXPECT_EQ(policy.Decide(4, Status(503), 0.5).delay, Duration(6000));
  EXPECT_EQ(policy.Decide(9, Status(503), 0.0).delay, Duration(15'000));  // capped at 30s
  EXPECT_EQ(policy.Decide(10, Status(503), 0.0).delay, Duration(15'000));
}

TEST(RetryPolicyTest, ARetryDelayLongerThanTheCapIsHonouredNotCut) {
  // The backoff doubles up to 30 s, or up to --retry-delay itself when that is longer.
  const RetryPolicy policy{.max_retries = 5, .base_delay = std::chrono::minutes(1)};
  EXPECT_EQ(policy.Decide(1, Status(503), 0.0).delay, std::chrono::seconds(30));
  EXPECT_EQ(policy.Decide(1, Status(503), 0.999).delay, Duration(59'970));
  EXPECT_EQ(policy.Decide(2, Status(503), 0.0).delay, std::chrono::seconds(30));
  EXPECT_EQ(policy.Decide(5, Status(503), 0.0).delay, std::chrono::seconds(30));
}

TEST(RetryPolicyTest, TheBackoffCapsBeforeItCanOverflow) {
  // --retries 30 --retry-delay 5000h: 5000h x 2^29 does not fit in 64 bits of milliseconds.
  const Duration base = std::chrono::hours(5000);
  const RetryPolicy policy{.max_retries = 100, .base_delay = base};
  for (int attempts : {1, 2, 30, 31, 64, 100}) {
    const RetryDecision decision = policy.Decide(attempts, Status(503), 0.0);
    EXPECT_TRUE(decision.retry) << attempts;
    EXPECT_EQ(decision.delay, base / 2) << attempts;
  }
  // Whatever the policy is given, the wait stays within [cap/2, cap].
  const RetryPolicy extreme{.max_retries = 100, .base_delay = Duration::max()};
  for (double random01 : {0.0, 0.5, 0.999999999}) {
    const Duration delay = extreme.Decide(100, Status(503), random01).delay;
    EXPECT_GE(delay, Duration::max() / 2) << random01;
    EXPECT_LE(delay, Duration::max()) << random01;
  }
}

TEST(RetryPolicyTest, HonoursRetryAfterWhenLongerThanTheBackoff) {
  const RetryPolicy policy{.max_retries = 3, .base_delay = Duration(1000)};
  FetchResult busy = Status(429);
  busy.retry_after = Duration(7000);
  EXPECT_EQ(policy.Decide(1, busy, 0.5).delay, Duration(7000));
  busy.retry_after = Duration(0);
  EXPECT_EQ(policy.Decide(1, busy, 0.0).delay, Duration(500));
}

TEST(RetryPolicyTest, GivesUpOnARetryAfterBeyondTheLimitAndSaysWhy) {
  const RetryPolicy policy{.max_retries = 3, .max_retry_after = Duration(600'000)};
  FetchResult busy = Status(503);
  busy.retry_after = Duration(3'600'000);
  const RetryDecision decision = policy.Decide(1, busy, 0.5);
  EXPECT_FALSE(decision.retry);
  EXPECT_EQ(decision.note, "Retry-After longer than 10 min; not waiting");
}

// A Retry-After of 10^23 s was reported as `Retry-After 1099511627776s is longer than ...`:
// a number the server never sent. The note says what the tool does instead.
TEST(RetryPolicyTest, AHugeRetryAfterSaysWhatTheToolDoesNotANumber) {
  const RetryPolicy policy{.max_retries = 3};
  FetchResult busy = Status(503);
  busy.retry_after = ParseRetryAfter("100000000000000000000000", 0);
  ASSERT_TRUE(busy.retry_after.has_value());
  const RetryDecision decision = policy.Decide(1, busy, 0.5);
  EXPECT_FALSE(decision.retry);
  EXPECT_EQ(decision.note, "Retry-After longer than 10 min; not waiting");
  EXPECT_EQ(FailureReason(busy, 1, decision.note),
            "HTTP 503 (Retry-After longer than 10 min; not waiting)");
}

}  // namespace
}  // namespace orchestrator
