// The runner's view of HTTP: start a request, hear back once.
#ifndef ORCHESTRATOR_HTTP_CLIENT_H_
#define ORCHESTRATOR_HTTP_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "orchestrator/duration.h"

namespace orchestrator {

/// The methods a fetch step or a webhook may use.
enum class HttpMethod : std::uint8_t { kGet, kHead, kPost, kPut, kPatch, kDelete };
inline constexpr HttpMethod kHttpMethods[] = {HttpMethod::kGet,   HttpMethod::kHead,
                                              HttpMethod::kPost,  HttpMethod::kPut,
                                              HttpMethod::kPatch, HttpMethod::kDelete};

/// The method's name as sent ("GET"); a string literal, so data() ends in a NUL.
constexpr std::string_view NameOf(HttpMethod method) {
  switch (method) {
    case HttpMethod::kGet:
      return "GET";
    case HttpMethod::kHead:
      return "HEAD";
    case HttpMethod::kPost:
      return "POST";
    case HttpMethod::kPut:
      return "PUT";
    case HttpMethod::kPatch:
      return "PATCH";
    case HttpMethod::kDelete:
      return "DELETE";
  }
  return "GET";
}

/// Which HTTP versions the engine speaks, as curl's --http1.1 and --http2 choose.
enum class HttpVersion : std::uint8_t {
  kDefault,  ///< libcurl's: HTTP/2 over TLS when the server offers it (ALPN), else HTTP/1.1
  kHttp11,   ///< HTTP/1.1 only (CURL_HTTP_VERSION_1_1)
  kHttp2,    ///< HTTP/2 over TLS, and over plain HTTP an Upgrade offer (CURL_HTTP_VERSION_2_0)
};

/// Why a fetch did not succeed, in the terms retry decisions need.
enum class FetchFailure {
  kNone,            ///< An expected status (any 2xx by default), body read to its end.
  kHttpStatus,      ///< A complete response with a status not expected.
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

/// What a fetch keeps of its response beyond its status (FetchResult::response), for
/// captures. Nothing by default: a body is then counted, never kept.
struct ResponseParts {
  /// Keep the body, up to `body_limit` bytes; a longer one is still read (and counted and
  /// hashed) but not kept, and FetchResponse::body_over_limit says so.
  bool body = false;
  std::uint64_t body_limit = 0;
  bool sha256 = false;  ///< Hash the body as it streams.
  bool url = false;     ///< The URL after redirects.
  /// Response headers (names in any case) whose last value to keep, of the final response.
  std::vector<std::string> headers{};

  bool any() const { return body || sha256 || url || !headers.empty(); }
};

/// One HTTP request. The first three fields come first so that `{url, timeout,
/// connect_timeout}` still makes a GET.
///
/// Redirects are followed as libcurl (7.88) does by default. A POST answered 301, 302 or 303
/// is followed as a GET without the body; 307 and 308 repeat the method and the body. PUT,
/// PATCH, DELETE and a GET with a body are sent as curl's custom method, which curl keeps on
/// every redirect: answered 301, 302 or 303 they are sent again with the same method but
/// without the body (and without a Content-Length). A HEAD stays a HEAD.
struct FetchRequest {
  std::string url;
  Duration timeout{10'000};
  Duration connect_timeout{10'000};
  HttpMethod method = HttpMethod::kGet;
  /// Sent in this order, after curl's own (Host, User-Agent, Accept); a name may repeat.
  /// A header named here replaces curl's of that name; an empty value is sent as empty. No
  /// "Expect: 100-continue" is sent unless named here. A name or value with CR, LF or NUL
  /// fails the fetch before anything is sent. Values never appear in FetchResult::message.
  std::vector<std::pair<std::string, std::string>> headers{};
  /// Sent as is (it may hold NUL bytes) with a Content-Length, and no Content-Type unless
  /// `headers` names one. POST, PUT and PATCH without a body send an empty one
  /// (Content-Length: 0); GET and DELETE send none, and a body given to them is sent with
  /// that method all the same. A HEAD with a body fails before anything is sent.
  std::optional<std::string> body{};
  /// The statuses that count as success; empty means any 2xx. An expected status is a
  /// success even when it would otherwise be retried (503, say).
  std::vector<int> expect{};
  /// Overrides CurlHttpClientOptions::max_body for this request when set.
  std::optional<std::uint64_t> max_body{};
  /// What to keep of the response, for captures.
  ResponseParts keep{};
  /// When not empty, the file a successful fetch's body is written to as it streams, made
  /// only once the fetch succeeded (BodyFile: a temporary file, then a rename); a fetch whose
  /// file cannot be written fails (kOther, "could not save the body: ...", not retried).
  std::string save_to{};
};

/// What a fetch kept of its final response (FetchRequest::keep), and what it always knows.
struct FetchResponse {
  std::uint64_t size = 0;             ///< Body bytes received.
  std::chrono::microseconds time{0};  ///< The attempt, from its start to its end.
  std::string body;                   ///< With ResponseParts::body, unless over its limit.
  bool body_over_limit = false;
  std::string sha256;  ///< With ResponseParts::sha256: lower-case hex.
  std::string url;     ///< With ResponseParts::url.
  /// With ResponseParts::headers: each one's last value (blanks around it taken off), in
  /// their order; nullopt for a header the response did not have.
  std::vector<std::optional<std::string>> headers;
};

struct FetchResult {
  FetchFailure failure = FetchFailure::kNone;
  int http_status = 0;  ///< The final response's status, or 0 when there was none.
  std::string message;  ///< A short reason for people when failed ("HTTP 503 Service Unavailable").
  std::optional<Duration> retry_after;  ///< The server's Retry-After, if it sent one.
  FetchResponse response;               ///< Of a fetch that got a response.

  bool ok() const { return failure == FetchFailure::kNone; }
};

/// Performs HTTP requests on the caller's event loop.
class HttpClient {
 public:
  using Callback = std::function<void(const FetchResult&)>;

  virtual ~HttpClient() = default;

  /// Starts a request. `done` runs exactly once, later, on the event loop; never from inside
  /// Fetch itself, so a caller may start the next fetch from `done`.
  virtual void Fetch(FetchRequest request, Callback done) = 0;

  /// Abandons every fetch in flight. Their callbacks never run.
  virtual void CancelAll() = 0;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_HTTP_CLIENT_H_
