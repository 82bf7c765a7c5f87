// A loopback HTTP/1.1 (and HTTPS) server with fault modes, for integration and end-to-end tests.
#ifndef ORCHESTRATOR_TESTS_TEST_SERVER_H_
#define ORCHESTRATOR_TESTS_TEST_SERVER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orchestrator::testing {

/// The body of /hostile-body: what a capture must not pass on to a terminal or a CSV line.
inline constexpr std::string_view kHostileBody = "line1\r\nA\x1b[31mred\xc2\x9b\xff\tend\n";

/// Serves 127.0.0.1 on an ephemeral port from its own thread and io_context, with keep-alive.
///
/// Any method is answered by its route alike; a HEAD gets the head alone. A request body (with
/// a Content-Length, up to 4 MiB; a larger or chunked one closes the connection) is read and
/// recorded, see RecordedRequests().
///
/// Routes (the path picks the route; the query is ignored for routing but counted as part of
/// the target). A proxy's request (`GET http://host/ok HTTP/1.1`) is routed by its path and
/// recorded with its whole target, so the server stands in for an HTTP proxy too:
///   /ok, /get, /task/...        200 application/json `{"ok":true}\n`
///   /close                      the same with `Connection: close`, then a clean close: each
///                               request on a connection of its own
///   /ok-then-close              the same as /ok, keep-alive and all, then a clean close: a
///                               server that drops an idle connection
///   /item/ID                    200 application/json
///                               `{"id":ID,"sku":"sku-ID","price":ID.5,"tags":["a","b"],
///                               "data":{"owner":null,"n":ID%7}}\n`, with `ETag: "etag-ID"`,
///                               `X-Repeat: first` and `x-repeat:  last  `
///   /redirect-item/ID           302 to /item/ID
///   /hostile-body               200 text/plain: kHostileBody (an escape sequence, an 8-bit
///                               CSI, invalid UTF-8, line breaks), and an X-Hostile header
///                               with the same kind of bytes
///   /status/N                   status N with its reason phrase
///   /delay/MS                   200 after MS milliseconds
///   /reset                      TCP RST after reading the request
///   /empty                      clean close without a byte
///   /stall                      never answers; holds the connection until the client goes
///   /partial                    Content-Length: 1000 but 100 body bytes, then close
///   /garbage                    `this is not HTTP\r\n\r\n`, then close
///   /slow                       Content-Length: 100, one byte every 100 ms
///   /flaky/K/STATUS             first K requests for this target get STATUS, then 200
///   /flaky-reset/K              first K requests for this target get a RST, then 200
///   /retry-after/STATUS/SECONDS first request for this target: STATUS + Retry-After, then 200
///   /retry-after-date/SECONDS   first request for this target: 503 + Retry-After as a date
///   /big/MEGABYTES              200 with MEGABYTES MiB of body, streamed
///   /endless-headers            200 status line, then header lines until the client closes
///   /redirect/N                 302 to /redirect/N-1; /redirect/0 goes to /ok
///   /redirect-status/STATUS     STATUS (301, 303, 307...) to /ok
///   /redirect-to-token          302 to http://TOKEN.invalid/, TOKEN the last word of the
///                               request's Authorization header: a server echoing a secret
///   /redirect-loop              302 to itself
///   /redirect-ftp               302 to ftp://127.0.0.1:PORT/file
///   /redirect-control           302 to a loopback URL with ESC and BEL in its path
///   /random-faults/P503/PRESET  per request: P503% 503, PRESET% RST, else 200 (fixed seed)
///   anything else               404
class TestServer {
 public:
  /// A request as the server read it.
  struct RecordedRequest {
    std::string method;
    std::string target;
    /// In the order sent, a repeated name repeated; names as spelled, values trimmed.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    /// When the server had read it whole.
    std::chrono::steady_clock::time_point arrived{};

    /// The values of the headers named `name` (in any case), in order.
    std::vector<std::string> HeaderValues(std::string_view name) const;
    /// The first value of the header named `name`, or nullopt when there is none.
    std::optional<std::string> Header(std::string_view name) const;
  };

  /// How many requests RecordedRequests() keeps: memory stays bounded on long runs.
  static constexpr std::size_t kRecordedRequests = 32;

  struct Options {
    bool tls = false;         // serve HTTPS with tests/data/test-cert.pem + test-key.pem
    bool never_read = false;  // accept connections and hold them open, never reading or writing
  };

  TestServer();
  /// Binds 127.0.0.1:0 and is serving on its own thread when this returns. Throws on failure.
  explicit TestServer(Options options);
  /// Closes the listener and every connection and joins the thread; prompt even when clients
  /// stall.
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  std::uint16_t port() const;
  /// "http://127.0.0.1:PORT" + target ("https://..." when serving TLS).
  std::string Url(std::string_view target) const;

  // Counters, safe to read from any thread while serving.

  /// TCP connections accepted so far.
  std::size_t connections() const;
  /// With tls: handshakes completed with a new session (a full handshake: key exchange and
  /// certificate), and with a session resumed from an earlier connection (a TLS 1.3 ticket).
  /// A connection whose handshake failed counts in neither.
  std::size_t full_handshakes() const;
  std::size_t resumed_handshakes() const;
  /// Requests whose head was fully read.
  std::size_t requests() const;
  /// Requests for this exact request-target (path + query as sent).
  std::size_t RequestsFor(std::string_view target) const;
  /// Most requests handled at the same moment (head read .. response finished or dropped).
  std::size_t max_in_flight() const;
  /// The same, of the requests for this exact request-target.
  std::size_t MaxInFlightFor(std::string_view target) const;
  /// A request's target, and when its head had been read.
  struct Arrival {
    std::string target;
    std::chrono::steady_clock::time_point at;
  };
  /// How many Arrivals() keeps, the first ones since the last ResetCounters.
  static constexpr std::size_t kArrivals = 100'000;
  /// Every request, in the order it arrived (valid ones: a bad head has no target).
  std::vector<Arrival> Arrivals() const;
  /// Requests being handled now.
  std::size_t in_flight() const;
  /// The last kRecordedRequests valid requests, oldest first, each recorded once its body was
  /// read and before its response is sent.
  std::vector<RecordedRequest> RecordedRequests() const;
  /// The last one, or nullopt before any.
  std::optional<RecordedRequest> LastRequest() const;
  /// Sets the counters (the handshake counts too), max_in_flight (MaxInFlightFor too) and the
  /// per-target "first K" state to 0 and forgets the recorded requests and the arrivals. in_flight
  /// is a gauge of requests still being handled and is left alone.
  void ResetCounters();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace orchestrator::testing

#endif  // ORCHESTRATOR_TESTS_TEST_SERVER_H_
