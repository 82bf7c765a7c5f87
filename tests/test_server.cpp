#include "test_server.h"

#include <openssl/ssl.h>
#include <poll.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/ssl.hpp>

#include "orchestrator/http_status.h"

#ifndef ORCHESTRATOR_TEST_DATA_DIR
#error "ORCHESTRATOR_TEST_DATA_DIR must be defined as the path of tests/data"
#endif

namespace orchestrator::testing {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using ErrorCode = boost::system::error_code;
using SslStream = asio::ssl::stream<tcp::socket>;

constexpr std::size_t kMaxHeadBytes = 64 * 1024;
// Request bodies are read and recorded up to this size; larger ones close the connection.
constexpr std::size_t kMaxRequestBody = 4 * 1024 * 1024;
constexpr std::size_t kChunkBytes = 64 * 1024;
constexpr std::uint64_t kMebibyte = 1024 * 1024;
constexpr std::uint64_t kMaxBigMegabytes = std::uint64_t{1} << 30;
constexpr std::uint32_t kRandomFaultsSeed = 20240229;
constexpr std::string_view kOkBody = "{\"ok\":true}\n";
constexpr std::string_view kGarbage = "this is not HTTP\r\n\r\n";

// Completion token that reports errors as values: clients vanishing is routine here.
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// One static buffer feeds every /big body, so memory does not grow with the size.
constexpr std::array<char, kChunkBytes> kFill = [] {
  std::array<char, kChunkBytes> fill{};
  fill.fill('x');
  return fill;
}();

template <class Stream>
constexpr bool kIsTls = std::is_same_v<Stream, SslStream>;

// The reason phrase the server sends: the library's, or "Status" for a status without one.
std::string_view StatusLinePhrase(int status) {
  const std::string_view phrase = ReasonPhrase(status);
  return phrase.empty() ? "Status" : phrase;
}

template <class T>
std::optional<T> ParseNumber(std::string_view text) {
  T value{};
  const char* end = text.data() + text.size();
  auto [stop, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || stop != end) return std::nullopt;
  return value;
}

std::optional<int> ParseStatus(std::string_view text) {
  std::optional<int> status = ParseNumber<int>(text);
  if (!status || *status < 100 || *status > 999) return std::nullopt;
  return status;
}

// Splits "a/b" into its two parts; nullopt unless there are exactly two.
std::optional<std::pair<std::string_view, std::string_view>> SplitPair(std::string_view text) {
  std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view second = text.substr(slash + 1);
  if (second.find('/') != std::string_view::npos) return std::nullopt;
  return std::pair{text.substr(0, slash), second};
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return Lower(x) == Lower(y); });
}

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  auto found = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                           [](char x, char y) { return Lower(x) == Lower(y); });
  return found != haystack.end();
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

struct Request {
  bool valid = false;  // false: the request line was not HTTP/1.x
  std::string method;
  std::string target;
  std::string path;    // target without the query
  bool close = false;  // the client wants the connection closed after the response
  std::size_t content_length = 0;
  std::vector<std::pair<std::string, std::string>> headers;
};

Request ParseHead(std::string_view head) {
  Request request;
  std::size_t line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  std::size_t first_space = line.find(' ');
  if (first_space == std::string_view::npos) return request;
  std::size_t second_space = line.find(' ', first_space + 1);
  if (second_space == std::string_view::npos) return request;
  std::string_view target = line.substr(first_space + 1, second_space - first_space - 1);
  std::string_view version = line.substr(second_space + 1);
  if (target.empty() || !version.starts_with("HTTP/1.")) return request;
  request.valid = true;
  request.method = line.substr(0, first_space);
  request.target = target;
  // The absolute form a client sends to a proxy (`GET http://host/ok`) is routed by its path,
  // so the server stands in for a proxy too.
  std::string_view origin_form = target;
  if (origin_form.starts_with("http://")) {
    const std::size_t slash = origin_form.find('/', 7);
    origin_form = slash == std::string_view::npos ? "/" : origin_form.substr(slash);
  }
  request.path = origin_form.substr(0, origin_form.find('?'));
  request.close = version == "HTTP/1.0";

  std::string_view rest = line_end == std::string_view::npos ? "" : head.substr(line_end + 2);
  while (!rest.empty()) {
    std::size_t end = rest.find("\r\n");
    std::string_view header = rest.substr(0, end);
    rest = end == std::string_view::npos ? "" : rest.substr(end + 2);
    std::size_t colon = header.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = Trim(header.substr(0, colon));
    std::string_view value = Trim(header.substr(colon + 1));
    request.headers.emplace_back(name, value);
    if (EqualsIgnoreCase(name, "connection")) {
      if (ContainsIgnoreCase(value, "close")) {
        request.close = true;
      } else if (ContainsIgnoreCase(value, "keep-alive")) {
        request.close = false;
      }
    } else if (EqualsIgnoreCase(name, "content-length")) {
      std::optional<std::size_t> length = ParseNumber<std::size_t>(value);
      if (length) {
        request.content_length = *length;
      } else {
        request.close = true;  // the next request's start is unknown
      }
    } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
      request.close = true;  // chunked bodies are not parsed, so the connection cannot go on
    }
  }
  return request;
}

std::string Head(int status, std::string_view content_type, std::uint64_t content_length,
                 bool close, std::string_view extra_headers = {}) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " ";
  head += StatusLinePhrase(status);
  head += "\r\nContent-Type: ";
  head += content_type;
  head += "\r\nContent-Length: " + std::to_string(content_length) + "\r\n";
  head += extra_headers;
  if (close) head += "Connection: close\r\n";
  head += "\r\n";
  return head;
}

std::string OkResponse(bool close) {
  return Head(200, "application/json", kOkBody.size(), close) + std::string(kOkBody);
}

// An item of a catalogue, as an API answers: a JSON body and headers worth capturing.
std::string ItemResponse(std::uint64_t id, bool close) {
  const std::string body =
      "{\"id\":" + std::to_string(id) + ",\"sku\":\"sku-" + std::to_string(id) +
      "\",\"price\":" + std::to_string(id) +
      ".5,\"tags\":[\"a\",\"b\"],\"data\":{\"owner\":null,\"n\":" + std::to_string(id % 7) + "}}\n";
  const std::string extra =
      "ETag: \"etag-" + std::to_string(id) + "\"\r\nX-Repeat: first\r\nx-repeat:  last  \r\n";
  return Head(200, "application/json", body.size(), close, extra) + body;
}

// A short text body naming the status; none for the statuses that must not have one.
std::string StatusResponse(int status, bool close, std::string_view extra_headers = {}) {
  std::string body;
  bool bodyless = (status >= 100 && status < 200) || status == 204 || status == 304;
  if (!bodyless) body = std::to_string(status) + " " + std::string(StatusLinePhrase(status)) + "\n";
  return Head(status, "text/plain", body.size(), close, extra_headers) + body;
}

std::string RedirectResponse(std::string_view location, bool close, int status = 302) {
  std::string extra = "Location: " + std::string(location) + "\r\n";
  return StatusResponse(status, close, extra);
}

// A response without its body: what a HEAD request gets.
std::string HeadOf(std::string_view response) {
  std::size_t end = response.find("\r\n\r\n");
  return std::string(end == std::string_view::npos ? response : response.substr(0, end + 4));
}

// RFC 9110 IMF-fixdate, spelled out so that the process locale cannot change it.
std::string ImfFixdate(std::chrono::system_clock::time_point when) {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  std::array<char, 64> text{};
  int length = std::snprintf(text.data(), text.size(), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                             kDays[static_cast<std::size_t>(utc.tm_wday)], utc.tm_mday,
                             kMonths[static_cast<std::size_t>(utc.tm_mon)], utc.tm_year + 1900,
                             utc.tm_hour, utc.tm_min, utc.tm_sec);
  return std::string(text.data(), static_cast<std::size_t>(std::max(length, 0)));
}

// Thousands of loopback connections need as many descriptors on our side too.
void RaiseOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

// Lets the server close a connection it does not know the stream type of.
class ConnectionBase {
 public:
  virtual void Close() = 0;

 protected:
  ~ConnectionBase() = default;
};

template <class Stream>
class Connection;

// Everything the server thread owns. Members marked "server thread" are touched only there;
// the counters are atomics or under targets_mutex_ because tests read them from any thread.
class Server {
 public:
  explicit Server(TestServer::Options options) : options_(options) {
    RaiseOpenFileLimit();
    if (options_.tls && !options_.never_read) {
      ssl_context_.emplace(asio::ssl::context::tls_server);
      ssl_context_->set_options(asio::ssl::context::default_workarounds |
                                asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3);
      const std::string dir = ORCHESTRATOR_TEST_DATA_DIR;
      ssl_context_->use_certificate_chain_file(dir + "/test-cert.pem");
      ssl_context_->use_private_key_file(dir + "/test-key.pem", asio::ssl::context::pem);
      // Resumption needs nothing more: TLS 1.3 tickets are on by default, sealed with this
      // context's key, so any connection resumes any earlier one's session. (No session id
      // context either: OpenSSL asks for one only of a server that verifies client
      // certificates.)
    }
    tcp::endpoint endpoint(asio::ip::address_v4::loopback(), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, Accept(), RethrowUnexpected);
    thread_ = std::thread([this] { io_.run(); });
  }

  ~Server() {
    asio::post(io_, [this] { Stop(); });
    thread_.join();
  }

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const { return port_; }
  bool tls() const { return options_.tls; }
  std::size_t connections() const { return connections_.load(); }
  std::size_t full_handshakes() const { return full_handshakes_.load(); }
  std::size_t resumed_handshakes() const { return resumed_handshakes_.load(); }
  std::size_t requests() const { return requests_.load(); }
  std::size_t in_flight() const { return in_flight_.load(); }
  std::size_t max_in_flight() const { return max_in_flight_.load(); }

  std::size_t RequestsFor(std::string_view target) const {
    std::lock_guard lock(targets_mutex_);
    auto found = targets_.find(target);
    return found == targets_.end() ? 0 : found->second;
  }

  void ResetCounters() {
    connections_ = 0;
    full_handshakes_ = 0;
    resumed_handshakes_ = 0;
    requests_ = 0;
    max_in_flight_ = 0;
    std::lock_guard lock(targets_mutex_);
    targets_.clear();
    recorded_.clear();
    arrivals_.clear();
    for (auto& [target, load] : loads_) load.most = load.now;
  }

  std::size_t MaxInFlightFor(std::string_view target) const {
    std::lock_guard lock(targets_mutex_);
    auto found = loads_.find(target);
    return found == loads_.end() ? 0 : found->second.most;
  }

  std::vector<TestServer::Arrival> Arrivals() const {
    std::lock_guard lock(targets_mutex_);
    return arrivals_;
  }

  std::vector<TestServer::RecordedRequest> RecordedRequests() const {
    std::lock_guard lock(targets_mutex_);
    return {recorded_.begin(), recorded_.end()};
  }

 private:
  template <class Stream>
  friend class Connection;

  // Counts a request from head read until its response is done or the connection dropped,
  // in all and for its target.
  class InFlight {
   public:
    InFlight(Server& server, const std::string& target) : server_(server), target_(target) {
      std::size_t now = server_.in_flight_.fetch_add(1) + 1;
      std::size_t most = server_.max_in_flight_.load();
      while (now > most && !server_.max_in_flight_.compare_exchange_weak(most, now)) {
      }
      std::lock_guard lock(server_.targets_mutex_);
      Load& load = server_.loads_[target_];
      load.most = std::max(load.most, ++load.now);
    }
    ~InFlight() {
      server_.in_flight_.fetch_sub(1);
      std::lock_guard lock(server_.targets_mutex_);
      --server_.loads_[target_].now;
    }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

   private:
    Server& server_;
    std::string target_;
  };

  // A coroutine that throws is a bug in this file: make it loud rather than lose it.
  static void RethrowUnexpected(std::exception_ptr error) {
    if (error) std::rethrow_exception(error);
  }

  // Returns how many requests this target has had, this one included.
  std::size_t CountRequest(const Request& request) {
    requests_.fetch_add(1);
    if (!request.valid) return 0;
    std::lock_guard lock(targets_mutex_);
    auto found = targets_.find(request.target);
    if (found == targets_.end()) found = targets_.emplace(request.target, 0).first;
    if (arrivals_.size() < TestServer::kArrivals) {
      arrivals_.push_back({request.target, std::chrono::steady_clock::now()});
    }
    return ++found->second;
  }

  void Record(const Request& request, std::string body) {
    TestServer::RecordedRequest recorded{request.method, request.target, request.headers,
                                         std::move(body), std::chrono::steady_clock::now()};
    std::lock_guard lock(targets_mutex_);
    if (recorded_.size() == TestServer::kRecordedRequests) recorded_.pop_front();
    recorded_.push_back(std::move(recorded));
  }

  asio::awaitable<void> Accept();

  template <class Stream>
  static asio::awaitable<void> Serve(Server& server, Stream stream);

  // Server thread: closes everything so that every coroutine ends and run() returns.
  void Stop() {
    stopping_ = true;
    ErrorCode ignored;
    acceptor_.close(ignored);
    accept_backoff_.cancel();
    held_.clear();
    // Close() only queues completions, so live_ does not change under this loop.
    for (ConnectionBase* connection : live_) connection->Close();
  }

  const TestServer::Options options_;
  std::atomic<std::size_t> connections_{0};
  std::atomic<std::size_t> full_handshakes_{0};
  std::atomic<std::size_t> resumed_handshakes_{0};
  std::atomic<std::size_t> requests_{0};
  std::atomic<std::size_t> in_flight_{0};
  std::atomic<std::size_t> max_in_flight_{0};
  mutable std::mutex targets_mutex_;
  std::map<std::string, std::size_t, std::less<>> targets_;
  std::deque<TestServer::RecordedRequest> recorded_;  // under targets_mutex_
  struct Load {
    std::size_t now = 0;
    std::size_t most = 0;
  };
  std::map<std::string, Load, std::less<>> loads_;  // by target, under targets_mutex_
  std::vector<TestServer::Arrival> arrivals_;       // under targets_mutex_

  std::mt19937 random_faults_{kRandomFaultsSeed};  // server thread
  bool stopping_ = false;                          // server thread
  std::unordered_set<ConnectionBase*> live_;       // server thread

  // The I/O objects come after io_ so that they are destroyed before it.
  asio::io_context io_{1};
  std::optional<asio::ssl::context> ssl_context_;
  tcp::acceptor acceptor_{io_};
  asio::steady_timer accept_backoff_{io_};
  std::vector<tcp::socket> held_;  // never_read connections; server thread
  std::uint16_t port_ = 0;
  std::thread thread_;
};

// One client connection: reads request heads in sequence and answers each by its route.
template <class Stream>
class Connection final : public ConnectionBase {
 public:
  Connection(Server& server, Stream stream)
      : server_(server), stream_(std::move(stream)), timer_(stream_.get_executor()) {
    server_.live_.insert(this);
    if (server_.stopping_) Close();  // accepted just before Stop() ran
  }
  ~Connection() { server_.live_.erase(this); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Server thread. Fails every pending and later operation, so the coroutine ends promptly.
  void Close() override {
    closed_ = true;
    ErrorCode ignored;
    stream_.lowest_layer().close(ignored);
    timer_.cancel();
  }

  asio::awaitable<void> Run() {
    if constexpr (kIsTls<Stream>) {
      auto [error] = co_await stream_.async_handshake(asio::ssl::stream_base::server, kNoThrow);
      if (error) co_return;
      if (SSL_session_reused(stream_.native_handle()) == 1) {
        server_.resumed_handshakes_.fetch_add(1);
      } else {
        server_.full_handshakes_.fetch_add(1);
      }
    }
    while (!closed_) {
      if (buffer_.empty()) {
        // A request line starts with a method in capitals. Anything else (a TLS ClientHello
        // sent to this plain server, say) gets a 400 at once, as nginx does, instead of a
        // wait for a blank line that never comes.
        std::array<char, 1> first{};
        auto [read_error, read] = co_await stream_.async_read_some(asio::buffer(first), kNoThrow);
        if (read_error || closed_) co_return;
        buffer_.push_back(first[0]);
        if (first[0] < 'A' || first[0] > 'Z') {
          co_await WriteThen(StatusResponse(400, true), After::kClose);
          co_await CloseGracefully();
          co_return;
        }
      }
      auto [error, head_size] = co_await asio::async_read_until(
          stream_, asio::dynamic_buffer(buffer_, kMaxHeadBytes), "\r\n\r\n", kNoThrow);
      if (error || closed_) co_return;  // gone, closed, or a head over kMaxHeadBytes
      Request request = ParseHead(std::string_view(buffer_).substr(0, head_size));
      buffer_.erase(0, head_size);
      After after = After::kDone;
      {
        Server::InFlight in_flight(server_, request.target);
        std::size_t nth = server_.CountRequest(request);
        if (!co_await ReadBody(request)) co_return;
        after = co_await Respond(request, nth);
      }
      if (after == After::kDone) co_return;
      if (after == After::kClose || request.close) {
        co_await CloseGracefully();
        co_return;
      }
    }
  }

 private:
  enum class After { kKeepAlive, kClose, kDone };
  enum class Peer { kGone, kSentData, kQuiet };

  // Reads the request's body and records the request.
  asio::awaitable<bool> ReadBody(const Request& request) {
    if (request.content_length > kMaxRequestBody) co_return false;
    if (buffer_.size() < request.content_length) {
      auto [error, ignored] = co_await asio::async_read(
          stream_, asio::dynamic_buffer(buffer_),
          asio::transfer_at_least(request.content_length - buffer_.size()), kNoThrow);
      if (error || closed_) co_return false;
    }
    if (request.valid) server_.Record(request, buffer_.substr(0, request.content_length));
    buffer_.erase(0, request.content_length);
    co_return true;
  }

  // What to do with a request; Plan() picks it without suspending, Respond() carries it out.
  struct Action {
    enum class Kind {
      kSend,            // write `response`, keep the connection
      kSendThenClose,   // write `response`, then close cleanly
      kDelay,           // wait `amount` ms, then write `response`
      kReset,           // TCP RST
      kCloseQuietly,    // clean close without a byte
      kStall,           // read and drop until the client or the server goes
      kSlow,            // drip a 100-byte body
      kBig,             // stream `amount` bytes of body
      kEndlessHeaders,  // header lines until the client goes
    };
    Kind kind = Kind::kSend;
    std::string response;
    std::uint64_t amount = 0;
  };

  static Action Send(std::string response) { return {Action::Kind::kSend, std::move(response)}; }
  static Action Do(Action::Kind kind, std::uint64_t amount = 0) { return {kind, {}, amount}; }

  Action Plan(const Request& request, std::size_t nth) {
    using Kind = Action::Kind;
    const bool close = request.close;
    if (!request.valid) return {Kind::kSendThenClose, StatusResponse(400, true)};
    std::string_view path = request.path;
    auto after_prefix = [&](std::string_view prefix) -> std::optional<std::string_view> {
      if (!path.starts_with(prefix)) return std::nullopt;
      return path.substr(prefix.size());
    };

    if (path == "/ok" || path == "/get" || path.starts_with("/task/")) {
      return Send(OkResponse(close));
    }
    if (auto rest = after_prefix("/item/")) {
      if (auto id = ParseNumber<std::uint64_t>(*rest)) return Send(ItemResponse(*id, close));
    }
    if (auto rest = after_prefix("/redirect-item/")) {
      if (auto id = ParseNumber<std::uint64_t>(*rest)) {
        return Send(RedirectResponse("/item/" + std::to_string(*id), close));
      }
    }
    if (path == "/hostile-body") {
      return Send(Head(200, "text/plain", kHostileBody.size(), close,
                       "X-Hostile: a\x1b[31mb\xc2\x9b"
                       "c\xff\r\n") +
                  std::string(kHostileBody));
    }
    if (auto rest = after_prefix("/status/")) {
      if (auto status = ParseStatus(*rest)) return Send(StatusResponse(*status, close));
    }
    if (auto rest = after_prefix("/delay/")) {
      if (auto ms = ParseNumber<std::uint32_t>(*rest))
        return {Kind::kDelay, OkResponse(close), *ms};
    }
    if (path == "/close") return {Kind::kSendThenClose, OkResponse(true)};
    if (path == "/ok-then-close") return {Kind::kSendThenClose, OkResponse(close)};
    if (path == "/reset") return Do(Kind::kReset);
    if (path == "/empty") return Do(Kind::kCloseQuietly);
    if (path == "/stall") return Do(Kind::kStall);
    if (path == "/partial") {
      return {Kind::kSendThenClose, Head(200, "text/plain", 1000, close) + std::string(100, 'p')};
    }
    if (path == "/garbage") return {Kind::kSendThenClose, std::string(kGarbage)};
    if (path == "/slow") return Do(Kind::kSlow);
    if (auto rest = after_prefix("/flaky/")) {
      if (auto parts = SplitPair(*rest)) {
        auto k = ParseNumber<std::size_t>(parts->first);
        auto status = ParseStatus(parts->second);
        if (k && status)
          return Send(nth <= *k ? StatusResponse(*status, close) : OkResponse(close));
      }
    }
    if (auto rest = after_prefix("/flaky-reset/")) {
      if (auto k = ParseNumber<std::size_t>(*rest)) {
        return nth <= *k ? Do(Kind::kReset) : Send(OkResponse(close));
      }
    }
    if (auto rest = after_prefix("/retry-after/")) {
      if (auto parts = SplitPair(*rest)) {
        auto status = ParseStatus(parts->first);
        auto seconds = ParseNumber<std::uint64_t>(parts->second);
        if (status && seconds) {
          if (nth > 1) return Send(OkResponse(close));
          std::string extra = "Retry-After: " + std::to_string(*seconds) + "\r\n";
          return Send(StatusResponse(*status, close, extra));
        }
      }
    }
    if (auto rest = after_prefix("/retry-after-date/")) {
      if (auto seconds = ParseNumber<std::uint32_t>(*rest)) {
        if (nth > 1) return Send(OkResponse(close));
        // Rounded up, so that waiting until the date waits at least SECONDS.
        auto when = std::chrono::ceil<std::chrono::seconds>(std::chrono::system_clock::now()) +
                    std::chrono::seconds(*seconds);
        std::string extra = "Retry-After: " + ImfFixdate(when) + "\r\n";
        return Send(StatusResponse(503, close, extra));
      }
    }
    if (auto rest = after_prefix("/big/")) {
      auto megabytes = ParseNumber<std::uint64_t>(*rest);
      if (megabytes && *megabytes <= kMaxBigMegabytes) {
        return {Kind::kBig, Head(200, "application/octet-stream", *megabytes * kMebibyte, close),
                *megabytes * kMebibyte};
      }
    }
    if (path == "/endless-headers") return Do(Kind::kEndlessHeaders);
    if (auto rest = after_prefix("/redirect/")) {
      if (auto n = ParseNumber<std::uint64_t>(*rest)) {
        std::string location = *n == 0 ? "/ok" : "/redirect/" + std::to_string(*n - 1);
        return Send(RedirectResponse(location, close));
      }
    }
    if (auto rest = after_prefix("/redirect-status/")) {
      if (auto status = ParseStatus(*rest)) return Send(RedirectResponse("/ok", close, *status));
    }
    if (path == "/redirect-to-token") {
      std::string token;
      for (const auto& [name, value] : request.headers) {
        if (EqualsIgnoreCase(name, "authorization")) token = value.substr(value.rfind(' ') + 1);
      }
      return Send(RedirectResponse("http://" + token + ".invalid/", close));
    }
    if (path == "/redirect-loop") return Send(RedirectResponse(path, close));
    if (path == "/redirect-control") {
      // Control characters (an escape sequence and a bell) where a client may quote them.
      std::string location =
          "http://127.0.0.1:" + std::to_string(server_.port()) + "/\x1b[31m\x07/none";
      return Send(RedirectResponse(location, close));
    }
    if (path == "/redirect-ftp") {
      std::string location = "ftp://127.0.0.1:" + std::to_string(server_.port()) + "/file";
      return Send(RedirectResponse(location, close));
    }
    if (auto rest = after_prefix("/random-faults/")) {
      if (auto parts = SplitPair(*rest)) {
        auto p503 = ParseNumber<std::uint32_t>(parts->first);
        auto preset = ParseNumber<std::uint32_t>(parts->second);
        if (p503 && preset) {
          std::uint32_t roll = server_.random_faults_() % 100;
          if (roll < *p503) return Send(StatusResponse(503, close));
          if (roll < *p503 + *preset) return Do(Kind::kReset);
          return Send(OkResponse(close));
        }
      }
    }
    return Send(StatusResponse(404, close));
  }

  // Plain statements only around co_await: GCC 12 miscompiles temporaries in conditional
  // expressions inside co_await (a double free).
  asio::awaitable<After> Respond(const Request& request, std::size_t nth) {
    using Kind = Action::Kind;
    Action action = Plan(request, nth);
    if (request.method == "HEAD") {
      // The head alone, with the Content-Length a GET would have.
      if (action.kind == Kind::kSlow) {
        action.response = Head(200, "text/plain", 100, request.close);
        action.kind = Kind::kSend;
      } else if (action.kind == Kind::kBig) {
        action.kind = Kind::kSend;
      }
      action.response = HeadOf(action.response);
    }
    switch (action.kind) {
      case Kind::kSend:
        co_return co_await WriteThen(action.response, After::kKeepAlive);
      case Kind::kSendThenClose:
        co_return co_await WriteThen(action.response, After::kClose);
      case Kind::kDelay:
        co_return co_await Delay(std::chrono::milliseconds(action.amount), action.response);
      case Kind::kReset:
        co_return Abort();
      case Kind::kCloseQuietly:
        co_return After::kClose;
      case Kind::kStall:
        co_return co_await Stall();
      case Kind::kSlow:
        co_return co_await Slow(request.close);
      case Kind::kBig:
        co_return co_await Big(action.response, action.amount);
      case Kind::kEndlessHeaders:
        co_return co_await EndlessHeaders();
    }
    co_return After::kDone;
  }

  asio::awaitable<bool> Write(std::string_view data) {
    if (closed_) co_return false;
    auto [error, ignored] = co_await asio::async_write(stream_, asio::buffer(data), kNoThrow);
    co_return !error && !closed_;
  }

  asio::awaitable<After> WriteThen(std::string_view data, After after) {
    const bool written = co_await Write(data);
    co_return written ? after : After::kDone;
  }

  // TCP RST: linger on with a zero timeout makes close() abort the connection.
  After Abort() {
    ErrorCode ignored;
    stream_.lowest_layer().set_option(asio::socket_base::linger(true, 0), ignored);
    stream_.lowest_layer().close(ignored);
    return After::kDone;
  }

  asio::awaitable<void> CloseGracefully() {
    if constexpr (kIsTls<Stream>) {
      // Sends close_notify and waits for the client's answer or its close (or Stop()).
      if (!closed_) co_await stream_.async_shutdown(kNoThrow);
    }
    ErrorCode ignored;
    stream_.lowest_layer().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.lowest_layer().close(ignored);
  }

  // Whether the client hung up or has sent something, without consuming anything. POLLRDHUP
  // sees a hangup even behind unread bytes (a TLS close_notify, say).
  Peer CheckPeer() {
    pollfd fd{stream_.lowest_layer().native_handle(), POLLIN | POLLRDHUP, 0};
    if (::poll(&fd, 1, 0) < 0) return Peer::kQuiet;
    if ((fd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0) return Peer::kGone;
    return (fd.revents & POLLIN) != 0 ? Peer::kSentData : Peer::kQuiet;
  }

  // Waits while watching the socket, so that a client that gives up stops counting as in
  // flight at once instead of when the delay ends.
  asio::awaitable<After> Delay(std::chrono::milliseconds delay, std::string_view response) {
    using std::chrono::steady_clock;
    const steady_clock::time_point deadline = steady_clock::now() + delay;
    // Readiness wakes us for a hangup; once unread bytes keep the socket readable it would
    // fire at once forever, so from then on look for a hangup every kHangupPoll.
    constexpr std::chrono::milliseconds kHangupPoll(50);
    bool wait_readable = true;
    while (true) {
      if (closed_) co_return After::kDone;
      Peer peer = CheckPeer();
      if (peer == Peer::kGone) co_return After::kDone;
      if (peer == Peer::kSentData) wait_readable = false;
      const steady_clock::time_point now = steady_clock::now();
      if (now >= deadline) break;
      if (!wait_readable) {
        timer_.expires_at(std::min(deadline, now + kHangupPoll));
        auto [error] = co_await timer_.async_wait(kNoThrow);
        if (error) co_return After::kDone;
        continue;
      }
      timer_.expires_at(deadline);
      auto [order, timer_error, wait_error] =
          co_await asio::experimental::make_parallel_group(
              timer_.async_wait(asio::deferred),
              stream_.lowest_layer().async_wait(tcp::socket::wait_read, asio::deferred))
              .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
      // The loser was cancelled; an error on the winner means Close() or a broken socket.
      if (order[0] == 0 ? static_cast<bool>(timer_error) : static_cast<bool>(wait_error)) {
        co_return After::kDone;
      }
    }
    co_return co_await WriteThen(response, After::kKeepAlive);
  }

  // Reads and drops whatever comes until the client closes or the server stops.
  asio::awaitable<After> Stall() {
    std::array<char, 4096> scratch;
    while (true) {
      auto [error, ignored] = co_await stream_.async_read_some(asio::buffer(scratch), kNoThrow);
      if (error || closed_) co_return After::kDone;
    }
  }

  asio::awaitable<After> Slow(bool close) {
    constexpr int kBytes = 100;
    const std::string head = Head(200, "text/plain", kBytes, close);
    if (!co_await Write(head)) co_return After::kDone;
    for (int i = 0; i < kBytes; ++i) {
      if (closed_) co_return After::kDone;
      timer_.expires_after(std::chrono::milliseconds(100));
      auto [error] = co_await timer_.async_wait(kNoThrow);
      if (error) co_return After::kDone;
      const bool written = co_await Write("s");
      if (!written) co_return After::kDone;
    }
    co_return After::kKeepAlive;
  }

  asio::awaitable<After> Big(std::string_view head, std::uint64_t bytes) {
    if (!co_await Write(head)) co_return After::kDone;
    while (bytes > 0) {
      const std::string_view chunk(kFill.data(), std::min<std::uint64_t>(bytes, kFill.size()));
      if (!co_await Write(chunk)) co_return After::kDone;
      bytes -= chunk.size();
    }
    co_return After::kKeepAlive;
  }

  asio::awaitable<After> EndlessHeaders() {
    if (!co_await Write("HTTP/1.1 200 OK\r\n")) co_return After::kDone;
    const std::string filler(100, 'a');
    std::string chunk;
    for (std::uint64_t n = 0;;) {
      chunk.clear();
      while (chunk.size() + filler.size() + 64 < kChunkBytes) {
        chunk += "X-Filler-" + std::to_string(n++) + ": ";
        chunk += filler;
        chunk += "\r\n";
      }
      if (!co_await Write(chunk)) co_return After::kDone;
    }
  }

  Server& server_;
  Stream stream_;
  asio::steady_timer timer_;  // /delay and /slow; Close() cancels it
  std::string buffer_;        // bytes read past the previous request head
  bool closed_ = false;
};

template <class Stream>
asio::awaitable<void> Server::Serve(Server& server, Stream stream) {
  Connection<Stream> connection(server, std::move(stream));
  co_await connection.Run();
}

asio::awaitable<void> Server::Accept() {
  while (true) {
    auto [error, socket] = co_await acceptor_.async_accept(kNoThrow);
    if (stopping_) co_return;
    if (error) {
      // Out of descriptors, say: retry shortly rather than spin or stop serving.
      accept_backoff_.expires_after(std::chrono::milliseconds(10));
      co_await accept_backoff_.async_wait(kNoThrow);
      continue;
    }
    connections_.fetch_add(1);
    if (options_.never_read) {
      held_.push_back(std::move(socket));
      continue;
    }
    ErrorCode ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (ssl_context_) {
      asio::co_spawn(io_, Serve(*this, SslStream(std::move(socket), *ssl_context_)),
                     RethrowUnexpected);
    } else {
      asio::co_spawn(io_, Serve(*this, std::move(socket)), RethrowUnexpected);
    }
  }
}

}  // namespace

class TestServer::Impl final : public Server {
 public:
  using Server::Server;
};

TestServer::TestServer() : TestServer(Options{}) {}

TestServer::TestServer(Options options) : impl_(std::make_unique<Impl>(options)) {}

TestServer::~TestServer() = default;

std::uint16_t TestServer::port() const { return impl_->port(); }

std::string TestServer::Url(std::string_view target) const {
  return std::string(impl_->tls() ? "https" : "http") +
         "://127.0.0.1:" + std::to_string(impl_->port()) + std::string(target);
}

std::size_t TestServer::connections() const { return impl_->connections(); }
std::size_t TestServer::full_handshakes() const { return impl_->full_handshakes(); }
std::size_t TestServer::resumed_handshakes() const { return impl_->resumed_handshakes(); }
std::size_t TestServer::requests() const { return impl_->requests(); }
std::size_t TestServer::RequestsFor(std::string_view target) const {
  return impl_->RequestsFor(target);
}
std::size_t TestServer::max_in_flight() const { return impl_->max_in_flight(); }
std::size_t TestServer::MaxInFlightFor(std::string_view target) const {
  return impl_->MaxInFlightFor(target);
}
std::vector<TestServer::Arrival> TestServer::Arrivals() const { return impl_->Arrivals(); }
std::size_t TestServer::in_flight() const { return impl_->in_flight(); }
void TestServer::ResetCounters() { impl_->ResetCounters(); }

std::vector<TestServer::RecordedRequest> TestServer::RecordedRequests() const {
  return impl_->RecordedRequests();
}
std::optional<TestServer::RecordedRequest> TestServer::LastRequest() const {
  std::vector<RecordedRequest> recorded = impl_->RecordedRequests();
  if (recorded.empty()) return std::nullopt;
  return std::move(recorded.back());
}

std::vector<std::string> TestServer::RecordedRequest::HeaderValues(std::string_view name) const {
  std::vector<std::string> values;
  for (const auto& [header, value] : headers) {
    if (EqualsIgnoreCase(header, name)) values.push_back(value);
  }
  return values;
}

std::optional<std::string> TestServer::RecordedRequest::Header(std::string_view name) const {
  for (const auto& [header, value] : headers) {
    if (EqualsIgnoreCase(header, name)) return value;
  }
  return std::nullopt;
}

}  // namespace orchestrator::testing
