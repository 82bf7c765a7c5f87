#include "orchestrator/http_status.h"

#include <gtest/gtest.h>

namespace orchestrator {
namespace {

TEST(HttpStatusTest, DescribesStatusesWithStandardPhrases) {
  EXPECT_EQ(DescribeHttpStatus(503), "HTTP 503 Service Unavailable");
  EXPECT_EQ(DescribeHttpStatus(404), "HTTP 404 Not Found");
  EXPECT_EQ(DescribeHttpStatus(429), "HTTP 429 Too Many Requests");
  EXPECT_EQ(DescribeHttpStatus(599), "HTTP 599");
}

TEST(RetryAfterTest, ReadsDeltaSeconds) {
  EXPECT_EQ(ParseRetryAfter("120", 0), Duration(120'000));
  EXPECT_EQ(ParseRetryAfter(" 0 ", 0), Duration(0));
  EXPECT_GT(ParseRetryAfter("99999999999999999999999", 0).value(), Duration(1'000'000'000));
}

TEST(RetryAfterTest, SaturatesWhatMillisecondsCannotHold) {
  // Seconds that fit in 64 bits when their milliseconds do not, as a number and as a date
  // (curl_getdate reads the year 2147483647): as long as the longest number, never wrapped.
  const Duration longest = ParseRetryAfter("99999999999999999999999", 0).value();
  for (const char* huge : {"9223372036854776", "18446744073709552", "9223372036854775807",
                           "Sun, 06 Nov 2147483647 08:49:37 GMT"}) {
    EXPECT_EQ(ParseRetryAfter(huge, 0), longest) << huge;
  }
}

TEST(RetryAfterTest, ReadsHttpDatesRelativeToNow) {
  const std::time_t now = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:50:07 GMT", now), Duration(30'000));
  EXPECT_EQ(ParseRetryAfter("Sunday, 06-Nov-94 08:50:07 GMT", now), Duration(30'000));
  EXPECT_EQ(ParseRetryAfter("Sun Nov  6 08:50:07 1994", now), Duration(30'000));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:00:00 GMT", now), Duration(0));
}

TEST(RetryAfterTest, RefusesNonsense) {
  for (const char* bad : {"", "soon", "-5", "1.5", "12abc"}) {
    EXPECT_FALSE(ParseRetryAfter(bad, 0).has_value()) << bad;
  }
}

}  // namespace
}  // namespace orchestrator
