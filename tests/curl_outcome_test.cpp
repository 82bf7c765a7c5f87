#include "orchestrator/curl_outcome.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace orchestrator {
namespace {

const std::vector<int> kExpect404 = {404};
const std::string kLong(300, 'x');
const std::vector<std::string> kSecrets = {"Bearer s3cr3t-t0ken", "s3cr3t-t0ken", "Bearer"};

// One finished transfer: curl's code, the status, what differs from the plain facts below,
// and the result it must give.
struct Row {
  const char* what;
  CURLcode code;
  int http_status;
  TransferFacts facts;
  FetchFailure failure;
  std::string message;
};

// A fetch of http://user:pa55word@example.test/ with the request's default limits (10 s, a
// connect limit of 5 s), a 1 MiB body limit and a secret header; nothing went wrong yet.
TransferFacts Plain() {
  TransferFacts facts;
  facts.timeout = Duration(10'000);
  facts.connect_timeout = Duration(5'000);
  facts.max_body = std::uint64_t{1} << 20;
  facts.host = "example.test";
  facts.password = "pa55word";
  facts.secrets = kSecrets;
  return facts;
}

template <typename Change>
TransferFacts With(Change change) {
  TransferFacts facts = Plain();
  change(facts);
  return facts;
}

TEST(CurlOutcomeTest, ClassifiesEachTransferAsTheTableSays) {
  using F = FetchFailure;
  const std::string strerror_write = curl_easy_strerror(CURLE_WRITE_ERROR);
  const std::string strerror_range = curl_easy_strerror(CURLE_RANGE_ERROR);
  const Row rows[] = {
      // Complete responses: the status decides.
      {"200", CURLE_OK, 200, Plain(), F::kNone, ""},
      {"299", CURLE_OK, 299, Plain(), F::kNone, ""},
      {"204", CURLE_OK, 204, Plain(), F::kNone, ""},
      {"404", CURLE_OK, 404, Plain(), F::kHttpStatus, "HTTP 404 Not Found"},
      {"503", CURLE_OK, 503, Plain(), F::kHttpStatus, "HTTP 503 Service Unavailable"},
      {"301 not followed", CURLE_OK, 301, Plain(), F::kHttpStatus, "HTTP 301 Moved Permanently"},
      {"599", CURLE_OK, 599, Plain(), F::kHttpStatus, "HTTP 599"},
      {"404 expected", CURLE_OK, 404, With([](auto& f) { f.expect = kExpect404; }), F::kNone, ""},
      {"200 not expected", CURLE_OK, 200, With([](auto& f) { f.expect = kExpect404; }),
       F::kHttpStatus, "HTTP 200 OK"},
      // DNS: the host named, any secret in it masked.
      {"dns", CURLE_COULDNT_RESOLVE_HOST, 0, Plain(), F::kDns,
       "could not resolve host example.test"},
      {"dns with a secret", CURLE_COULDNT_RESOLVE_HOST, 0,
       With([](auto& f) { f.host = "s3cr3t-t0ken.invalid"; }), F::kDns,
       "could not resolve host ***.invalid"},
      {"proxy dns", CURLE_COULDNT_RESOLVE_PROXY, 0,
       With([](auto& f) { f.error = "Could not resolve proxy: p"; }), F::kDns,
       "could not resolve proxy (Could not resolve proxy: p)"},
      // Connect: the errno decides.
      {"refused", CURLE_COULDNT_CONNECT, 0, With([](auto& f) { f.os_errno = ECONNREFUSED; }),
       F::kConnect, "connection refused"},
      {"net unreachable", CURLE_COULDNT_CONNECT, 0, With([](auto& f) { f.os_errno = ENETUNREACH; }),
       F::kConnect, "network unreachable"},
      {"host unreachable", CURLE_COULDNT_CONNECT, 0,
       With([](auto& f) { f.os_errno = EHOSTUNREACH; }), F::kConnect, "host unreachable"},
      {"emfile", CURLE_COULDNT_CONNECT, 0, With([](auto& f) { f.os_errno = EMFILE; }), F::kConnect,
       "out of file descriptors (too many open files)"},
      {"enfile", CURLE_COULDNT_CONNECT, 0, With([](auto& f) { f.os_errno = ENFILE; }), F::kConnect,
       "out of file descriptors (too many open files)"},
      {"no port", CURLE_COULDNT_CONNECT, 0, With([](auto& f) { f.os_errno = EADDRNOTAVAIL; }),
       F::kConnect, "no local port free to connect from"},
      {"other errno", CURLE_COULDNT_CONNECT, 0, With([](auto& f) { f.os_errno = EACCES; }),
       F::kConnect, std::string("could not connect: ") + std::strerror(EACCES)},
      {"no errno", CURLE_COULDNT_CONNECT, 0, With([](auto& f) { f.error = "Failed to connect"; }),
       F::kConnect, "could not connect (Failed to connect)"},
      {"no errno, no text", CURLE_COULDNT_CONNECT, 0, Plain(), F::kConnect, "could not connect"},
      // Time: the connect limit when nothing was sent and it is the lower one.
      {"connect timeout", CURLE_OPERATION_TIMEDOUT, 0, Plain(), F::kTimeout,
       "connect timed out after 5s"},
      {"timeout after sending", CURLE_OPERATION_TIMEDOUT, 0, With([](auto& f) { f.sent = true; }),
       F::kTimeout, "timed out after 10s"},
      {"equal limits", CURLE_OPERATION_TIMEDOUT, 0,
       With([](auto& f) { f.connect_timeout = f.timeout; }), F::kTimeout, "timed out after 10s"},
      // The connection.
      {"empty reply", CURLE_GOT_NOTHING, 0, Plain(), F::kConnectionLost, "empty reply from server"},
      {"partial", CURLE_PARTIAL_FILE, 0, Plain(), F::kConnectionLost,
       "connection closed before the end of the body"},
      {"headers too large", CURLE_RECV_ERROR, 0, With([](auto& f) {
         f.error = "Too large response headers: 307210 > 307200";
         f.os_errno = ECONNRESET;
       }),
       F::kProtocol, "response headers too large (over 300 KiB)"},
      {"reset", CURLE_RECV_ERROR, 0, With([](auto& f) { f.os_errno = ECONNRESET; }),
       F::kConnectionLost, "connection reset by peer"},
      {"pipe", CURLE_SEND_ERROR, 0, With([](auto& f) { f.os_errno = EPIPE; }), F::kConnectionLost,
       "connection closed by peer"},
      {"recv", CURLE_RECV_ERROR, 0, With([](auto& f) { f.error = "Recv failure: x"; }),
       F::kConnectionLost, "receive failed (Recv failure: x)"},
      {"send", CURLE_SEND_ERROR, 0, Plain(), F::kConnectionLost, "send failed"},
      // Not HTTP.
      {"weird", CURLE_WEIRD_SERVER_REPLY, 0, With([](auto& f) { f.error = "bad\r\nline\t"; }),
       F::kProtocol, "invalid HTTP response (bad  line)"},
      {"http2", CURLE_HTTP2, 0, Plain(), F::kProtocol, "invalid HTTP response"},
      {"http2 stream", CURLE_HTTP2_STREAM, 0, Plain(), F::kProtocol, "invalid HTTP response"},
      {"encoding", CURLE_BAD_CONTENT_ENCODING, 0, Plain(), F::kProtocol, "invalid HTTP response"},
      {"http/0.9", CURLE_UNSUPPORTED_PROTOCOL, 0,
       With([](auto& f) { f.error = "Received HTTP/0.9 when not allowed"; }), F::kProtocol,
       "invalid HTTP response (no HTTP status line)"},
      // Redirects.
      {"too many", CURLE_TOO_MANY_REDIRECTS, 0, Plain(), F::kRedirect,
       "too many redirects (more than 10)"},
      {"to ftp", CURLE_UNSUPPORTED_PROTOCOL, 0, With([](auto& f) { f.redirects = 1; }),
       F::kRedirect, "redirected to a scheme other than http or https (not followed)"},
      {"unsupported", CURLE_UNSUPPORTED_PROTOCOL, 0,
       With([](auto& f) { f.error = "Protocol \"ftp\" not supported"; }), F::kOther,
       "unsupported protocol (Protocol \"ftp\" not supported)"},
      // TLS.
      {"verify", CURLE_PEER_FAILED_VERIFICATION, 0,
       With([](auto& f) { f.error = "SSL certificate problem: self-signed certificate"; }), F::kTls,
       "TLS: certificate verify failed (self-signed certificate)"},
      {"verify, no text", CURLE_PEER_FAILED_VERIFICATION, 0, Plain(), F::kTls,
       "TLS: certificate verify failed"},
      {"verify, other text", CURLE_PEER_FAILED_VERIFICATION, 0,
       With([](auto& f) { f.error = "no alternative name matches"; }), F::kTls,
       "TLS: certificate verify failed (no alternative name matches)"},
      {"handshake", CURLE_SSL_CONNECT_ERROR, 0, Plain(), F::kTls, "TLS: handshake failed"},
      {"ca file", CURLE_SSL_CACERT_BADFILE, 0,
       With([](auto& f) { f.error = "error setting certificate file: /x"; }), F::kTls,
       "TLS error (error setting certificate file: /x)"},
      {"cipher", CURLE_SSL_CIPHER, 0, Plain(), F::kTls, "TLS error"},
      // The body limit, else curl's own words.
      {"too large", CURLE_WRITE_ERROR, 0, With([](auto& f) { f.body_too_large = true; }),
       F::kTooLarge, "response body larger than 1 MiB (--max-body)"},
      {"write", CURLE_WRITE_ERROR, 0, Plain(), F::kOther, strerror_write},
      {"other", CURLE_RANGE_ERROR, 0, With([](auto& f) { f.error = "x"; }), F::kOther,
       strerror_range + " (x)"},
      // curl's text: no password, no secret, no control character, at most 160 characters.
      {"password", CURLE_RECV_ERROR, 0,
       With([](auto& f) { f.error = "at http://user:pa55word@example.test/"; }), F::kConnectionLost,
       "receive failed (at http://user:***@example.test/)"},
      {"secret", CURLE_RECV_ERROR, 0,
       With([](auto& f) { f.error = "echo Bearer s3cr3t-t0ken and s3cr3t-t0ken2"; }),
       F::kConnectionLost, "receive failed (echo *** and ***2)"},
      {"long", CURLE_RECV_ERROR, 0, With([](auto& f) { f.error = std::string_view(kLong); }),
       F::kConnectionLost, "receive failed (" + std::string(160, 'x') + ")"},
  };
  for (const Row& row : rows) {
    const FetchResult result = DescribeTransfer(row.code, row.http_status, row.facts);
    EXPECT_EQ(result.failure, row.failure) << row.what;
    EXPECT_EQ(result.message, row.message) << row.what;
    EXPECT_EQ(result.http_status, row.code == CURLE_OK ? row.http_status : 0) << row.what;
    EXPECT_EQ(result.retry_after, std::nullopt) << row.what;
  }
}

TEST(CurlOutcomeTest, CarriesTheRetryAfterWhateverTheOutcome) {
  const auto facts = With([](auto& f) { f.retry_after = Duration(120'000); });
  EXPECT_EQ(DescribeTransfer(CURLE_OK, 503, facts).retry_after, Duration(120'000));
  EXPECT_EQ(DescribeTransfer(CURLE_OK, 200, facts).retry_after, Duration(120'000));
  EXPECT_EQ(DescribeTransfer(CURLE_PARTIAL_FILE, 0, facts).retry_after, Duration(120'000));
}

TEST(CurlOutcomeTest, ReadsTheFactsOfAFailureOnlyForAFailure) {
  // A success reads no error text: what curl left there from an earlier attempt is not news.
  const auto facts = With([](auto& f) {
    f.error = "stale";
    f.os_errno = ECONNRESET;
  });
  const FetchResult result = DescribeTransfer(CURLE_OK, 200, facts);
  EXPECT_TRUE(result.ok());
  EXPECT_EQ(result.message, "");
}

}  // namespace
}  // namespace orchestrator
