// What a run's tasks and fetches are doing and have done, in counts: what the status line,
// the metrics and the closing report show.
#ifndef ORCHESTRATOR_RUN_STATS_H_
#define ORCHESTRATOR_RUN_STATS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "orchestrator/http_client.h"
#include "orchestrator/latency_histogram.h"

namespace orchestrator {

/// Where a task is in its run, in the order it goes through them:
///   kBlocked -> kReady -> kPooled -> (kQueued -> kFetching | kWaiting)* -> kEnding -> kDone
/// kBlocked is skipped by a task without parents, kPooled by one that finds a place in its
/// --limit pools at once, kEnding by one without webhooks, and any phase but kDone may go
/// to kDone at once (a failed dependency, a halt, a cancel).
enum class TaskPhase : std::uint8_t {
  kBlocked,   ///< waiting for its parents' rows
  kReady,     ///< not started
  kPooled,    ///< waiting for a place in its --limit pools
  kQueued,    ///< waiting for a fetch slot
  kFetching,  ///< its fetch is in flight
  kWaiting,   ///< in a delay or a retry's backoff
  kEnding,    ///< its steps are over; its webhooks are not yet
  kDone,      ///< its row is written
};
inline constexpr std::size_t kTaskPhaseCount = 8;

/// The phase's name in metrics and on the status line: blocked, pending, pooled, queued,
/// fetching, waiting, ending, done.
std::string_view TaskPhaseName(TaskPhase phase);

inline constexpr std::size_t kFetchFailureCount =
    static_cast<std::size_t>(FetchFailure::kOther) + 1;
/// A failure's name as a metric label: http_status, dns, connect, connection_lost, timeout,
/// tls, protocol, redirect, too_large, other (and none).
std::string_view FetchFailureName(FetchFailure failure);

/// One runner's counts, which the collector adds up over the workers. Plain numbers: a
/// worker sends a copy now and then (about 5 KB).
struct RunStats {
  /// Tasks in each phase now, by TaskPhase.
  std::array<std::uint64_t, kTaskPhaseCount> phases{};
  /// How long each fetch attempt took (webhooks not included), by task type.
  std::vector<LatencyHistogram> fetch_seconds;
  /// Fetch attempts by the HTTP status of their response; [0]: no response at all.
  std::array<std::uint64_t, 600> responses{};
  /// Retries by the failure that led to them (FetchFailure)...
  std::array<std::uint64_t, kFetchFailureCount> retries{};
  /// ...and by task type.
  std::vector<std::uint64_t> retries_by_type;
  std::uint64_t webhooks_delivered = 0;
  std::uint64_t webhooks_given_up = 0;

  void Add(const RunStats& other);
  /// Fetch attempts of every type.
  std::uint64_t fetches() const;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_RUN_STATS_H_
