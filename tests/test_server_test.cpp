#include "test_server.h"

#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

namespace orchestrator::testing {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using ErrorCode = boost::system::error_code;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

const std::string kCertPath = std::string(ORCHESTRATOR_TEST_DATA_DIR) + "/test-cert.pem";

struct Response {
  int status = 0;
  std::string head;  // status line and headers, up to and including the blank line
  std::string body;
};

// Blocking reads give up after this instead of hanging a broken test.
void SetReceiveTimeout(int fd, milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

std::string Request(std::string_view target, std::string_view extra_headers = {}) {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
         std::string(extra_headers) + "\r\n";
}

std::string HeaderValue(std::string_view head, std::string_view name) {
  std::string needle = "\r\n" + std::string(name) + ": ";
  std::size_t at = head.find(needle);
  if (at == std::string_view::npos) return "";
  std::size_t start = at + needle.size();
  return std::string(head.substr(start, head.find("\r\n", start) - start));
}

// Reads one response with a Content-Length from any blocking stream (plain or TLS).
template <class Stream>
Response ReadResponseFrom(Stream& stream, std::string& buffer) {
  Response response;
  std::size_t head_size = asio::read_until(stream, asio::dynamic_buffer(buffer), "\r\n\r\n");
  response.head = buffer.substr(0, head_size);
  buffer.erase(0, head_size);
  response.status = std::stoi(response.head.substr(9, 3));
  std::size_t length = std::stoul(HeaderValue(response.head, "Content-Length"));
  if (buffer.size() < length) {
    asio::read(stream, asio::dynamic_buffer(buffer),
               asio::transfer_exactly(length - buffer.size()));
  }
  response.body = buffer.substr(0, length);
  buffer.erase(0, length);
  return response;
}

// A blocking HTTP/1.1 client on one keep-alive connection.
class Client {
 public:
  explicit Client(std::uint16_t port) : socket_(io_) {
    socket_.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port));
    SetReceiveTimeout(socket_.native_handle(), milliseconds(5000));
  }

  void Send(std::string_view data) { asio::write(socket_, asio::buffer(data)); }
  Response ReadResponse() { return ReadResponseFrom(socket_, buffer_); }
  Response Get(std::string_view target) {
    Send(Request(target));
    return ReadResponse();
  }

  // Everything until the server closes, and the error that ended the reading.
  std::pair<std::string, ErrorCode> ReadToEnd() {
    std::string data = std::exchange(buffer_, {});
    ErrorCode error;
    std::array<char, 4096> chunk;
    while (!error) {
      std::size_t n = socket_.read_some(asio::buffer(chunk), error);
      data.append(chunk.data(), n);
    }
    return {data, error};
  }

  // Whether the server sent anything (or closed) within `timeout`.
  bool ReadableWithin(milliseconds timeout) {
    pollfd fd{socket_.native_handle(), POLLIN, 0};
    return ::poll(&fd, 1, static_cast<int>(timeout.count())) > 0;
  }

  tcp::socket& socket() { return socket_; }

 private:
  asio::io_context io_;
  tcp::socket socket_;
  std::string buffer_;
};

bool WaitFor(const std::function<bool()>& condition, milliseconds timeout = milliseconds(2000)) {
  auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(2));
  }
  return true;
}

TEST(TestServerTest, ServesOk) {
  TestServer server;
  Response response = Client(server.port()).Get("/ok");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(HeaderValue(response.head, "Content-Type"), "application/json");
  EXPECT_EQ(response.body, "{\"ok\":true}\n");
  EXPECT_EQ(server.Url("/ok"), "http://127.0.0.1:" + std::to_string(server.port()) + "/ok");
}

TEST(TestServerTest, CountsConnectionsAndRequests) {
  TestServer server;
  Client client(server.port());
  EXPECT_EQ(client.Get("/ok").status, 200);
  EXPECT_EQ(client.Get("/get").status, 200);
  EXPECT_EQ(server.connections(), 1u);
  EXPECT_EQ(server.requests(), 2u);
}

TEST(TestServerTest, AnswersPipelinedRequestsInOrder) {
  TestServer server;
  Client client(server.port());
  client.Send(Request("/status/201") + Request("/ok"));
  EXPECT_EQ(client.ReadResponse().status, 201);
  EXPECT_EQ(client.ReadResponse().status, 200);
}

TEST(TestServerTest, StatusRoutesUseTheReasonPhrase) {
  TestServer server;
  Client client(server.port());
  EXPECT_TRUE(client.Get("/status/503").head.starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
  EXPECT_TRUE(client.Get("/status/599").head.starts_with("HTTP/1.1 599 Status\r\n"));
  EXPECT_EQ(client.Get("/status/204").body, "");
  EXPECT_EQ(client.Get("/nowhere").status, 404);
  EXPECT_EQ(client.Get("/status/abc").status, 404);
}

TEST(TestServerTest, FlakyFailsTheFirstKRequests) {
  TestServer server;
  Client client(server.port());
  EXPECT_EQ(client.Get("/flaky/2/503").status, 503);
  EXPECT_EQ(client.Get("/flaky/2/503").status, 503);
  EXPECT_EQ(client.Get("/flaky/2/503").status, 200);
  EXPECT_EQ(client.Get("/flaky/2/503?other").status, 503);  // its own target
  server.ResetCounters();
  EXPECT_EQ(client.Get("/flaky/2/503").status, 503);
}

TEST(TestServerTest, ResetAbortsTheConnection) {
  TestServer server;
  Client client(server.port());
  client.Send(Request("/reset"));
  auto [data, error] = client.ReadToEnd();
  EXPECT_EQ(data, "");
  EXPECT_EQ(error, asio::error::connection_reset);
  EXPECT_EQ(server.requests(), 1u);
}

TEST(TestServerTest, FlakyResetResetsTheFirstKRequests) {
  TestServer server;
  for (int i = 0; i < 2; ++i) {
    Client client(server.port());
    client.Send(Request("/flaky-reset/2"));
    EXPECT_EQ(client.ReadToEnd().second, asio::error::connection_reset);
  }
  EXPECT_EQ(Client(server.port()).Get("/flaky-reset/2").status, 200);
}

TEST(TestServerTest, GarbageIsNotHttp) {
  TestServer server;
  Client client(server.port());
  client.Send(Request("/garbage"));
  auto [data, error] = client.ReadToEnd();
  EXPECT_EQ(data, "this is not HTTP\r\n\r\n");
  EXPECT_EQ(error, asio::error::eof);
}

TEST(TestServerTest, EmptyClosesWithoutAByte) {
  TestServer server;
  Client client(server.port());
  client.Send(Request("/empty"));
  auto [data, error] = client.ReadToEnd();
  EXPECT_EQ(data, "");
  EXPECT_EQ(error, asio::error::eof);
}

TEST(TestServerTest, PartialClosesBeforeTheContentLength) {
  TestServer server;
  Client client(server.port());
  client.Send(Request("/partial"));
  auto [data, error] = client.ReadToEnd();
  EXPECT_EQ(error, asio::error::eof);
  std::size_t head_end = data.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  EXPECT_TRUE(data.starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_EQ(HeaderValue(data.substr(0, head_end + 2), "Content-Length"), "1000");
  EXPECT_EQ(data.size() - head_end - 4, 100u);
}

TEST(TestServerTest, HonoursConnectionClose) {
  TestServer server;
  Client client(server.port());
  client.Send(Request("/ok", "Connection: close\r\n"));
  auto [data, error] = client.ReadToEnd();
  EXPECT_EQ(error, asio::error::eof);
  EXPECT_NE(data.find("\r\nConnection: close\r\n"), std::string::npos);
  EXPECT_TRUE(data.ends_with("{\"ok\":true}\n"));
}

TEST(TestServerTest, CloseAnswersThenClosesUnasked) {
  TestServer server;
  Client client(server.port());
  client.Send(Request("/close"));
  auto [data, error] = client.ReadToEnd();
  EXPECT_EQ(error, asio::error::eof);
  EXPECT_TRUE(data.starts_with("HTTP/1.1 200 OK\r\n")) << data;
  EXPECT_NE(data.find("\r\nConnection: close\r\n"), std::string::npos);
  EXPECT_TRUE(data.ends_with("{\"ok\":true}\n"));
}

TEST(TestServerTest, ClosesOnAnOversizedHead) {
  TestServer server;
  Client client(server.port());
  client.Send(Request("/ok", "X-Big: " + std::string(70 * 1024, 'b') + "\r\n"));
  auto [data, error] = client.ReadToEnd();
  EXPECT_EQ(data, "");
  EXPECT_EQ(server.requests(), 0u);
}

TEST(TestServerTest, DelayWaitsAtLeastTheDelay) {
  TestServer server;
  Client client(server.port());
  auto start = Clock::now();
  EXPECT_EQ(client.Get("/delay/200").status, 200);
  EXPECT_GE(Clock::now() - start, milliseconds(200));
}

TEST(TestServerTest, DelayStopsCountingWhenTheClientLeaves) {
  TestServer server;
  {
    Client client(server.port());
    client.Send(Request("/delay/10000"));
    ASSERT_TRUE(WaitFor([&] { return server.in_flight() == 1; }));
  }
  EXPECT_TRUE(WaitFor([&] { return server.in_flight() == 0; }, milliseconds(1000)));
}

TEST(TestServerTest, DelayNoticesAHangupBehindUnreadBytes) {
  TestServer server;
  {
    Client client(server.port());
    client.Send(Request("/delay/10000") + "unread bytes");  // as a TLS close_notify would be
    ASSERT_TRUE(WaitFor([&] { return server.in_flight() == 1; }));
  }
  EXPECT_TRUE(WaitFor([&] { return server.in_flight() == 0; }, milliseconds(1000)));
}

TEST(TestServerTest, SlowDripsTheBody) {
  TestServer server;
  Client client(server.port());
  client.Send(Request("/slow"));
  auto start = Clock::now();
  std::string buffer;
  std::size_t head_size =
      asio::read_until(client.socket(), asio::dynamic_buffer(buffer), "\r\n\r\n");
  EXPECT_EQ(HeaderValue(buffer.substr(0, head_size), "Content-Length"), "100");
  asio::read(client.socket(), asio::dynamic_buffer(buffer),
             asio::transfer_exactly(head_size + 2 - buffer.size()));
  EXPECT_GE(Clock::now() - start, milliseconds(190));
}

TEST(TestServerTest, RequestsForCountsExactTargets) {
  TestServer server;
  Client client(server.port());
  client.Get("/task/1");
  client.Get("/task/1");
  client.Get("/task/1?attempt=2");
  client.Get("/task/2");
  EXPECT_EQ(server.RequestsFor("/task/1"), 2u);
  EXPECT_EQ(server.RequestsFor("/task/1?attempt=2"), 1u);
  EXPECT_EQ(server.RequestsFor("/task/2"), 1u);
  EXPECT_EQ(server.RequestsFor("/task/3"), 0u);
  EXPECT_EQ(server.requests(), 4u);
  ASSERT_TRUE(WaitFor([&] { return server.in_flight() == 0; }));
  server.ResetCounters();
  EXPECT_EQ(server.RequestsFor("/task/1"), 0u);
  EXPECT_EQ(server.requests(), 0u);
  EXPECT_EQ(server.connections(), 0u);
  EXPECT_EQ(server.max_in_flight(), 0u);
}

TEST(TestServerTest, RecordsMethodTargetHeadersAndBody) {
  TestServer server;
  Client client(server.port());
  const std::string body("a\0b\r\n\r\nc", 8);
  client.Send(
      "PATCH /status/201?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Twice: one\r\n"
      "x-twice:  two \r\nContent-Length: 8\r\n\r\n" +
      body);
  EXPECT_EQ(client.ReadResponse().status, 201);
  EXPECT_EQ(client.Get("/ok").status, 200);  // the body was consumed, not taken for a request
  const std::vector<TestServer::RecordedRequest> recorded = server.RecordedRequests();
  ASSERT_EQ(recorded.size(), 2u);
  const TestServer::RecordedRequest& patch = recorded[0];
  EXPECT_EQ(patch.method, "PATCH");
  EXPECT_EQ(patch.target, "/status/201?x=1");
  EXPECT_EQ(patch.body, body);
  using Headers = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(
      patch.headers,
      (Headers{
          {"Host", "127.0.0.1"}, {"X-Twice", "one"}, {"x-twice", "two"}, {"Content-Length", "8"}}));
  EXPECT_EQ(patch.HeaderValues("X-TWICE"), (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(patch.Header("x-twice"), "one");
  EXPECT_EQ(patch.Header("Expect"), std::nullopt);
  EXPECT_EQ(recorded[1].method, "GET");
  EXPECT_EQ(recorded[1].body, "");
  EXPECT_EQ(server.LastRequest()->target, "/ok");
}

TEST(TestServerTest, RecordsOnlyTheLastRequests) {
  TestServer server;
  EXPECT_FALSE(server.LastRequest().has_value());
  Client client(server.port());
  const std::size_t sent = TestServer::kRecordedRequests + 5;
  for (std::size_t i = 0; i < sent; ++i) client.Get("/task/" + std::to_string(i));
  const std::vector<TestServer::RecordedRequest> recorded = server.RecordedRequests();
  ASSERT_EQ(recorded.size(), TestServer::kRecordedRequests);
  EXPECT_EQ(recorded.front().target, "/task/5");
  EXPECT_EQ(recorded.back().target, "/task/" + std::to_string(sent - 1));
  server.ResetCounters();
  EXPECT_TRUE(server.RecordedRequests().empty());
}

TEST(TestServerTest, HeadGetsTheHeadAlone) {
  TestServer server;
  Client client(server.port());
  for (const std::string target : {"/ok", "/status/503", "/big/1", "/slow"}) {
    // A HEAD, then a GET on the same connection: the GET's answer follows the HEAD's head.
    client.Send("HEAD " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + Request("/ok"));
    std::string buffer;
    const std::size_t head_size =
        asio::read_until(client.socket(), asio::dynamic_buffer(buffer), "\r\n\r\n");
    const std::string head = buffer.substr(0, head_size);
    EXPECT_NE(HeaderValue(head, "Content-Length"), "0") << target;
    asio::read_until(client.socket(), asio::dynamic_buffer(buffer), "true}\n");
    EXPECT_TRUE(buffer.substr(head_size).starts_with("HTTP/1.1 200 OK\r\n"))
        << target << ": " << buffer.substr(head_size, 40);
    EXPECT_EQ(server.LastRequest()->method, "GET");
  }
  EXPECT_EQ(server.connections(), 1u);
}

TEST(TestServerTest, MaxInFlightSeesConcurrentRequests) {
  TestServer server;
  std::vector<std::thread> threads;
  std::vector<int> statuses(3);
  for (int& status : statuses) {
    threads.emplace_back(
        [&server, &status] { status = Client(server.port()).Get("/delay/300").status; });
  }
  for (std::thread& thread : threads) thread.join();
  for (int status : statuses) EXPECT_EQ(status, 200);
  EXPECT_GE(server.max_in_flight(), 3u);
  EXPECT_TRUE(WaitFor([&] { return server.in_flight() == 0; }));
}

TEST(TestServerTest, RetryAfterOnlyOnTheFirstRequest) {
  TestServer server;
  Client client(server.port());
  Response first = client.Get("/retry-after/429/7");
  EXPECT_EQ(first.status, 429);
  EXPECT_EQ(HeaderValue(first.head, "Retry-After"), "7");
  EXPECT_EQ(client.Get("/retry-after/429/7").status, 200);

  Response dated = client.Get("/retry-after-date/30");
  EXPECT_EQ(dated.status, 503);
  // An IMF-fixdate such as "Sun, 06 Nov 1994 08:49:37 GMT", 30 s (rounded up) from now.
  std::string date = HeaderValue(dated.head, "Retry-After");
  std::tm parsed{};
  const char* end = strptime(date.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parsed);
  ASSERT_TRUE(end != nullptr && *end == '\0' && date.size() == 29) << date;
  // Not std::time(): it reads a coarse clock that can lag system_clock by a tick.
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  long long ahead = static_cast<long long>(timegm(&parsed) - now);
  EXPECT_GE(ahead, 29) << date;
  EXPECT_LE(ahead, 31) << date;
  EXPECT_EQ(client.Get("/retry-after-date/30").status, 200);
}

TEST(TestServerTest, Redirects) {
  TestServer server;
  Client client(server.port());
  Response response = client.Get("/redirect/2");
  EXPECT_EQ(response.status, 302);
  EXPECT_EQ(HeaderValue(response.head, "Location"), "/redirect/1");
  EXPECT_EQ(HeaderValue(client.Get("/redirect/0").head, "Location"), "/ok");
  EXPECT_EQ(HeaderValue(client.Get("/redirect-loop").head, "Location"), "/redirect-loop");
  EXPECT_EQ(HeaderValue(client.Get("/redirect-ftp").head, "Location"),
            "ftp://127.0.0.1:" + std::to_string(server.port()) + "/file");
  Response see_other = client.Get("/redirect-status/303");
  EXPECT_TRUE(see_other.head.starts_with("HTTP/1.1 303 See Other\r\n")) << see_other.head;
  EXPECT_EQ(HeaderValue(see_other.head, "Location"), "/ok");
  EXPECT_EQ(client.Get("/redirect-status/307").status, 307);
}

TEST(TestServerTest, BigStreamsTheWholeBodyAndKeepsTheConnection) {
  TestServer server;
  Client client(server.port());
  Response response = client.Get("/big/3");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body.size(), 3u * 1024 * 1024);
  EXPECT_EQ(client.Get("/ok").status, 200);
  EXPECT_EQ(server.connections(), 1u);
}

TEST(TestServerTest, BigStopsWhenTheClientLeaves) {
  TestServer server;
  {
    Client client(server.port());
    client.Send(Request("/big/4096"));
    std::array<char, 65536> chunk;
    asio::read(client.socket(), asio::buffer(chunk));
  }
  EXPECT_TRUE(WaitFor([&] { return server.in_flight() == 0; }));
}

TEST(TestServerTest, EndlessHeadersNeverEnd) {
  TestServer server;
  {
    Client client(server.port());
    client.Send(Request("/endless-headers"));
    std::string data(256 * 1024, '\0');
    asio::read(client.socket(), asio::buffer(data));
    EXPECT_TRUE(data.starts_with("HTTP/1.1 200 OK\r\nX-Filler-0: aaaa"));
    EXPECT_EQ(data.find("\r\n\r\n"), std::string::npos);
  }
  EXPECT_TRUE(WaitFor([&] { return server.in_flight() == 0; }));
}

TEST(TestServerTest, RandomFaultsFollowTheOdds) {
  TestServer server;
  Client client(server.port());
  EXPECT_EQ(client.Get("/random-faults/0/0").status, 200);
  EXPECT_EQ(client.Get("/random-faults/100/0").status, 503);
  client.Send(Request("/random-faults/0/100"));
  EXPECT_EQ(client.ReadToEnd().second, asio::error::connection_reset);
}

TEST(TestServerTest, ServesManyConcurrentConnections) {
  TestServer server;
  constexpr std::size_t kClients = 300;
  std::vector<std::unique_ptr<Client>> clients;
  for (std::size_t i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<Client>(server.port()));
    clients.back()->Send(Request("/delay/50"));
  }
  for (auto& client : clients) EXPECT_EQ(client->ReadResponse().status, 200);
  EXPECT_EQ(server.connections(), kClients);
  EXPECT_GE(server.max_in_flight(), 2u);
}

TEST(TestServerTest, DestructionIsPromptWithStalledConnections) {
  auto server = std::make_unique<TestServer>();
  Client stalled(server->port());
  stalled.Send(Request("/stall"));
  Client delayed(server->port());
  delayed.Send(Request("/delay/60000"));
  Client slow(server->port());
  slow.Send(Request("/slow"));
  Client idle(server->port());
  ASSERT_TRUE(WaitFor([&] { return server->requests() == 3 && server->connections() == 4; }));
  EXPECT_FALSE(stalled.ReadableWithin(milliseconds(50)));

  auto start = Clock::now();
  server.reset();
  EXPECT_LT(Clock::now() - start, milliseconds(1000));
  EXPECT_EQ(stalled.ReadToEnd().first, "");
}

TEST(TestServerTest, NeverReadHoldsConnectionsSilently) {
  auto server = std::make_unique<TestServer>(TestServer::Options{.never_read = true});
  Client client(server->port());
  client.Send(Request("/ok"));
  ASSERT_TRUE(WaitFor([&] { return server->connections() == 1; }));
  EXPECT_FALSE(client.ReadableWithin(milliseconds(200)));
  EXPECT_EQ(server->requests(), 0u);

  auto start = Clock::now();
  server.reset();
  EXPECT_LT(Clock::now() - start, milliseconds(1000));
  EXPECT_TRUE(client.ReadableWithin(milliseconds(1000)));  // closed at last
}

TEST(TestServerTest, TlsServesClientsThatTrustTheCertificate) {
  TestServer server(TestServer::Options{.tls = true});
  EXPECT_TRUE(server.Url("/ok").starts_with("https://127.0.0.1:"));

  asio::io_context io;
  asio::ssl::context context(asio::ssl::context::tls_client);
  context.load_verify_file(kCertPath);
  asio::ssl::stream<tcp::socket> stream(io, context);
  stream.set_verify_mode(asio::ssl::verify_peer);
  stream.set_verify_callback(asio::ssl::host_name_verification("127.0.0.1"));
  stream.lowest_layer().connect(tcp::endpoint(asio::ip::address_v4::loopback(), server.port()));
  SetReceiveTimeout(stream.lowest_layer().native_handle(), milliseconds(5000));
  stream.handshake(asio::ssl::stream_base::client);

  std::string buffer;
  for (int i = 0; i < 2; ++i) {
    asio::write(stream, asio::buffer(Request("/ok")));
    Response response = ReadResponseFrom(stream, buffer);
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "{\"ok\":true}\n");
  }
  EXPECT_EQ(server.connections(), 1u);
  EXPECT_EQ(server.requests(), 2u);
}

TEST(TestServerTest, TlsCountsFullAndResumedHandshakes) {
  TestServer server(TestServer::Options{.tls = true});
  asio::io_context io;
  asio::ssl::context context(asio::ssl::context::tls_client);
  context.load_verify_file(kCertPath);
  // One connection, one request; resumes `session` when given one. Returns the session to
  // resume next (TLS 1.3 sends its ticket after the handshake: it is here once a response
  // has been read) and whether the client saw this one resumed. Closed with close_notify
  // both ways: OpenSSL marks the session of a connection freed without it not resumable.
  const auto connect = [&](SSL_SESSION* session) {
    asio::ssl::stream<tcp::socket> stream(io, context);
    stream.set_verify_mode(asio::ssl::verify_peer);
    if (session != nullptr) SSL_set_session(stream.native_handle(), session);
    stream.lowest_layer().connect(tcp::endpoint(asio::ip::address_v4::loopback(), server.port()));
    SetReceiveTimeout(stream.lowest_layer().native_handle(), milliseconds(5000));
    stream.handshake(asio::ssl::stream_base::client);
    std::string buffer;
    asio::write(stream, asio::buffer(Request("/close")));
    EXPECT_EQ(ReadResponseFrom(stream, buffer).status, 200);
    ErrorCode error;
    stream.shutdown(error);
    EXPECT_FALSE(error) << error.message();
    return std::pair{SSL_get1_session(stream.native_handle()),
                     SSL_session_reused(stream.native_handle()) == 1};
  };
  auto [first, first_resumed] = connect(nullptr);
  ASSERT_NE(first, nullptr);
  EXPECT_FALSE(first_resumed);
  auto [second, second_resumed] = connect(first);
  EXPECT_TRUE(second_resumed);
  auto [third, third_resumed] = connect(nullptr);
  EXPECT_FALSE(third_resumed);
  for (SSL_SESSION* session : {first, second, third}) SSL_SESSION_free(session);
  EXPECT_EQ(server.connections(), 3u);
  EXPECT_EQ(server.full_handshakes(), 2u);
  EXPECT_EQ(server.resumed_handshakes(), 1u);
  server.ResetCounters();
  EXPECT_EQ(server.full_handshakes(), 0u);
  EXPECT_EQ(server.resumed_handshakes(), 0u);
}

TEST(TestServerTest, TlsDestructionIsPromptWithStalledConnections) {
  auto server = std::make_unique<TestServer>(TestServer::Options{.tls = true});
  Client no_handshake(server->port());  // TCP only: the server waits for a ClientHello

  asio::io_context io;
  asio::ssl::context context(asio::ssl::context::tls_client);
  context.load_verify_file(kCertPath);
  asio::ssl::stream<tcp::socket> stalled(io, context);
  stalled.set_verify_mode(asio::ssl::verify_peer);
  stalled.lowest_layer().connect(tcp::endpoint(asio::ip::address_v4::loopback(), server->port()));
  SetReceiveTimeout(stalled.lowest_layer().native_handle(), milliseconds(5000));
  stalled.handshake(asio::ssl::stream_base::client);
  asio::write(stalled, asio::buffer(Request("/stall")));
  ASSERT_TRUE(WaitFor([&] { return server->requests() == 1 && server->connections() == 2; }));

  auto start = Clock::now();
  server.reset();
  EXPECT_LT(Clock::now() - start, milliseconds(1000));
}

TEST(TestServerTest, TlsFailsVerificationWithoutTheCertificate) {
  TestServer server(TestServer::Options{.tls = true});
  asio::io_context io;
  asio::ssl::context context(asio::ssl::context::tls_client);
  asio::ssl::stream<tcp::socket> stream(io, context);
  stream.set_verify_mode(asio::ssl::verify_peer);
  stream.lowest_layer().connect(tcp::endpoint(asio::ip::address_v4::loopback(), server.port()));
  SetReceiveTimeout(stream.lowest_layer().native_handle(), milliseconds(5000));
  ErrorCode error;
  stream.handshake(asio::ssl::stream_base::client, error);
  EXPECT_NE(error.message().find("certificate verify failed"), std::string::npos)
      << error.message();
  EXPECT_EQ(server.requests(), 0u);
  EXPECT_EQ(server.full_handshakes() + server.resumed_handshakes(), 0u) << "none completed";
}

}  // namespace
}  // namespace orchestrator::testing
