// Webhooks: what a task's webhooks tell (a JSON record) and the request that carries it.
#ifndef ORCHESTRATOR_WEBHOOK_H_
#define ORCHESTRATOR_WEBHOOK_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "orchestrator/blueprint.h"
#include "orchestrator/http_client.h"
#include "orchestrator/outcome.h"
#include "orchestrator/task.h"
#include "orchestrator/task_values.h"

namespace orchestrator {

/// When a blueprint's webhooks fire: as a task starts, and as it ends one way or the other.
enum class WebhookEvent : std::uint8_t { kStart, kSuccess, kFailure };

/// "start", "success", "failure": the event as the JSON record names it.
std::string_view NameOf(WebhookEvent event);
/// "on_start", "on_success", "on_failure": as the blueprint file names the event's webhooks.
std::string_view KeyOf(WebhookEvent event);
/// The blueprint's webhooks for `event`.
const std::vector<FetchStep>& WebhooksOf(const Blueprint& blueprint, WebhookEvent event);

/// What a webhook tells of its task.
struct WebhookRecord {
  using WallTime = std::chrono::system_clock::time_point;

  TaskId task_id = 0;
  std::string_view task_type;
  WebhookEvent event = WebhookEvent::kStart;
  const Outcome* outcome = nullptr;  ///< How the task ended; null for kStart.
  std::uint32_t attempts = 0;        ///< HTTP attempts the task's fetch steps made so far.
  WallTime started_at;
  std::optional<WallTime> finished_at;  ///< Set with `outcome`.
  /// The run's capture columns by index: the names of `outcome->captured`'s values.
  std::span<const std::string> capture_names{};
};

/// The record as a JSON object, its text written by Boost.JSON:
/// {"task_id": 101, "task_type": "ingest", "event": "success", "final_status": "Completed",
///  "error_info": "", "attempts": 1, "started_at": "2026-12-02T09:00:00.000Z",
///  "finished_at": "2026-12-02T09:00:05.012Z", "duration_ms": 5012}
/// For "start", final_status, error_info, finished_at and duration_ms are null. A task whose
/// fetches captured values has "captures": {"price": 12.5, "sku": "A-1"} after error_info,
/// each value as a JSON Lines result row has it (AppendCapturedJson).
std::string WebhookBody(const WebhookRecord& record);

/// RFC 3339 in UTC with milliseconds: "2026-12-02T09:00:05.012Z".
std::string Rfc3339(WebhookRecord::WallTime time);

/// The request of `hook` for one task: its URL and headers filled in from `values`, `body`
/// as the body, and "Content-Type: application/json" unless the hook names a Content-Type.
/// Returns false, with `error` saying why, when a value cannot go where the hook puts it or
/// the filled-in URL is not one we fetch.
bool MakeWebhookRequest(const FetchStep& hook, const TaskValues& values, std::string body,
                        FetchRequest& request, std::string& error);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_WEBHOOK_H_
