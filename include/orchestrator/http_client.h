// The runner's view of HTTP: start a GET, hear back once.
#ifndef ORCHESTRATOR_HTTP_CLIENT_H_
#define ORCHESTRATOR_HTTP_CLIENT_H_

#include <functional>
#include <optional>
#include <string>

#include "orchestrator/duration.h"

namespace orchestrator {

/// Why a fetch did not succeed, in the terms retry decisions need.
enum class FetchFailure {
  kNone,            ///< 2xx, body read to its end.
  kHttpStatus,      ///< A complete response with a status other than 2xx.
  kDns,             ///< The host name did not resolve.
  kConnect,         ///< Refused, unreachable, or no socket to connect with.
  kConnectionLost,  ///< Reset, closed early, or an empty reply.
  kTimeout,         ///< The attempt ran out of time.
  kTls,             ///< Handshake or certificate failure.
  kProtocol,        ///< The server's reply was not valid HTTP.
  kRedirect,        ///< Too many redirects, or a redirect to a scheme we do not follow.
  kTooLarge,        ///< The body exceeded the configured limit.
  kOther,
};

struct FetchRequest {
  std::string url;
  Duration timeout{10'000};
  Duration connect_timeout{10'000};
};

struct FetchResult {
  FetchFailure failure = FetchFailure::kNone;
  int http_status = 0;  ///< The final response's status, or 0 when there was none.
  std::string message;  ///< A short reason for people when failed ("HTTP 503 Service Unavailable").
  std::optional<Duration> retry_after;  ///< The server's Retry-After, if it sent one.

  bool ok() const { return failure == FetchFailure::kNone; }
};

/// Performs GETs on the caller's event loop.
class HttpClient {
 public:
  using Callback = std::function<void(const FetchResult&)>;

  virtual ~HttpClient() = default;

  /// Starts a GET. `done` runs exactly once, later, on the event loop; never from inside
  /// Fetch itself, so a caller may start the next fetch from `done`.
  virtual void Fetch(FetchRequest request, Callback done) = 0;

  /// Abandons every fetch in flight. Their callbacks never run.
  virtual void CancelAll() = 0;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_HTTP_CLIENT_H_
