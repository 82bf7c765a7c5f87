// The curl engine against the loopback test server: every failure mode gets its reason.
#include "orchestrator/curl_http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <algorithm>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "orchestrator/retry_policy.h"
#include "test_server.h"

namespace orchestrator {
namespace {

using std::chrono::milliseconds;
using testing::TestServer;

// The method as the server should see it.
std::string Name(HttpMethod method) {
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
  return "?";
}

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
    return FetchOne(FetchRequest{url, timeout, connect_timeout}, std::move(options));
  }

  FetchResult FetchOne(FetchRequest request, CurlHttpClientOptions options = {}) {
    boost::asio::io_context io;
    CurlHttpClient client(io, std::move(options));
    return FetchWith(io, client, std::move(request));
  }

  // Runs one fetch to its end on `client`.
  static FetchResult FetchWith(boost::asio::io_context& io, CurlHttpClient& client,
                               FetchRequest request) {
    const std::string url = request.url;
    io.restart();  // a run that ran out of work left `io` stopped
    std::optional<FetchResult> result;
    client.Fetch(std::move(request), [&](const FetchResult& r) { result = r; });
    while (!result && io.run_one_for(std::chrono::seconds(30)) > 0) {
    }
    EXPECT_TRUE(result.has_value()) << url;
    return result.value_or(FetchResult{FetchFailure::kOther, 0, "no result", std::nullopt, {}});
  }

  // What the server recorded of the last request.
  TestServer::RecordedRequest LastRequest() const {
    std::optional<TestServer::RecordedRequest> last = server_.LastRequest();
    EXPECT_TRUE(last.has_value());
    return last.value_or(TestServer::RecordedRequest{});
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

TEST_F(CurlHttpClientTest, SendsEachMethodAsAsked) {
  // On one client, one connection: reused handles forget the previous method and body.
  boost::asio::io_context io;
  CurlHttpClient client(io, {});
  for (const HttpMethod method :
       {HttpMethod::kPost, HttpMethod::kGet, HttpMethod::kPut, HttpMethod::kHead,
        HttpMethod::kDelete, HttpMethod::kPatch, HttpMethod::kHead, HttpMethod::kGet}) {
    const std::string name = Name(method);
    FetchRequest request{server_.Url("/ok"), Duration(2000), Duration(2000)};
    request.method = method;
    const FetchResult result = FetchWith(io, client, std::move(request));
    EXPECT_TRUE(result.ok()) << name << ": " << result.message;
    EXPECT_EQ(result.http_status, 200) << name;
    const TestServer::RecordedRequest sent = LastRequest();
    EXPECT_EQ(sent.method, name);
    EXPECT_EQ(sent.body, "") << name;
    // POST, PUT and PATCH say their body is empty; the others have none to speak of.
    const bool sends_body =
        method == HttpMethod::kPost || method == HttpMethod::kPut || method == HttpMethod::kPatch;
    EXPECT_EQ(sent.Header("Content-Length"),
              sends_body ? std::optional<std::string>("0") : std::nullopt)
        << name;
  }
  // The HEAD replies carried no body, and curl did not wait for one: all on one connection.
  EXPECT_EQ(server_.connections(), 1u);
  EXPECT_EQ(client.connections_opened(), 1u);
}

// Issue 24: the engine sends the path it is given. curl would remove "." and ".." segments
// (so ".." in a value could climb out of the blueprint's prefix); CURLOPT_PATH_AS_IS keeps
// them, the template having encoded a value's and resolved its own already.
TEST_F(CurlHttpClientTest, SendsThePathAsGivenDotSegmentsIncluded) {
  for (const std::string path : {"/task/../delete?id=1", "/task/./delete", "/task/%2E%2E/b",
                                 "/task/a/..", "/task/./x/../y/"}) {
    const FetchResult result = FetchOne(server_.Url(path));
    EXPECT_TRUE(result.ok()) << path << ": " << result.message;
    EXPECT_EQ(LastRequest().target, path);
  }
}

TEST_F(CurlHttpClientTest, SendsHeadersAsGivenInOrder) {
  FetchRequest request{server_.Url("/ok")};
  request.headers = {{"X-Twice", "one"},
                     {"Authorization", "Bearer abc"},
                     {"x-twice", "two"},
                     {"X-Empty", ""},
                     {"User-Agent", "mine/1.0"}};
  const FetchResult result = FetchOne(std::move(request));
  EXPECT_TRUE(result.ok()) << result.message;
  const TestServer::RecordedRequest sent = LastRequest();
  EXPECT_EQ(sent.method, "GET");
  EXPECT_EQ(sent.HeaderValues("X-Twice"), (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(sent.HeaderValues("Authorization"), std::vector<std::string>{"Bearer abc"});
  EXPECT_EQ(sent.HeaderValues("X-Empty"), std::vector<std::string>{""});
  // A header named in the request replaces curl's own.
  EXPECT_EQ(sent.HeaderValues("User-Agent"), std::vector<std::string>{"mine/1.0"});
  // In the order given, after curl's own.
  std::vector<std::string> names;
  for (const auto& [name, value] : sent.headers) names.push_back(name);
  ASSERT_GE(names.size(), 5u);
  const std::vector<std::string> tail(names.end() - 5, names.end());
  EXPECT_EQ(tail, (std::vector<std::string>{"X-Twice", "Authorization", "x-twice", "X-Empty",
                                            "User-Agent"}));
}

// User-Agent and Accept are curl's own, written after Host in curl's order; a request naming
// one replaces it, and the request's headers follow. The bytes are those curl writes when
// CURLOPT_USERAGENT is its only source (the engine hands both to curl in its header list).
TEST_F(CurlHttpClientTest, SendsCurlsOwnHeadersWhereCurlWritesThem) {
  const auto names = [](const TestServer::RecordedRequest& sent) {
    std::vector<std::string> out;
    for (const auto& [name, value] : sent.headers) out.push_back(name);
    return out;
  };
  CurlHttpClientOptions options;
  options.user_agent = "tester/1.0";
  ASSERT_TRUE(FetchOne(FetchRequest{server_.Url("/ok")}, options).ok());
  TestServer::RecordedRequest sent = LastRequest();
  EXPECT_EQ(names(sent), (std::vector<std::string>{"Host", "User-Agent", "Accept"}));
  EXPECT_EQ(sent.HeaderValues("User-Agent"), std::vector<std::string>{"tester/1.0"});
  EXPECT_EQ(sent.HeaderValues("Accept"), std::vector<std::string>{"*/*"});

  FetchRequest named{server_.Url("/ok")};
  named.headers = {{"X-A", "1"}, {"accept", "a/b"}};
  ASSERT_TRUE(FetchOne(std::move(named), options).ok());
  sent = LastRequest();
  EXPECT_EQ(names(sent), (std::vector<std::string>{"Host", "User-Agent", "X-A", "accept"}));
  EXPECT_EQ(sent.HeaderValues("Accept"), std::vector<std::string>{"a/b"});

  FetchRequest post{server_.Url("/ok")};
  post.method = HttpMethod::kPost;
  post.body = "hi";
  post.headers = {{"User-Agent", "mine"}};
  ASSERT_TRUE(FetchOne(std::move(post), options).ok());
  sent = LastRequest();
  EXPECT_EQ(names(sent),
            (std::vector<std::string>{"Host", "Accept", "User-Agent", "Content-Length"}));
  EXPECT_EQ(sent.HeaderValues("User-Agent"), std::vector<std::string>{"mine"});

  // No user agent: curl sends none.
  options.user_agent.clear();
  ASSERT_TRUE(FetchOne(FetchRequest{server_.Url("/ok")}, options).ok());
  EXPECT_EQ(names(LastRequest()), (std::vector<std::string>{"Host", "Accept"}));
}

TEST_F(CurlHttpClientTest, SendsBodiesIntact) {
  // A NUL inside, and no Content-Type or Expect of curl's making.
  const std::string json("{\"a\":\"\0\"}\r\n", 11);
  FetchRequest small{server_.Url("/status/201")};
  small.method = HttpMethod::kPost;
  small.body = json;
  const FetchResult created = FetchOne(std::move(small));
  EXPECT_TRUE(created.ok()) << created.message;
  TestServer::RecordedRequest sent = LastRequest();
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.body, json);
  EXPECT_EQ(sent.Header("Content-Length"), "11");
  EXPECT_EQ(sent.Header("Content-Type"), std::nullopt);
  EXPECT_EQ(sent.Header("Expect"), std::nullopt);

  // Over 1 MiB of every byte value, where curl 7.88 would ask for a 100 Continue (and wait a
  // second for it); with a Content-Type given, sent once.
  std::string big(1024 * 1024 + 3, '\0');
  std::mt19937 random(7);
  for (char& c : big) c = static_cast<char>(random() & 0xff);
  FetchRequest put{server_.Url("/ok")};
  put.method = HttpMethod::kPut;
  put.headers = {{"Content-Type", "application/octet-stream"}};
  put.body = big;
  const auto started = std::chrono::steady_clock::now();
  const FetchResult stored = FetchOne(std::move(put));
  EXPECT_TRUE(stored.ok()) << stored.message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(900));
  sent = LastRequest();
  EXPECT_EQ(sent.method, "PUT");
  EXPECT_EQ(sent.body.size(), big.size());
  EXPECT_TRUE(sent.body == big) << "the body arrived changed";
  EXPECT_EQ(sent.HeaderValues("Content-Type"),
            std::vector<std::string>{"application/octet-stream"});
  EXPECT_EQ(sent.Header("Expect"), std::nullopt);

  // A GET or DELETE with a body is sent as asked, not turned into a POST.
  for (const HttpMethod method : {HttpMethod::kGet, HttpMethod::kDelete}) {
    FetchRequest with_body{server_.Url("/ok")};
    with_body.method = method;
    with_body.body = "q=1";
    const FetchResult result = FetchOne(std::move(with_body));
    EXPECT_TRUE(result.ok()) << Name(method) << ": " << result.message;
    sent = LastRequest();
    EXPECT_EQ(sent.method, Name(method));
    EXPECT_EQ(sent.body, "q=1") << Name(method);
    EXPECT_EQ(sent.Header("Content-Length"), "3") << Name(method);
  }
  // A HEAD cannot carry one: curl would drop it unsaid.
  FetchRequest head{server_.Url("/ok")};
  head.method = HttpMethod::kHead;
  head.body = "q=1";
  ExpectFailure(FetchOne(std::move(head)), FetchFailure::kOther,
                "could not start the request: a HEAD request cannot send a body");
  EXPECT_EQ(server_.RequestsFor("/ok"), 3u);
}

TEST_F(CurlHttpClientTest, ExpectDecidesWhichStatusesSucceed) {
  FetchRequest request{server_.Url("/status/200")};
  request.expect = {201, 204};
  const FetchResult ok_but_not_expected = FetchOne(request);
  ExpectFailure(ok_but_not_expected, FetchFailure::kHttpStatus, "HTTP 200 OK");
  EXPECT_EQ(ok_but_not_expected.http_status, 200);
  EXPECT_FALSE(RetryPolicy::IsTransient(ok_but_not_expected));

  request.url = server_.Url("/status/201");
  const FetchResult created = FetchOne(request);
  EXPECT_TRUE(created.ok()) << created.message;
  EXPECT_EQ(created.http_status, 201);

  request.url = server_.Url("/status/409");
  ExpectFailure(FetchOne(request), FetchFailure::kHttpStatus, "HTTP 409 Conflict");

  // Without `expect`, any 2xx.
  EXPECT_TRUE(FetchOne(server_.Url("/status/201")).ok());
  EXPECT_TRUE(FetchOne(server_.Url("/status/204")).ok());
}

TEST_F(CurlHttpClientTest, AnExpectedTransientStatusIsASuccessNotARetry) {
  // 503 twice, then 200: the first answer, expected, is the end of it.
  FetchRequest request{server_.Url("/flaky/2/503")};
  request.expect = {503};
  const FetchResult result = FetchOne(request);
  EXPECT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.http_status, 503);
  EXPECT_EQ(result.message, "");
  EXPECT_FALSE(RetryPolicy::IsTransient(result));
  EXPECT_FALSE(RetryPolicy{}.Decide(1, result, 0.5).retry);
  EXPECT_EQ(server_.RequestsFor("/flaky/2/503"), 1u);
  // Not expected, the same answer is a transient failure.
  request.expect = {};
  const FetchResult failed = FetchOne(request);
  ExpectFailure(failed, FetchFailure::kHttpStatus, "HTTP 503 Service Unavailable");
  EXPECT_TRUE(RetryPolicy{}.Decide(1, failed, 0.5).retry);
}

TEST_F(CurlHttpClientTest, MaxBodyPerRequestOverridesTheClients) {
  FetchRequest request{server_.Url("/big/2")};
  request.max_body = std::uint64_t{1} << 20;
  ExpectFailure(FetchOne(request), FetchFailure::kTooLarge,
                "response body larger than 1 MiB (--max-body)");
  request.max_body = std::uint64_t{3} << 20;
  EXPECT_TRUE(FetchOne(request, BodyLimit(std::uint64_t{1} << 20)).ok());
}

TEST_F(CurlHttpClientTest, KeepsNothingOfTheResponseUnlessAsked) {
  const FetchResult result = FetchOne(server_.Url("/item/7"));
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_GT(result.response.size, 0u);  // counted, always
  EXPECT_TRUE(result.response.body.empty());
  EXPECT_TRUE(result.response.sha256.empty());
  EXPECT_TRUE(result.response.url.empty());
  EXPECT_TRUE(result.response.headers.empty());
}

TEST_F(CurlHttpClientTest, KeepsTheFinalResponsesBodyHeadersUrlAndDigestWhenAsked) {
  FetchRequest request{server_.Url("/redirect-item/7")};
  request.keep = {.body = true,
                  .body_limit = 1000,
                  .sha256 = true,
                  .url = true,
                  .headers = {"etag", "X-REPEAT", "Location", "X-Absent"}};
  const FetchResult result = FetchOne(std::move(request));
  ASSERT_TRUE(result.ok()) << result.message;
  const std::string body =
      "{\"id\":7,\"sku\":\"sku-7\",\"price\":7.5,\"tags\":[\"a\",\"b\"],\"data\":{"
      "\"owner\":null,\"n\":0}}\n";
  const FetchResponse& response = result.response;
  EXPECT_EQ(response.body, body);
  EXPECT_EQ(response.size, body.size());
  // sha256sum of the body
  EXPECT_EQ(response.sha256, "d9d56fc3e24a2cbc24c20bbb6c687b360d0ab85ac9bffb85c51db997826ea0c3");
  EXPECT_EQ(response.url, server_.Url("/item/7"));
  ASSERT_EQ(response.headers.size(), 4u);
  EXPECT_EQ(response.headers[0], "\"etag-7\"");
  EXPECT_EQ(response.headers[1], "last");        // the last of a repeated header, trimmed
  EXPECT_EQ(response.headers[2], std::nullopt);  // the redirect's, not the final response's
  EXPECT_EQ(response.headers[3], std::nullopt);
  EXPECT_GT(response.time.count(), 0);
}

TEST_F(CurlHttpClientTest, ABodyOverTheKeepLimitIsReadButNotKept) {
  FetchRequest request{server_.Url("/big/2")};
  request.keep = {.body = true, .body_limit = std::uint64_t{1} << 20, .sha256 = true};
  const FetchResult result = FetchOne(std::move(request));
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_TRUE(result.response.body_over_limit);
  EXPECT_TRUE(result.response.body.empty());
  EXPECT_EQ(result.response.size, std::uint64_t{2} << 20);
  EXPECT_EQ(result.response.sha256.size(), 64u);  // hashed to the end all the same
}

TEST_F(CurlHttpClientTest, TheUrlKeptCarriesNoPassword) {
  FetchRequest request{"http://user:secret@127.0.0.1:" + std::to_string(server_.port()) +
                       "/item/1"};
  request.keep.url = true;
  const FetchResult result = FetchOne(std::move(request));
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.response.url, server_.Url("/item/1"));
}

TEST_F(CurlHttpClientTest, APostRedirectedBySeeOtherFollowsAsAGet) {
  const auto sent_after = [&](int status) {
    server_.ResetCounters();
    FetchRequest request{server_.Url("/redirect-status/" + std::to_string(status))};
    request.method = HttpMethod::kPost;
    request.body = "{\"id\":1}";
    request.headers = {{"Content-Type", "application/json"}};
    const FetchResult result = FetchOne(std::move(request));
    EXPECT_TRUE(result.ok()) << status << ": " << result.message;
    return server_.RecordedRequests();
  };
  // 303, and curl's default for 301 and 302 too: the POST, then a GET without the body.
  for (const int status : {303, 301, 302}) {
    const std::vector<TestServer::RecordedRequest> sent = sent_after(status);
    ASSERT_EQ(sent.size(), 2u) << status;
    EXPECT_EQ(sent[0].method, "POST");
    EXPECT_EQ(sent[0].body, "{\"id\":1}");
    EXPECT_EQ(sent[1].method, "GET") << status;
    EXPECT_EQ(sent[1].target, "/ok");
    EXPECT_EQ(sent[1].body, "") << status;
    EXPECT_EQ(sent[1].Header("Content-Length"), std::nullopt) << status;
  }
  // 307 and 308 repeat the method and the body.
  for (const int status : {307, 308}) {
    const std::vector<TestServer::RecordedRequest> sent = sent_after(status);
    ASSERT_EQ(sent.size(), 2u) << status;
    EXPECT_EQ(sent[1].method, "POST") << status;
    EXPECT_EQ(sent[1].body, "{\"id\":1}") << status;
  }
}

TEST_F(CurlHttpClientTest, NeverShowsAHeaderValue) {
  const std::string token = "s3cr3t-t0ken";
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"Authorization", "Bearer " + token}, {"X-Api-Key", "k3y-v4lue"}};
  auto gone = std::make_unique<TestServer>();
  const std::string refused = gone->Url("/ok");
  gone.reset();
  struct Case {
    std::string url;
    std::vector<std::pair<std::string, std::string>> extra_headers;
    std::string message;  // "" when any failure will do
  };
  const std::vector<Case> cases = {
      {server_.Url("/status/401"), {}, "HTTP 401 Unauthorized"},
      {server_.Url("/reset"), {}, "connection reset by peer"},
      {server_.Url("/garbage"), {}, ""},
      {refused, {}, "connection refused"},
      {server_.Url("/stall"), {}, "timed out after 300ms"},
      // A server that echoes the token into a redirect's host name.
      {server_.Url("/redirect-to-token"), {}, "could not resolve host ***.invalid"},
      // Headers refused before anything is sent: the value may be half a secret.
      {server_.Url("/ok"),
       {{"X-Bad", token + "\r\nX-Injected: 1"}},
       "could not start the request: header X-Bad has a line break or NUL in its value"},
      {server_.Url("/ok"),
       {{"X-Api-Key: " + token, "x"}},
       "could not start the request: header 3 has an invalid name"},
  };
  for (const Case& c : cases) {
    FetchRequest request{c.url, Duration(300), Duration(300)};
    request.method = HttpMethod::kPost;
    request.headers = headers;
    request.headers.insert(request.headers.end(), c.extra_headers.begin(), c.extra_headers.end());
    const FetchResult result = FetchOne(request);
    EXPECT_FALSE(result.ok()) << c.url;
    if (!c.message.empty()) {
      EXPECT_EQ(result.message, c.message) << c.url;
    }
    for (const std::string& secret : {token, std::string("k3y-v4lue")}) {
      EXPECT_EQ(result.message.find(secret), std::string::npos) << c.url << ": " << result.message;
    }
  }
  // Nothing of the refused requests reached the server.
  EXPECT_EQ(server_.RequestsFor("/ok"), 0u);
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

// A listener whose accept queue is full and never drained: Linux drops further SYNs, so a
// connect to it hangs, on loopback.
class HangingListener {
 public:
  HangingListener() {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (listener_ < 0 ||
        ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_, 0) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    for (int i = 0; i < 3; ++i) {
      const int filler = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      ::connect(filler, reinterpret_cast<sockaddr*>(&address), sizeof address);
      fillers_.push_back(filler);
    }
    ::usleep(100'000);
    url_ = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/";
  }
  HangingListener(const HangingListener&) = delete;
  HangingListener& operator=(const HangingListener&) = delete;
  ~HangingListener() {
    for (int fd : fillers_) ::close(fd);
    ::close(listener_);
  }

  const std::string& url() const { return url_; }

 private:
  int listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  std::vector<int> fillers_;
  std::string url_;
};

TEST_F(CurlHttpClientTest, ReportsAConnectTimeout) {
  HangingListener hanging;
  ExpectFailure(FetchOne(hanging.url(), Duration(2000), Duration(300)), FetchFailure::kTimeout,
                "connect timed out after 300ms");
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

TEST_F(CurlHttpClientTest, TrustsACaFileOrNothingWhenInsecure) {
  TestServer::Options with_tls;
  with_tls.tls = true;
  TestServer tls(with_tls);
  CurlHttpClientOptions trusting;
  trusting.ca_file = ORCHESTRATOR_TEST_DATA_DIR "/test-cert.pem";  // self-signed: its own CA
  const FetchResult with_ca = FetchOne(tls.Url("/ok"), Duration(5000), Duration(5000), trusting);
  EXPECT_TRUE(with_ca.ok()) << with_ca.message;
  CurlHttpClientOptions insecure;
  insecure.insecure = true;
  const FetchResult unchecked = FetchOne(tls.Url("/ok"), Duration(5000), Duration(5000), insecure);
  EXPECT_TRUE(unchecked.ok()) << unchecked.message;
  // Another CA file: the system's are not trusted besides it, nor this server.
  CurlHttpClientOptions other_ca;
  other_ca.ca_file = "/etc/ssl/certs/ca-certificates.crt";
  ExpectFailure(FetchOne(tls.Url("/ok"), Duration(5000), Duration(5000), other_ca),
                FetchFailure::kTls, "TLS: certificate verify failed (self-signed certificate)");
}

// Trusts the test server's self-signed certificate, as --cacert does.
CurlHttpClientOptions TrustingTheTestServer() {
  CurlHttpClientOptions options;
  options.ca_file = ORCHESTRATOR_TEST_DATA_DIR "/test-cert.pem";
  return options;
}

TEST_F(CurlHttpClientTest, NewTlsConnectionsResumeTheSessionOfAnEarlierOne) {
  TestServer tls(TestServer::Options{.tls = true});
  boost::asio::io_context io;
  CurlHttpClient client(io, TrustingTheTestServer());
  // /close gives each fetch a connection of its own. The first fetch alone makes the one full
  // handshake. A slow fetch then keeps its easy handle busy, so that the 18 fetches after it,
  // one at a time, run on a second handle. A handle keeps a session cache of its own unless
  // it is shared: without the shared cache the second handle's first connection would be a
  // full handshake too. (One handshake at a time: see the report of the tls-tests branch for
  // connections opened together, which curl 7.88 now and then opens without offering the
  // session it holds.)
  const FetchResult first = FetchWith(io, client, {tls.Url("/close")});
  EXPECT_TRUE(first.ok()) << first.message;
  std::optional<FetchResult> slow;
  client.Fetch({tls.Url("/delay/1000")}, [&](const FetchResult& result) { slow = result; });
  io.restart();
  while (tls.requests() < 2 && io.run_one_for(std::chrono::seconds(10)) > 0) {
  }
  ASSERT_EQ(tls.requests(), 2u);
  for (int i = 0; i < 18; ++i) {
    const FetchResult result = FetchWith(io, client, {tls.Url("/close")});
    EXPECT_TRUE(result.ok()) << result.message;
  }
  while (!slow && io.run_one_for(std::chrono::seconds(10)) > 0) {
  }
  ASSERT_TRUE(slow.has_value());
  EXPECT_TRUE(slow->ok()) << slow->message;
  EXPECT_EQ(tls.connections(), 20u);
  EXPECT_EQ(client.connections_opened(), 20u);
  EXPECT_EQ(tls.full_handshakes(), 1u);
  EXPECT_EQ(tls.resumed_handshakes(), 19u);
}

TEST_F(CurlHttpClientTest, AResumableSessionNeverVouchesForAnotherHostName) {
  // The certificate names 127.0.0.1 only. localhost is the same server, whose session the
  // client holds from the first fetch: the name must still be checked, and fail.
  TestServer tls(TestServer::Options{.tls = true});
  boost::asio::io_context io;
  CurlHttpClient client(io, TrustingTheTestServer());
  const std::string localhost = "https://localhost:" + std::to_string(tls.port()) + "/close";
  EXPECT_TRUE(FetchWith(io, client, {tls.Url("/close")}).ok());
  for (int i = 0; i < 2; ++i) {  // and again, now that a failed attempt went before
    ExpectFailure(FetchWith(io, client, {localhost}), FetchFailure::kTls,
                  "TLS: certificate verify failed (SSL: no alternative certificate subject name "
                  "matches target host name 'localhost')");
  }
  // 127.0.0.1 still resumes and succeeds.
  EXPECT_TRUE(FetchWith(io, client, {tls.Url("/close")}).ok());
  EXPECT_EQ(tls.requests(), 2u) << "nothing was sent to localhost";
  // curl checks the name once the handshake is done, so the server counts the localhost
  // handshakes too. The first is a full one: 127.0.0.1's session is not even offered for
  // another name. The second may resume the session of the first (curl keeps it under
  // "localhost" although the name then failed; seen in CI), and still fails above.
  EXPECT_EQ(tls.full_handshakes() + tls.resumed_handshakes(), 4u);
  EXPECT_GE(tls.full_handshakes(), 2u);
  EXPECT_LE(tls.full_handshakes(), 3u);
  // Only -k lets the wrong name through.
  CurlHttpClientOptions insecure;
  insecure.insecure = true;
  const FetchResult unchecked = FetchOne({localhost}, insecure);
  EXPECT_TRUE(unchecked.ok()) << unchecked.message;
}

TEST_F(CurlHttpClientTest, NeverSetsAProxyOfItsOwn) {
  // libcurl reads http_proxy when CURLOPT_PROXY is unset: the engine must leave it so.
  ::setenv("http_proxy", ("http://127.0.0.1:" + std::to_string(server_.port())).c_str(), 1);
  const FetchResult result = FetchOne("http://tasks.invalid/ok");
  ::unsetenv("http_proxy");
  EXPECT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(server_.RequestsFor("http://tasks.invalid/ok"), 1u);
}

// The engine reads the proxy variables once, as curl reads them for every transfer: for
// http:// http_proxy (never HTTP_PROXY), then all_proxy, then ALL_PROXY; no_proxy or
// NO_PROXY keeps the hosts it names off the proxy. An empty variable counts as unset.
TEST_F(CurlHttpClientTest, TakesTheProxyFromTheEnvironmentAsCurlDoes) {
  const std::string proxy = "http://127.0.0.1:" + std::to_string(server_.port());
  const std::string dead = "http://127.0.0.1:1";  // nothing listens: refused
  const char* const all[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                             "all_proxy",  "ALL_PROXY",  "no_proxy",    "NO_PROXY"};
  struct Case {
    std::vector<std::pair<const char*, std::string>> environment;
    bool through_proxy;  // else straight to the server
  };
  const std::vector<Case> cases = {
      {{{"all_proxy", proxy}}, true},
      {{{"ALL_PROXY", proxy}}, true},
      {{{"http_proxy", proxy}, {"all_proxy", dead}}, true},
      {{{"http_proxy", ""}, {"all_proxy", proxy}}, true},
      {{{"HTTP_PROXY", dead}}, false},
      {{{"https_proxy", dead}, {"HTTPS_PROXY", dead}}, false},
      {{{"http_proxy", dead}, {"no_proxy", "127.0.0.1"}}, false},
      {{{"all_proxy", dead}, {"NO_PROXY", "127.0.0.1"}}, false},
      {{{"http_proxy", dead}, {"no_proxy", "*"}}, false},
  };
  for (const Case& c : cases) {
    std::string name;
    for (const auto& [variable, value] : c.environment) {
      ::setenv(variable, value.c_str(), 1);
      name += std::string(variable) + "=" + value + " ";
    }
    // Through the proxy the URL's host need not resolve: the proxy is asked for it.
    const std::string url = c.through_proxy ? "http://tasks.invalid/ok" : server_.Url("/ok");
    const FetchResult result = FetchOne(url);
    for (const char* variable : all) ::unsetenv(variable);
    EXPECT_TRUE(result.ok()) << name << result.message;
    if (c.through_proxy) {
      EXPECT_EQ(server_.RequestsFor(url), 1u) << name;
    }
    server_.ResetCounters();
  }
}

// One handle after another fetch: the same URL again, another, the first again, one that
// does not parse, and the first again; each goes where it says (the engine keeps a parsed
// URL on a handle while its fetches keep it).
TEST_F(CurlHttpClientTest, EachFetchOfAHandleGoesToItsOwnUrl) {
  boost::asio::io_context io;
  CurlHttpClient client(io, Connections(1));
  const auto fetch = [&](const std::string& url) {
    return FetchWith(io, client, FetchRequest{url, Duration(5000), Duration(5000)});
  };
  for (const std::string target : {"/ok", "/ok", "/ok?a=1", "/ok"}) {
    EXPECT_TRUE(fetch(server_.Url(target)).ok()) << target;
    EXPECT_EQ(LastRequest().target, target);
  }
  const FetchResult bad = fetch("http://127.0.0.1:99999/ok");
  EXPECT_FALSE(bad.ok());
  EXPECT_TRUE(fetch(server_.Url("/ok")).ok());
  EXPECT_EQ(LastRequest().target, "/ok");
  EXPECT_EQ(server_.requests(), 5u);
}

TEST_F(CurlHttpClientTest, FollowsRedirectsWithinLimits) {
  EXPECT_TRUE(FetchOne(server_.Url("/redirect/3")).ok());
  ExpectFailure(FetchOne(server_.Url("/redirect-loop")), FetchFailure::kRedirect,
                "too many redirects (more than 10)");
  ExpectFailure(FetchOne(server_.Url("/redirect-ftp")), FetchFailure::kRedirect,
                "redirected to a scheme other than http or https (not followed)");
}

// The server dates its Retry-After 5 s past its system_clock's now rounded up to a whole
// second. A date has whole seconds, and the client counts from its own now in whole seconds
// too, so the wait is 5 s (the server's now rounded up by a whole second) to 6 s (the
// client's a whole second down); the lower bound allows a slow fetch (a sanitizer's) one
// second more. The client once counted from std::time(nullptr), which glibc reads from a
// coarse clock that can still show the second before one that has begun: 7 s, once, on a
// fresh machine. So each fetch starts just after a second begins, where that lag shows.
TEST_F(CurlHttpClientTest, ReadsRetryAfterInSecondsAndAsADate) {
  const FetchResult seconds = FetchOne(server_.Url("/retry-after/429/7"));
  ExpectFailure(seconds, FetchFailure::kHttpStatus, "HTTP 429 Too Many Requests");
  EXPECT_EQ(seconds.retry_after, Duration(7000));
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round);
    std::this_thread::sleep_until(
        std::chrono::ceil<std::chrono::seconds>(std::chrono::system_clock::now()) +
        std::chrono::microseconds(200));
    const FetchResult date =
        FetchOne(server_.Url("/retry-after-date/5?round=" + std::to_string(round)));
    ExpectFailure(date, FetchFailure::kHttpStatus, "HTTP 503 Service Unavailable");
    ASSERT_TRUE(date.retry_after.has_value());
    EXPECT_GE(*date.retry_after, Duration(4000));
    EXPECT_LE(*date.retry_after, Duration(6000));
  }
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
    EXPECT_NE(decision.note.find("Retry-After longer than 10 min; not waiting"), std::string::npos)
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

std::size_t OpenDescriptors() {
  return static_cast<std::size_t>(std::distance(
      std::filesystem::directory_iterator("/proc/self/fd"), std::filesystem::directory_iterator{}));
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

// curl REMOVEs an idle kept-alive socket and names it again for the next request; the engine
// keeps watching it in between. When the server drops the idle connection, curl closes its
// socket and opens a new one, which the kernel gives the same number: the new socket must be
// watched, not the old one taken for it. Taken for it, the new socket's connect goes unseen
// until curl's own 200 ms timer looks (measured: 200 ms against 0.4 ms a round), so the
// median round shows it.
TEST_F(CurlHttpClientTest, ASocketTheServerDroppedIsNotTakenForTheNewOneOfItsNumber) {
  const std::size_t before = OpenDescriptors();
  {
    boost::asio::io_context io;
    CurlHttpClient client(io, Connections(4));
    std::vector<std::chrono::steady_clock::duration> rounds;
    for (int round = 0; round < 9; ++round) {
      const std::size_t connections = server_.connections();
      const FetchResult dropped = FetchWith(io, client, {server_.Url("/ok-then-close")});
      EXPECT_TRUE(dropped.ok()) << dropped.message;
      // The server's close reaches the idle socket (had it not yet, curl would retry the
      // request on a new connection all the same).
      ::usleep(20'000);
      const auto started = std::chrono::steady_clock::now();
      const FetchResult next = FetchWith(io, client, {server_.Url("/ok")});
      rounds.push_back(std::chrono::steady_clock::now() - started);
      EXPECT_TRUE(next.ok()) << "round " << round << ": " << next.message;
      // The first round connects twice; later ones drop the connection of the round before.
      EXPECT_EQ(server_.connections(), connections + (round == 0 ? 2 : 1)) << "round " << round;
    }
    std::nth_element(rounds.begin(), rounds.begin() + 4, rounds.end());
    EXPECT_LT(rounds[4], milliseconds(100));
  }
  // The server, in this process, closes its end once it sees the client's close.
  for (int i = 0; i < 100 && OpenDescriptors() != before; ++i) ::usleep(10'000);
  EXPECT_EQ(OpenDescriptors(), before);
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

// curl 7.88 closes a socket it is still connecting when its transfer is removed, and says
// CURL_POLL_REMOVE only afterwards, when another thread may have opened a socket under the
// same number. Two threads cancel fetches mid-connect over and over: the engine must never
// touch a number after curl closed it (ThreadSanitizer reports it as a race on that
// descriptor), nor keep one open.
TEST_F(CurlHttpClientTest, CancellingFetchesMidConnectLeavesOtherThreadsDescriptorsAlone) {
  HangingListener hanging;
  const std::size_t before = OpenDescriptors();
  const auto cancel_over_and_over = [&hanging] {
    boost::asio::io_context io;
    CurlHttpClient client(io, {});
    for (int round = 0; round < 100; ++round) {
      for (int i = 0; i < 8; ++i) client.Fetch({hanging.url()}, [](const FetchResult&) {});
      io.restart();
      io.run_for(milliseconds(2));
      client.CancelAll();
    }
  };
  std::thread other(cancel_over_and_over);
  cancel_over_and_over();
  other.join();
  EXPECT_EQ(OpenDescriptors(), before);
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
