// The HTTP engine: libcurl's multi-socket interface driven by a Boost.Asio io_context.
#ifndef ORCHESTRATOR_CURL_HTTP_CLIENT_H_
#define ORCHESTRATOR_CURL_HTTP_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "orchestrator/http_client.h"

namespace boost::asio {
class io_context;
}

namespace orchestrator {

/// libcurl's process-wide set-up (curl_global_init), for as long as this object lives.
/// Create one in main before any CurlHttpClient, while the process has one thread.
class CurlLibrary {
 public:
  CurlLibrary();
  ~CurlLibrary();
  CurlLibrary(const CurlLibrary&) = delete;
  CurlLibrary& operator=(const CurlLibrary&) = delete;
};

struct CurlHttpClientOptions {
  /// Connections kept open for reuse (keep-alive). Match the number of fetches in flight.
  std::size_t max_connections = 64;
  /// Fail a fetch whose response body grows beyond this many bytes. Bodies are never kept;
  /// this only bounds what a hostile server can make us read. FetchRequest::max_body
  /// overrides it per request.
  std::optional<std::uint64_t> max_body;
  std::string user_agent = "orchestrator";
};

/// Performs HTTP requests (see FetchRequest) with one curl multi handle on `io`: Asio watches the
/// sockets curl names (CURLMOPT_SOCKETFUNCTION) and one steady_timer serves curl's timeouts
/// (CURLMOPT_TIMERFUNCTION); there is no polling loop and no thread per request. Easy
/// handles are reused, so connections are too. TLS certificates are verified; redirects are
/// followed (at most 10, http and https only).
///
/// Destroy it while `io` is not running its handlers (after run() returns); `io` must
/// outlive it.
class CurlHttpClient final : public HttpClient {
 public:
  CurlHttpClient(boost::asio::io_context& io, CurlHttpClientOptions options);
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  void Fetch(FetchRequest request, Callback done) override;
  void CancelAll() override;

  /// Connections opened so far (CURLINFO_NUM_CONNECTS summed over finished fetches).
  std::uint64_t connections_opened() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_CURL_HTTP_CLIENT_H_
