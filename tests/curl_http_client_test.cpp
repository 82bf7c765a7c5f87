// The curl engine against the loopback test server: every failure mode gets its reason.
#include "orchestrator/curl_http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>

#include "orchestrator/retry_policy.h"
#include "test_server.h"

namespace orchestrator {
namespace {

using std::chrono::milliseconds;
using testing::TestServer;

CurlHttpClientOptions Connections(std::size_t max_connections) {
  CurlHttpClientOptions options;
  options.max_connections = max_connections;
  return options;
}

CurlHttpClientOptions BodyLimit(std::uint64_t max_body) {
  CurlHttpClientOptions options;
  options.max_body = max_body;
  return options;
}

class CurlHttpClientTest : public ::testing::Test {
 protected:
  // Runs one fetch to its end on a fresh client.
  FetchResult FetchOne(const std::string& url, Duration timeout = Duration(5000),
                       Duration connect_timeout = Duration(5000),
                       CurlHttpClientOptions options = {}) {
    boost::asio::io_context io;
    CurlHttpClient client(io, std::move(options));
    std::optional<FetchResult> result;
    client.Fetch({url, timeout, connect_timeout}, [&](const FetchResult& r) { result = r; });
    while (!result && io.run_one_for(std::chrono::seconds(30)) > 0) {
    }
    EXPECT_TRUE(result.has_value()) << url;
    return result.value_or(FetchResult{FetchFailure::kOther, 0, "no result", std::nullopt});
  }

  static void ExpectFailure(const FetchResult& result, FetchFailure failure,
                            const std::string& message) {
    EXPECT_EQ(result.failure, failure) << result.message;
    EXPECT_EQ(result.message, message);
  }

  CurlLibrary curl_;
  TestServer server_;
};

TEST_F(CurlHttpClientTest, SucceedsOnA2xxReadToItsEnd) {
  const FetchResult result = FetchOne(server_.Url("/ok"));
  EXPECT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.http_status, 200);
}

TEST_F(CurlHttpClientTest, ReportsOtherStatusesWithTheirPhrase) {
  const FetchResult result = FetchOne(server_.Url("/status/503"));
  ExpectFailure(result, FetchFailure::kHttpStatus, "HTTP 503 Service Unavailable");
  EXPECT_EQ(result.http_status, 503);
  ExpectFailure(FetchOne(server_.Url("/status/404")), FetchFailure::kHttpStatus,
                "HTTP 404 Not Found");
}

TEST_F(CurlHttpClientTest, ReportsResetsEmptyRepliesAndShortBodies) {
  ExpectFailure(FetchOne(server_.Url("/reset")), FetchFailure::kConnectionLost,
                "connection reset by peer");
  ExpectFailure(FetchOne(server_.Url("/empty")), FetchFailure::kConnectionLost,
                "empty reply from server");
  ExpectFailure(FetchOne(server_.Url("/partial")), FetchFailure::kConnectionLost,
                "connection closed before the end of the body");
}

TEST_F(CurlHttpClientTest, ReportsGarbageAsAnInvalidResponse) {
  const FetchResult result = FetchOne(server_.Url("/garbage"));
  EXPECT_EQ(result.failure, FetchFailure::kProtocol) << result.message;
  EXPECT_EQ(result.message.rfind("invalid HTTP response", 0), 0u) << result.message;
}

TEST_F(CurlHttpClientTest, TimeoutCoversTheWholeAttemptBodyIncluded) {
  ExpectFailure(FetchOne(server_.Url("/stall"), Duration(300)), FetchFailure::kTimeout,
                "timed out after 300ms");
  // /slow answers at once but drips its body for 10 s.
  ExpectFailure(FetchOne(server_.Url("/slow"), Duration(500)), FetchFailure::kTimeout,
                "timed out after 500ms");
}

TEST_F(CurlHttpClientTest, AStalledReusedConnectionIsNotAConnectTimeout) {
  boost::asio::io_context io;
  CurlHttpClient client(io, {});
  std::vector<FetchResult> results;
  const auto fetch = [&](const std::string& target) {
    client.Fetch({server_.Url(target), Duration(400), Duration(200)},
                 [&](const FetchResult& r) { results.push_back(r); });
    const std::size_t expected = results.size() + 1;
    while (results.size() < expected && io.run_one_for(std::chrono::seconds(10)) > 0) {
    }
  };
  fetch("/ok");
  fetch("/stall");  // on the kept-alive connection: connected, then silent
  ASSERT_EQ(results.size(), 2u);
  ExpectFailure(results[1], FetchFailure::kTimeout, "timed out after 400ms");
  EXPECT_EQ(server_.connections(), 1u);
}

TEST_F(CurlHttpClientTest, ReportsARefusedConnection) {
  auto gone = std::make_unique<TestServer>();
  const std::string url = gone->Url("/ok");
  gone.reset();
  ExpectFailure(FetchOne(url), FetchFailure::kConnect, "connection refused");
}

TEST_F(CurlHttpClientTest, ReportsAConnectTimeout) {
  // A listener whose accept queue is full and never drained: Linux drops further SYNs, so a
  // connect to it hangs, on loopback.
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 0), 0);
  socklen_t length = sizeof address;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  std::vector<int> fillers;
  for (int i = 0; i < 3; ++i) {
    const int filler = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    ::connect(filler, reinterpret_cast<sockaddr*>(&address), sizeof address);
    fillers.push_back(filler);
  }
  ::usleep(100'000);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/";
  ExpectFailure(FetchOne(url, Duration(2000), Duration(300)), FetchFailure::kTimeout,
                "connect timed out after 300ms");
  for (int fd : fillers) ::close(fd);
  ::close(listener);
}

TEST_F(CurlHttpClientTest, ServerThatNeverReadsTimesOut) {
  TestServer::Options never_reads;
  never_reads.never_read = true;
  TestServer deaf(never_reads);
  ExpectFailure(FetchOne(deaf.Url("/ok"), Duration(300)), FetchFailure::kTimeout,
                "timed out after 300ms");
}

TEST_F(CurlHttpClientTest, VerifiesTlsCertificates) {
  TestServer::Options with_tls;
  with_tls.tls = true;
  TestServer tls(with_tls);
  ExpectFailure(FetchOne(tls.Url("/ok")), FetchFailure::kTls,
                "TLS: certificate verify failed (self-signed certificate)");
  // TLS to a plain-HTTP port fails the handshake.
  const FetchResult plain = FetchOne("https://127.0.0.1:" + std::to_string(server_.port()) + "/ok");
  EXPECT_EQ(plain.failure, FetchFailure::kTls) << plain.message;
  EXPECT_EQ(plain.message.rfind("TLS: handshake failed", 0), 0u) << plain.message;
}

TEST_F(CurlHttpClientTest, FollowsRedirectsWithinLimits) {
  EXPECT_TRUE(FetchOne(server_.Url("/redirect/3")).ok());
  ExpectFailure(FetchOne(server_.Url("/redirect-loop")), FetchFailure::kRedirect,
                "too many redirects (more than 10)");
  ExpectFailure(FetchOne(server_.Url("/redirect-ftp")), FetchFailure::kRedirect,
                "redirected to a scheme other than http or https (not followed)");
}

TEST_F(CurlHttpClientTest, ReadsRetryAfterInSecondsAndAsADate) {
  const FetchResult seconds = FetchOne(server_.Url("/retry-after/429/7"));
  ExpectFailure(seconds, FetchFailure::kHttpStatus, "HTTP 429 Too Many Requests");
  EXPECT_EQ(seconds.retry_after, Duration(7000));
  const FetchResult date = FetchOne(server_.Url("/retry-after-date/5"));
  ExpectFailure(date, FetchFailure::kHttpStatus, "HTTP 503 Service Unavailable");
  ASSERT_TRUE(date.retry_after.has_value());
  EXPECT_GE(*date.retry_after, Duration(3000));
  EXPECT_LE(*date.retry_after, Duration(6000));
}

TEST_F(CurlHttpClientTest, AHugeRetryAfterIsLongerThanWeWaitNotAWrappedShortOne) {
  // Seconds that fit in 64 bits when milliseconds do not: 18446744073709552 s is 384 ms
  // past 2^64 ms, so wrapping made it a wait of 384 ms, under the 10-minute cap.
  const RetryPolicy policy{.max_retries = 2};
  for (const std::string seconds :
       {"9223372036854776", "18446744073709552", "9223372036854775807"}) {
    const FetchResult result = FetchOne(server_.Url("/retry-after/503/" + seconds));
    ExpectFailure(result, FetchFailure::kHttpStatus, "HTTP 503 Service Unavailable");
    ASSERT_TRUE(result.retry_after.has_value()) << seconds;
    EXPECT_GT(*result.retry_after, policy.max_retry_after) << seconds;
    const RetryDecision decision = policy.Decide(1, result, 0.5);
    EXPECT_FALSE(decision.retry) << seconds;
    EXPECT_NE(decision.note.find("is longer than the 600s we wait"), std::string::npos)
        << seconds << ": " << decision.note;
  }
}

TEST_F(CurlHttpClientTest, ReadsLargeBodiesWithoutKeepingThemAndCanCapThem) {
  EXPECT_TRUE(FetchOne(server_.Url("/big/64")).ok());
  ExpectFailure(FetchOne(server_.Url("/big/64"), Duration(5000), Duration(5000),
                         BodyLimit(std::uint64_t{1} << 20)),
                FetchFailure::kTooLarge, "response body larger than 1 MiB (--max-body)");
}

TEST_F(CurlHttpClientTest, HeadersThatNeverEndFailInsteadOfGrowing) {
  const FetchResult result = FetchOne(server_.Url("/endless-headers"), Duration(5000));
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.failure, FetchFailure::kProtocol) << result.message;
  EXPECT_EQ(result.message, "response headers too large (over 300 KiB)");
}

TEST_F(CurlHttpClientTest, ReusesOneConnectionForSequentialFetches) {
  boost::asio::io_context io;
  CurlHttpClient client(io, Connections(4));
  int done = 0;
  std::function<void()> next = [&] {
    client.Fetch({server_.Url("/ok")}, [&](const FetchResult& result) {
      EXPECT_TRUE(result.ok()) << result.message;
      if (++done < 20) next();
    });
  };
  next();
  while (done < 20 && io.run_one_for(std::chrono::seconds(10)) > 0) {
  }
  EXPECT_EQ(done, 20);
  EXPECT_EQ(server_.requests(), 20u);
  EXPECT_EQ(server_.connections(), 1u);
  EXPECT_EQ(client.connections_opened(), 1u);
}

TEST_F(CurlHttpClientTest, RunsManyFetchesConcurrently) {
  boost::asio::io_context io;
  CurlHttpClient client(io, Connections(50));
  int done = 0;
  for (int i = 0; i < 50; ++i) {
    client.Fetch({server_.Url("/delay/200")}, [&](const FetchResult& result) {
      EXPECT_TRUE(result.ok()) << result.message;
      ++done;
    });
  }
  const auto started = std::chrono::steady_clock::now();
  while (done < 50 && io.run_one_for(std::chrono::seconds(10)) > 0) {
  }
  EXPECT_EQ(done, 50);
  EXPECT_EQ(server_.max_in_flight(), 50u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(2000));
}

TEST_F(CurlHttpClientTest, CallbacksNeverRunInsideFetch) {
  // Both requests fail, on different paths. curl refuses a URL over its 8 MB limit already in
  // curl_easy_setopt, so that failure is known inside Fetch and must still be delivered from
  // the event loop. "http://" is refused by curl only once the transfer runs.
  const std::string overlong = server_.Url("/") + std::string(8'000'000, 'a');
  const struct {
    FetchRequest request;
    std::string message;
  } cases[] = {
      {{overlong}, "could not start the request: A libcurl function was given a bad argument"},
      {{"http://"}, "URL using bad/illegal format or missing URL"},
  };
  for (const auto& [request, message] : cases) {
    boost::asio::io_context io;
    CurlHttpClient client(io, {});
    bool inside = true;
    std::optional<FetchResult> result;
    client.Fetch(request, [&](const FetchResult& r) {
      EXPECT_FALSE(inside) << r.message;
      result = r;
    });
    inside = false;
    while (!result && io.run_one_for(std::chrono::seconds(5)) > 0) {
    }
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->failure, FetchFailure::kOther);
    EXPECT_EQ(result->message, message);
  }
}

TEST_F(CurlHttpClientTest, CancelAllDropsEveryFetchAndItsCallback) {
  boost::asio::io_context io;
  {
    CurlHttpClient client(io, {});
    int callbacks = 0;
    for (int i = 0; i < 5; ++i) {
      client.Fetch({server_.Url("/stall")}, [&](const FetchResult&) { ++callbacks; });
    }
    for (int i = 0; i < 50 && server_.requests() < 5; ++i) io.run_for(milliseconds(20));
    EXPECT_EQ(server_.in_flight(), 5u);
    client.CancelAll();
    io.run_for(milliseconds(100));
    EXPECT_EQ(callbacks, 0);
    io.restart();  // run_for() stops the context when the cancel left it without work
    // The client is still usable after a cancel.
    std::optional<FetchResult> after;
    client.Fetch({server_.Url("/ok")}, [&](const FetchResult& r) { after = r; });
    while (!after && io.run_one_for(std::chrono::seconds(5)) > 0) {
    }
    ASSERT_TRUE(after.has_value());
    EXPECT_TRUE(after->ok()) << after->message;
  }
  for (int i = 0; i < 50 && server_.in_flight() > 0; ++i) ::usleep(10'000);
  EXPECT_EQ(server_.in_flight(), 0u) << "the cancelled connections were closed";
}

TEST_F(CurlHttpClientTest, NeverShowsAPasswordFromTheUrl) {
  auto gone = std::make_unique<TestServer>();
  const std::string port = std::to_string(gone->port());
  gone.reset();
  for (const std::string& url :
       {"http://user:s3cret@127.0.0.1:" + port + "/", std::string("http://user:s3cret@[::1/"),
        "http://user:s3cret@127.0.0.1:" + std::to_string(server_.port()) + "/garbage"}) {
    const FetchResult result = FetchOne(url);
    EXPECT_FALSE(result.ok());
    EXPECT_EQ(result.message.find("s3cret"), std::string::npos) << result.message;
  }
}

TEST_F(CurlHttpClientTest, NeverPassesOnControlCharactersFromTheServer) {
  const FetchResult result = FetchOne(server_.Url("/redirect-control"));
  EXPECT_FALSE(result.ok());
  EXPECT_FALSE(result.message.empty());
  for (const char c : result.message) {
    const auto byte = static_cast<unsigned char>(c);
    EXPECT_TRUE(byte >= 0x20 && byte != 0x7f) << "byte " << int{byte} << " in " << result.message;
  }
}

}  // namespace
}  // namespace orchestrator
