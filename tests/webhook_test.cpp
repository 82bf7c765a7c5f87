#include "orchestrator/webhook.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace orchestrator {
namespace {

using std::chrono::milliseconds;
using WallTime = WebhookRecord::WallTime;

constexpr WallTime kNineOClock{std::chrono::seconds(1'796'202'000)};  // 2026-12-02T09:00:00Z

TEST(WebhookTest, TimesAreRfc3339InUtcWithMilliseconds) {
  EXPECT_EQ(Rfc3339(kNineOClock), "2026-12-02T09:00:00.000Z");
  EXPECT_EQ(Rfc3339(kNineOClock + milliseconds(5012)), "2026-12-02T09:00:05.012Z");
  EXPECT_EQ(Rfc3339(WallTime{} + milliseconds(999)), "1970-01-01T00:00:00.999Z");
  EXPECT_EQ(Rfc3339(WallTime{} - milliseconds(1)), "1969-12-31T23:59:59.999Z");
  // Below a millisecond is cut, never rounded up into the next second.
  EXPECT_EQ(Rfc3339(kNineOClock + std::chrono::microseconds(999'999)), "2026-12-02T09:00:00.999Z");
}

TEST(WebhookTest, TheBodyOfAnEndedTaskHasEveryField) {
  const Outcome failed = Outcome::Failed("store: HTTP 409 Conflict");
  const std::string body = WebhookBody({.task_id = 18446744073709551615u,
                                        .task_type = "ingest",
                                        .event = WebhookEvent::kFailure,
                                        .outcome = &failed,
                                        .attempts = 3,
                                        .started_at = kNineOClock,
                                        .finished_at = kNineOClock + milliseconds(5012)});
  EXPECT_EQ(body,
            R"({"task_id":18446744073709551615,"task_type":"ingest","event":"failure",)"
            R"("final_status":"Failed","error_info":"store: HTTP 409 Conflict","attempts":3,)"
            R"("started_at":"2026-12-02T09:00:00.000Z","finished_at":"2026-12-02T09:00:05.012Z",)"
            R"("duration_ms":5012})");
}

// Whatever the row held, the body is valid JSON that gives it back.
TEST(WebhookTest, TextIsEscapedAsJson) {
  const Outcome failed = Outcome::Failed("say: \"quoted\"\\ and\na line break\t\x01");
  const std::string type = "caf\xc3\xa9 \"x\"";
  const std::string body = WebhookBody({.task_id = 1,
                                        .task_type = type,
                                        .event = WebhookEvent::kFailure,
                                        .outcome = &failed,
                                        .attempts = 0,
                                        .started_at = kNineOClock,
                                        .finished_at = kNineOClock});
  const boost::json::object parsed = boost::json::parse(body).as_object();
  EXPECT_EQ(parsed.at("task_type").as_string(), type);
  EXPECT_EQ(parsed.at("error_info").as_string(), failed.error_info);
}

TEST(WebhookTest, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  const std::string body = WebhookBody({.task_id = 1,
                                        .task_type = "a\xff"
                                                     "b",
                                        .event = WebhookEvent::kStart,
                                        .outcome = nullptr,
                                        .attempts = 0,
                                        .started_at = kNineOClock,
                                        .finished_at = std::nullopt});
  const boost::json::object parsed = boost::json::parse(body).as_object();
  EXPECT_EQ(parsed.at("task_type").as_string(),
            "a\xef\xbf\xbd"
            "b");
}

// As the JSON Lines row has them: a capture taken as JSON is that JSON, exactly as captured
// (24.50 is not read into a double and written as 2.45E1); text stays a string, even when it
// looks like a number; a "JSON" value that is not one is a string.
TEST(WebhookTest, CapturesAreAnObjectWithJsonCapturesAsJsonValues) {
  Outcome done = Outcome::Completed();
  done.captured.Set(0, "24.50", CapturedAs::kJson);
  done.captured.Set(2, "{\"a\":[1,true]}", CapturedAs::kJson);
  done.captured.Set(1, "12");
  done.captured.Set(3, "{not json", CapturedAs::kJson);
  const std::vector<std::string> names{"price", "id", "meta", "odd"};
  const std::string body = WebhookBody({.task_id = 1,
                                        .task_type = "item",
                                        .event = WebhookEvent::kSuccess,
                                        .outcome = &done,
                                        .attempts = 1,
                                        .started_at = kNineOClock,
                                        .finished_at = kNineOClock,
                                        .capture_names = names});
  EXPECT_EQ(body, R"({"task_id":1,"task_type":"item","event":"success","final_status":"Completed",)"
                  R"("error_info":"","captures":{"price":24.50,"meta":{"a":[1,true]},"id":"12",)"
                  R"("odd":"{not json"},"attempts":1,"started_at":"2026-12-02T09:00:00.000Z",)"
                  R"("finished_at":"2026-12-02T09:00:00.000Z","duration_ms":0})");
  EXPECT_NO_THROW(boost::json::parse(body));
}

TEST(WebhookTest, EventNames) {
  EXPECT_EQ(NameOf(WebhookEvent::kStart), "start");
  EXPECT_EQ(NameOf(WebhookEvent::kSuccess), "success");
  EXPECT_EQ(NameOf(WebhookEvent::kFailure), "failure");
  EXPECT_EQ(KeyOf(WebhookEvent::kFailure), "on_failure");
}

}  // namespace
}  // namespace orchestrator
