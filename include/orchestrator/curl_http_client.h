// The HTTP engine: libcurl's multi-socket interface driven by a Boost.Asio io_context.
#ifndef ORCHESTRATOR_CURL_HTTP_CLIENT_H_
#define ORCHESTRATOR_CURL_HTTP_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
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
  /// A PEM bundle of the CAs to trust in place of the system's (curl's --cacert,
  /// CURLOPT_CAINFO); empty: the system's bundle (libcurl's default CAfile). Never also a
  /// directory of CAs (CURLOPT_CAPATH): see curl_http_client.cpp.
  std::string ca_file;
  /// Check neither the server's certificate nor its host name (curl's -k).
  bool insecure = false;
  HttpVersion http_version = HttpVersion::kDefault;
  /// Why a body may not be saved at `path` (RunFileGuard::Refusal: it would replace one of
  /// the run's own files), or nullopt. A fetch whose FetchRequest::save_to it refuses fails
  /// before it is sent. Empty: any path may be saved to.
  std::function<std::optional<std::string>(const std::string& path)> save_refused;
};

/// Performs HTTP requests (see FetchRequest) with one curl multi handle on `io`: Asio watches the
/// sockets curl names (CURLMOPT_SOCKETFUNCTION) and one steady_timer serves curl's timeouts
/// (CURLMOPT_TIMERFUNCTION); there is no polling loop and no thread per request. Easy
/// handles are reused, so connections are too. TLS certificates are verified (unless
/// `insecure`) against a CA store built once, and a new connection resumes the TLS session
/// of an earlier one to the same host; redirects are followed (at most 10, http and https only).
/// Proxies are libcurl's own choice from the environment (http_proxy, https_proxy, all_proxy,
/// no_proxy): nothing here sets one.
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

/// What makes a worker's engine (Worker::Options::http): a CurlHttpClient with `options` on
/// the loop it is given.
std::function<std::unique_ptr<HttpClient>(boost::asio::io_context&)> CurlEngines(
    CurlHttpClientOptions options);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_CURL_HTTP_CLIENT_H_
