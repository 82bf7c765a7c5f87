#include "orchestrator/run_stats.h"

#include <algorithm>

namespace orchestrator {

std::string_view TaskPhaseName(TaskPhase phase) {
  switch (phase) {
    case TaskPhase::kBlocked:
      return "blocked";
    case TaskPhase::kReady:
      return "pending";
    case TaskPhase::kPooled:
      return "pooled";
    case TaskPhase::kQueued:
      return "queued";
    case TaskPhase::kFetching:
      return "fetching";
    case TaskPhase::kWaiting:
      return "waiting";
    case TaskPhase::kEnding:
      return "ending";
    case TaskPhase::kDone:
      return "done";
  }
  return "unknown";
}

std::string_view FetchFailureName(FetchFailure failure) {
  switch (failure) {
    case FetchFailure::kNone:
      return "none";
    case FetchFailure::kHttpStatus:
      return "http_status";
    case FetchFailure::kDns:
      return "dns";
    case FetchFailure::kConnect:
      return "connect";
    case FetchFailure::kConnectionLost:
      return "connection_lost";
    case FetchFailure::kTimeout:
      return "timeout";
    case FetchFailure::kTls:
      return "tls";
    case FetchFailure::kProtocol:
      return "protocol";
    case FetchFailure::kRedirect:
      return "redirect";
    case FetchFailure::kTooLarge:
      return "too_large";
    case FetchFailure::kOther:
      return "other";
  }
  return "other";
}

void RunStats::Add(const RunStats& other) {
  for (std::size_t i = 0; i < phases.size(); ++i) phases[i] += other.phases[i];
  if (fetch_seconds.size() < other.fetch_seconds.size()) {
    fetch_seconds.resize(other.fetch_seconds.size());
  }
  for (std::size_t t = 0; t < other.fetch_seconds.size(); ++t) {
    fetch_seconds[t].Add(other.fetch_seconds[t]);
  }
  for (std::size_t i = 0; i < responses.size(); ++i) responses[i] += other.responses[i];
  for (std::size_t i = 0; i < retries.size(); ++i) retries[i] += other.retries[i];
  if (retries_by_type.size() < other.retries_by_type.size()) {
    retries_by_type.resize(other.retries_by_type.size());
  }
  for (std::size_t t = 0; t < other.retries_by_type.size(); ++t) {
    retries_by_type[t] += other.retries_by_type[t];
  }
  webhooks_delivered += other.webhooks_delivered;
  webhooks_given_up += other.webhooks_given_up;
}

std::uint64_t RunStats::fetches() const {
  std::uint64_t total = 0;
  for (const LatencyHistogram& type : fetch_seconds) total += type.count();
  return total;
}

}  // namespace orchestrator
