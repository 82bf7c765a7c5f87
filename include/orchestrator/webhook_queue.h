// The webhook deliveries of one runner: waiting for a fetch slot, in flight, or backing off.
#ifndef ORCHESTRATOR_WEBHOOK_QUEUE_H_
#define ORCHESTRATOR_WEBHOOK_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "orchestrator/clock.h"
#include "orchestrator/http_client.h"
#include "orchestrator/retry_policy.h"
#include "orchestrator/task.h"
#include "orchestrator/webhook.h"

namespace orchestrator {

/// One webhook of one task, 8 bytes: its request is filled in only when it is sent.
struct WebhookDelivery {
  TaskIndex task = 0;
  WebhookEvent event = WebhookEvent::kStart;
  std::uint8_t hook = 0;       ///< Its index in the blueprint's list for `event`.
  std::uint16_t attempts = 0;  ///< Failed attempts so far.
};

/// How a delivery's attempt went: `settled` when it is over, sent (`failure` empty) or
/// given up (`failure` says why, as error_info would: "HTTP 500 ... (after 3 attempts)").
struct WebhookProgress {
  WebhookDelivery delivery;
  bool settled = false;
  std::string failure;
};

/// Sends webhooks through the runner's HttpClient, one per fetch slot the runner gives it
/// (SendNext), and retries each on its hook's RetryPolicy. Like the runner it never sleeps:
/// backoffs wait here until the runner's one wake-up calls WakeDue.
class WebhookQueue {
 public:
  /// A delivery's request, filled in as it is about to be sent, and its hook's retries.
  struct Prepared {
    FetchRequest request;
    const RetryPolicy* retry = nullptr;
  };
  /// Fills a delivery in, or says why it cannot be sent.
  using Prepare = std::function<std::variant<Prepared, std::string>(const WebhookDelivery&)>;
  /// Runs, on the event loop, when an attempt sent by SendNext has ended.
  using Done = std::function<void(const WebhookProgress&)>;

  WebhookQueue(HttpClient& http, Clock& clock, Prepare prepare, Done done, std::uint64_t seed);
  WebhookQueue(const WebhookQueue&) = delete;
  WebhookQueue& operator=(const WebhookQueue&) = delete;

  /// Queues a delivery behind the others.
  void Post(WebhookDelivery delivery);
  bool has_queued() const { return !queued_.empty(); }
  /// Sends the oldest queued delivery: the caller has a fetch slot for it. Returns the
  /// delivery, settled, when it could not be filled in (nothing was sent).
  std::optional<WebhookProgress> SendNext();

  /// The end of the earliest backoff, if a delivery is backing off.
  std::optional<Clock::TimePoint> Earliest() const;
  /// Queues the deliveries whose backoff is over, ahead of the others.
  void WakeDue(Clock::TimePoint now);

  /// Drops every delivery, queued or backing off; those in flight are the HttpClient's to
  /// abandon (HttpClient::CancelAll). Returns how many were dropped, in flight included.
  std::size_t Clear();

  std::size_t in_flight() const { return in_flight_; }
  /// Deliveries not yet settled: queued, in flight or backing off.
  std::size_t pending() const { return queued_.size() + in_flight_ + backing_off_.size(); }

 private:
  struct BackingOff {
    Clock::TimePoint due;
    WebhookDelivery delivery;
    bool operator>(const BackingOff& other) const { return due > other.due; }
  };

  void OnAttemptDone(WebhookDelivery delivery, const RetryPolicy& retry, const FetchResult& result);

  HttpClient& http_;
  Clock& clock_;
  Prepare prepare_;
  Done done_;
  RetryDecider retries_;
  std::deque<WebhookDelivery> queued_;
  std::vector<BackingOff> backing_off_;  // a min-heap on `due`
  std::size_t in_flight_ = 0;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_WEBHOOK_QUEUE_H_
