#include "orchestrator/webhook_queue.h"

#include <algorithm>
#include <functional>
#include <utility>

namespace orchestrator {

WebhookQueue::WebhookQueue(HttpClient& http, Clock& clock, Prepare prepare, Done done,
                           std::uint64_t seed)
    : http_(http),
      clock_(clock),
      prepare_(std::move(prepare)),
      done_(std::move(done)),
      retries_(seed) {}

void WebhookQueue::Post(WebhookDelivery delivery) { queued_.push_back(delivery); }

std::optional<WebhookProgress> WebhookQueue::SendNext() {
  if (queued_.empty()) return std::nullopt;
  const WebhookDelivery delivery = queued_.front();
  queued_.pop_front();
  std::variant<Prepared, std::string> prepared = prepare_(delivery);
  if (auto* error = std::get_if<std::string>(&prepared)) {
    return WebhookProgress{.delivery = delivery, .settled = true, .failure = std::move(*error)};
  }
  auto& [request, retry] = std::get<Prepared>(prepared);
  ++in_flight_;
  http_.Fetch(std::move(request), [this, delivery, retry = retry](const FetchResult& result) {
    OnAttemptDone(delivery, *retry, result);
  });
  return std::nullopt;
}

void WebhookQueue::OnAttemptDone(WebhookDelivery delivery, const RetryPolicy& retry,
                                 const FetchResult& result) {
  --in_flight_;
  if (result.ok()) {
    done_({.delivery = delivery, .settled = true, .failure = {}});
    return;
  }
  ++delivery.attempts;
  AfterFailure decision = retries_.Decide(retry, delivery.attempts, result);
  if (!decision.retry) {
    done_({.delivery = delivery, .settled = true, .failure = std::move(decision.reason)});
    return;
  }
  backing_off_.push_back({clock_.Now() + decision.delay, delivery});
  std::push_heap(backing_off_.begin(), backing_off_.end(), std::greater<>());
  done_({.delivery = delivery, .settled = false, .failure = {}});
}

std::optional<Clock::TimePoint> WebhookQueue::Earliest() const {
  if (backing_off_.empty()) return std::nullopt;
  return backing_off_.front().due;
}

void WebhookQueue::WakeDue(Clock::TimePoint now) {
  while (!backing_off_.empty() && backing_off_.front().due <= now) {
    std::pop_heap(backing_off_.begin(), backing_off_.end(), std::greater<>());
    // A retry has waited its turn once: it goes ahead of deliveries not yet tried.
    queued_.push_front(backing_off_.back().delivery);
    backing_off_.pop_back();
  }
}

std::size_t WebhookQueue::Clear() {
  const std::size_t dropped = pending();
  queued_.clear();
  backing_off_.clear();
  in_flight_ = 0;
  return dropped;
}

}  // namespace orchestrator
