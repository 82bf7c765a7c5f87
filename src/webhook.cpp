#include "orchestrator/webhook.h"

#include <fmt/format.h>
#include <strings.h>
#include <time.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <utility>

#include "orchestrator/fill_request.h"
#include "orchestrator/result_jsonl.h"
#include "orchestrator/text.h"

namespace orchestrator {

std::string_view NameOf(WebhookEvent event) {
  switch (event) {
    case WebhookEvent::kStart:
      return "start";
    case WebhookEvent::kSuccess:
      return "success";
    case WebhookEvent::kFailure:
      return "failure";
  }
  return "start";
}

std::string_view KeyOf(WebhookEvent event) {
  switch (event) {
    case WebhookEvent::kStart:
      return "on_start";
    case WebhookEvent::kSuccess:
      return "on_success";
    case WebhookEvent::kFailure:
      return "on_failure";
  }
  return "on_start";
}

const std::vector<FetchStep>& WebhooksOf(const Blueprint& blueprint, WebhookEvent event) {
  switch (event) {
    case WebhookEvent::kStart:
      return blueprint.on_start;
    case WebhookEvent::kSuccess:
      return blueprint.on_success;
    case WebhookEvent::kFailure:
      return blueprint.on_failure;
  }
  return blueprint.on_start;
}

std::string Rfc3339(WebhookRecord::WallTime time) {
  const auto since_epoch =
      std::chrono::floor<std::chrono::milliseconds>(time.time_since_epoch()).count();
  const std::time_t seconds =
      static_cast<std::time_t>(since_epoch >= 0 ? since_epoch / 1000 : (since_epoch - 999) / 1000);
  const auto millis = since_epoch - static_cast<std::int64_t>(seconds) * 1000;
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
}

std::string WebhookBody(const WebhookRecord& record) {
  boost::json::object body;
  body["task_id"] = record.task_id;
  body["task_type"] = ValidUtf8(record.task_type);
  body["event"] = NameOf(record.event);
  if (record.outcome != nullptr) {
    body["final_status"] = FinalStatusName(record.outcome->status());
    body["error_info"] = ValidUtf8(record.outcome->error_info);
  } else {
    body["final_status"] = nullptr;
    body["error_info"] = nullptr;
  }
  // The captures as the result row has them: a JSON capture as the JSON it is, never read
  // into a double (Boost.JSON would write 24.5 as 2.45E1). So the object is written in two
  // halves, the captures between them.
  std::string text = boost::json::serialize(body);
  if (record.outcome != nullptr && !record.outcome->captured.empty()) {
    text.pop_back();  // the '}'
    text += R"(,"captures":{)";
    bool first = true;
    record.outcome->captured.ForEach([&](std::size_t column, CapturedValue value) {
      if (column >= record.capture_names.size()) return;
      if (!first) text += ',';
      first = false;
      AppendJsonString(text, record.capture_names[column]);
      text += ':';
      AppendCapturedJson(text, value);
    });
    text += "}}";
  }
  body.clear();
  body["attempts"] = record.attempts;
  body["started_at"] = Rfc3339(record.started_at);
  if (record.finished_at) {
    body["finished_at"] = Rfc3339(*record.finished_at);
    body["duration_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                              *record.finished_at - record.started_at)
                              .count();
  } else {
    body["finished_at"] = nullptr;
    body["duration_ms"] = nullptr;
  }
  const std::string rest = boost::json::serialize(body);  // {"attempts":...}
  text.back() = ',';
  text.append(rest, 1);
  return text;
}

bool MakeWebhookRequest(const FetchStep& hook, const TaskValues& values, std::string body,
                        FetchRequest& request, std::string& error) {
  if (!FillRequest(hook, values, request, error)) return false;
  const bool names_content_type = std::any_of(
      request.headers.begin(), request.headers.end(),
      [](const auto& header) { return ::strcasecmp(header.first.c_str(), "Content-Type") == 0; });
  if (!names_content_type) request.headers.emplace_back("Content-Type", "application/json");
  request.body = std::move(body);
  return true;
}

}  // namespace orchestrator
