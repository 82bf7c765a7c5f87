// libcurl multi-socket on Asio. The rules this file follows, each learnt the hard way by
// someone (see curl's hiperfifo.c and multi-event.c, not the removed asiohiper.cpp):
//  1. Watch every descriptor the socket callback names, whatever its origin: the threaded
//     resolver hands over its own socketpair.
//  2. Asio never holds curl's descriptor numbers: each Watch gives Asio a duplicate, which
//     it closes on CURL_POLL_REMOVE. curl 7.88 closes a socket it was still connecting (a
//     transfer removed or timed out mid-connect) and says REMOVE only afterwards, when the
//     number may already be another thread's new socket; the duplicate is ours alone.
//  3. Handlers hold the Watch (a shared_ptr) and check `removed`; never look up by fd, which
//     the kernel reuses at once. The one lookup by fd is of a parked Watch (rule 7).
//  7. A kept-alive connection's Watch is parked at REMOVE, not closed, and taken up again when
//     curl names the same number: curl REMOVEs an idle connection after each request and
//     names it again for the next, and closing and remaking the duplicate cost five system
//     calls a request. Only a Watch whose socket curl must close through OnCloseSocket is
//     parked, so that a parked number is always still that socket: an Internet socket curl
//     has asked to read. curl 7.88 asks a socket only to be writable while it connects, and
//     closes it unannounced only then (lib/cf-socket.c: a socket not yet `active`); once it
//     reads, every close goes through the close callback, which forgets the parked Watch.
//     Nothing of curl's number is read to decide: the duplicate tells the socket's family.
//  4. Waits are one-shot: re-arm after each socket_action while curl still wants that way.
//  5. Never call back into curl from a curl callback: socket_action runs from Asio handlers.
//  6. The socket and timer callbacks run during curl_multi_cleanup, so the watch map and the
//     timer outlive the multi handle.
#include "orchestrator/curl_http_client.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

#include "orchestrator/body_file.h"
#include "orchestrator/byte_size.h"
#include "orchestrator/curl_outcome.h"
#include "orchestrator/http_status.h"
#include "orchestrator/secrets.h"
#include "orchestrator/text.h"

namespace orchestrator {
namespace {

namespace asio = boost::asio;

struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct MultiDeleter {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
struct DigestDeleter {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};
struct ShareDeleter {
  void operator()(CURLSH* share) const { curl_share_cleanup(share); }
};
struct ListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;
using MultiHandle = std::unique_ptr<CURLM, MultiDeleter>;
using ShareHandle = std::unique_ptr<CURLSH, ShareDeleter>;
using HeaderList = std::unique_ptr<curl_slist, ListDeleter>;
using Digest = std::unique_ptr<EVP_MD_CTX, DigestDeleter>;

// A descriptor curl asked us to watch, from its first announcement to CURL_POLL_REMOVE.
struct Watch : std::enable_shared_from_this<Watch> {
  Watch(asio::io_context& io, curl_socket_t fd) : descriptor(io), fd(fd) {}
  asio::posix::stream_descriptor descriptor;  // a duplicate of `fd`, owned and closed by Asio
  curl_socket_t fd;                           // curl's own number, for socket_action
  int wanted = 0;                             // CURL_POLL_IN and/or CURL_POLL_OUT
  bool read_pending = false;
  bool write_pending = false;
  bool removed = false;
  bool asked_to_read = false;  // curl has asked for CURL_POLL_IN: the socket is connected
  bool internet = false;       // AF_INET or AF_INET6, not the resolver's socketpair
  bool parked = false;         // REMOVEd by curl, kept for the connection's next request
};

// A reusable easy handle and the fetch it currently carries.
struct Transfer {
  // What the easy handle points at (CURLOPT_HTTPHEADER, CURLOPT_POSTFIELDS) until the fetch
  // ends; declared before `easy` so that they outlive it.
  HeaderList header_list;
  std::string body;
  // The URL as curl parsed it, set on `easy` as CURLOPT_CURLU while `parsed` (SetUrl).
  std::unique_ptr<CURLU, UrlDeleter> url;
  std::string url_text;
  bool parsed = false;
  EasyHandle easy;
  HttpClient::Callback done;
  Duration timeout{0};
  Duration connect_timeout{0};
  std::optional<std::uint64_t> max_body;
  std::vector<int> expect;           // empty: any 2xx
  std::vector<std::string> secrets;  // header values, kept out of messages; longest first
  std::uint64_t body_bytes = 0;
  bool body_too_large = false;
  std::optional<Duration> retry_after;
  // What the fetch keeps of its response, for captures (FetchRequest::keep).
  ResponseParts keep;
  std::optional<BodyFile> saving;  // FetchRequest::save_to
  std::string save_error;          // why the body could not be written there
  FetchResponse response;
  Digest digest;  // made on the first fetch that hashes, then reused
  bool active = false;
  char error[CURL_ERROR_SIZE] = {};
};

// A new response begins (the first, or one after a redirect or a 100 Continue): forget what
// was kept of the one before.
bool StartResponse(Transfer& transfer) {
  transfer.body_bytes = 0;
  transfer.retry_after.reset();
  FetchResponse& response = transfer.response;
  response.body.clear();
  response.body_over_limit = false;
  response.headers.assign(transfer.keep.headers.size(), std::nullopt);
  if (transfer.saving && !transfer.saving->Restart(transfer.save_error)) return false;
  if (!transfer.keep.sha256) return true;
  if (!transfer.digest) transfer.digest.reset(EVP_MD_CTX_new());
  return transfer.digest && EVP_DigestInit_ex(transfer.digest.get(), EVP_sha256(), nullptr) == 1;
}

std::string HexDigest(EVP_MD_CTX* context) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context, digest, &length) != 1) return {};
  std::string hex;
  hex.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i)
    fmt::format_to(std::back_inserter(hex), "{:02x}", digest[i]);
  return hex;
}

template <typename T>
void SetOption(CURL* easy, CURLoption option, T value) {
  if (const CURLcode code = curl_easy_setopt(easy, option, value); code != CURLE_OK) {
    throw std::runtime_error(fmt::format("curl_easy_setopt({}): {}", static_cast<int>(option),
                                         curl_easy_strerror(code)));
  }
}

template <typename T>
void SetOption(CURLM* multi, CURLMoption option, T value) {
  if (const CURLMcode code = curl_multi_setopt(multi, option, value); code != CURLM_OK) {
    throw std::runtime_error(fmt::format("curl_multi_setopt({}): {}", static_cast<int>(option),
                                         curl_multi_strerror(code)));
  }
}

template <typename T>
T Info(CURL* easy, CURLINFO info) {
  T value{};
  curl_easy_getinfo(easy, info, &value);
  return value;
}

// The host and password of the URL a transfer ended on.
struct UrlParts {
  std::string host;
  std::string password;
};

UrlParts PartsOf(CURL* easy) {
  UrlParts parts;
  const char* effective = Info<const char*>(easy, CURLINFO_EFFECTIVE_URL);
  std::unique_ptr<CURLU, UrlDeleter> url(curl_url());
  if (effective == nullptr || !url ||
      curl_url_set(url.get(), CURLUPART_URL, effective, 0) != CURLUE_OK) {
    return parts;
  }
  for (auto [part, out] :
       {std::pair{CURLUPART_HOST, &parts.host}, std::pair{CURLUPART_PASSWORD, &parts.password}}) {
    char* text = nullptr;
    if (curl_url_get(url.get(), part, &text, 0) == CURLUE_OK && text != nullptr) *out = text;
    curl_free(text);
  }
  return parts;
}

// The URL a transfer ended on, without a user name or password it may carry: a capture
// writes it where secrets do not go.
std::string UrlWithoutPassword(CURL* easy) {
  const char* effective = Info<const char*>(easy, CURLINFO_EFFECTIVE_URL);
  if (effective == nullptr) return {};
  std::unique_ptr<CURLU, UrlDeleter> url(curl_url());
  char* text = nullptr;
  if (!url || curl_url_set(url.get(), CURLUPART_URL, effective, CURLU_PATH_AS_IS) != CURLUE_OK ||
      curl_url_set(url.get(), CURLUPART_USER, nullptr, 0) != CURLUE_OK ||
      curl_url_set(url.get(), CURLUPART_PASSWORD, nullptr, 0) != CURLUE_OK ||
      curl_url_get(url.get(), CURLUPART_URL, &text, 0) != CURLUE_OK || text == nullptr) {
    curl_free(text);
    return {};
  }
  std::string result = text;
  curl_free(text);
  return result;
}

// Appends a copy of `line`; on failure `list` is left as it was, still owning its lines.
bool Append(HeaderList& list, const char* line) {
  curl_slist* longer = curl_slist_append(list.get(), line);
  if (longer == nullptr) return false;
  static_cast<void>(list.release());  // `longer` starts with it
  list.reset(longer);
  return true;
}

// The proxy variables as curl 7.88 reads them for every transfer (lib/url.c: detect_proxy,
// create_conn_helper_init_proxy), read once: an empty one counts as unset (curl_getenv).
struct ProxyEnvironment {
  bool any = false;  // a proxy for http:// or https:// (or all_proxy): curl then reads them
  std::optional<std::string> no_proxy;  // no_proxy, else NO_PROXY
};

std::optional<std::string> Environment(std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') return std::string(value);
  }
  return std::nullopt;
}

ProxyEnvironment ReadProxyEnvironment() {
  ProxyEnvironment environment;
  // http:// reads http_proxy but never HTTP_PROXY (httpoxy); https:// reads https_proxy,
  // then HTTPS_PROXY; either then all_proxy, then ALL_PROXY.
  environment.any =
      Environment({"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"})
          .has_value();
  environment.no_proxy = Environment({"no_proxy", "NO_PROXY"});
  return environment;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// A header value must not end the header early: no CR, LF or NUL.
bool IsFieldValue(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

}  // namespace

CurlLibrary::CurlLibrary() {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    throw std::runtime_error("libcurl could not be initialised");
  }
}

CurlLibrary::~CurlLibrary() { curl_global_cleanup(); }

class CurlHttpClient::Impl {
 public:
  Impl(asio::io_context& io, CurlHttpClientOptions options)
      : io_(io), options_(std::move(options)), timer_(io), multi_(curl_multi_init()) {
    if (!multi_) throw std::runtime_error("curl_multi_init failed");
    SetOption(multi_.get(), CURLMOPT_SOCKETFUNCTION, &Impl::OnSocket);
    SetOption(multi_.get(), CURLMOPT_SOCKETDATA, this);
    SetOption(multi_.get(), CURLMOPT_TIMERFUNCTION, &Impl::OnTimer);
    SetOption(multi_.get(), CURLMOPT_TIMERDATA, this);
    // Without a bound the cache grows to 4x the handles ever added.
    SetOption(multi_.get(), CURLMOPT_MAXCONNECTS, static_cast<long>(options_.max_connections));
    // One TLS session cache for every handle, so that a new connection to a host resumes
    // the session of an earlier one instead of a full handshake (curl keeps it per handle
    // otherwise). No lock functions: the share, like the multi handle, lives on one thread.
    if (!share_ || curl_share_setopt(share_.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) !=
                       CURLSHE_OK) {
      throw std::runtime_error("curl_share_init or sharing TLS sessions failed");
    }
  }

  ~Impl() {
    CancelAll();
    multi_.reset();  // may still call OnSocket (REMOVE) and OnTimer: both need our members
    for (auto& [fd, watch] : watches_) Unwatch(*watch, /*erase=*/false);
    watches_.clear();
    transfers_.clear();
  }

  void Fetch(FetchRequest request, Callback done) {
    Transfer& transfer = Acquire();
    CURL* easy = transfer.easy.get();
    transfer.timeout = request.timeout;
    transfer.connect_timeout = request.connect_timeout;
    transfer.max_body = request.max_body ? request.max_body : options_.max_body;
    transfer.expect = std::move(request.expect);
    {
      std::vector<std::string_view> values;
      values.reserve(request.headers.size());
      for (const auto& header : request.headers) values.push_back(header.second);
      transfer.secrets = HeaderSecrets(values, HeaderValues::kSent);
    }
    transfer.body_too_large = false;
    transfer.keep = std::move(request.keep);
    if (!request.save_to.empty()) transfer.saving.emplace(std::move(request.save_to));
    transfer.response = FetchResponse{};
    transfer.error[0] = '\0';
    transfer.done = std::move(done);
    if (transfer.saving && options_.save_refused) {
      if (const std::optional<std::string> refused =
              options_.save_refused(transfer.saving->path())) {
        FailLater(transfer, SaveFailure(*refused));
        return;
      }
    }
    if (!StartResponse(transfer)) {
      FailLater(transfer, "could not start the request: no SHA-256 from OpenSSL");
      return;
    }

    if (std::string problem = SetRequest(transfer, request); !problem.empty()) {
      FailLater(transfer, "could not start the request: " + problem);
      return;
    }
    CURLcode code = SetUrl(transfer, request.url);
    if (code == CURLE_OK) {
      code = curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    }
    if (code == CURLE_OK) {
      code = curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                              static_cast<long>(request.connect_timeout.count()));
    }
    if (code == CURLE_OK) {
      // Over TLS, wait for the first connection's ALPN answer so HTTP/2 multiplexes instead
      // of opening a connection per request. Never over plain HTTP: there curl learns the
      // answer only from the first response's headers, so one slow response would hold back
      // every other fetch.
      // With HTTP/1.1 only there is nothing to wait for.
      const bool tls = strncasecmp(request.url.c_str(), "https:", 6) == 0;
      const bool http2 = options_.http_version != HttpVersion::kHttp11;
      code = curl_easy_setopt(easy, CURLOPT_PIPEWAIT, tls && http2 ? 1L : 0L);
    }
    if (code != CURLE_OK) {
      FailLater(transfer, fmt::format("could not start the request: {}", curl_easy_strerror(code)));
      return;
    }
    if (const CURLMcode added = curl_multi_add_handle(multi_.get(), easy); added != CURLM_OK) {
      FailLater(transfer,
                fmt::format("could not start the request: {}", curl_multi_strerror(added)));
      return;
    }
    transfer.active = true;
  }

  void CancelAll() {
    ++epoch_;
    for (auto& transfer : transfers_) {
      if (!transfer->active) continue;
      curl_multi_remove_handle(multi_.get(), transfer->easy.get());
      Release(*transfer);
    }
  }

  std::uint64_t connections_opened() const { return connections_opened_; }

 private:
  // The URL onto the transfer's handle, parsed once while a handle's fetches keep it: curl
  // parses a CURLOPT_URL string anew for every transfer (curl_url_set: 6% of the
  // instructions a request), a CURLOPT_CURLU handle only gets copied. It is parsed with the
  // flags curl parses CURLOPT_URL with (lib/url.c, parseurlandfillconn; CURLOPT_PATH_AS_IS
  // is set), so curl reads the same URL; one that does not parse goes as a string, for curl
  // to report as it always did. Redirects are parsed by curl, as before.
  static CURLcode SetUrl(Transfer& transfer, const std::string& text) {
    CURL* easy = transfer.easy.get();
    if (transfer.parsed && transfer.url_text == text) return CURLE_OK;  // still on `easy`
    if (!transfer.url) transfer.url.reset(curl_url());
    if (transfer.url && curl_url_set(transfer.url.get(), CURLUPART_URL, text.c_str(),
                                     CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME |
                                         CURLU_PATH_AS_IS) == CURLUE_OK) {
      transfer.url_text = text;
      transfer.parsed = true;
      return curl_easy_setopt(easy, CURLOPT_CURLU, transfer.url.get());
    }
    transfer.parsed = false;
    CURLcode code = curl_easy_setopt(easy, CURLOPT_CURLU, nullptr);
    if (code == CURLE_OK) code = curl_easy_setopt(easy, CURLOPT_URL, text.c_str());
    return code;
  }

  // Method, headers and body onto the transfer's handle, every option set each time since
  // handles are reused. Returns what is wrong with the request, or "" when it is set: never
  // a header value, which may be a secret.
  static std::string SetRequest(Transfer& transfer, FetchRequest& request) {
    CURL* easy = transfer.easy.get();
    const HttpMethod method = request.method;
    // curl would send the HEAD without it, and never say.
    if (method == HttpMethod::kHead && request.body) return "a HEAD request cannot send a body";
    bool named_expect = false;
    bool named_content_type = false;
    HeaderList list;
    for (std::size_t i = 0; i < request.headers.size(); ++i) {
      const auto& [name, value] = request.headers[i];
      if (!IsHttpToken(name)) return fmt::format("header {} has an invalid name", i + 1);
      if (!IsFieldValue(value)) {
        return fmt::format("header {} has a line break or NUL in its value", name);
      }
      named_expect = named_expect || EqualsIgnoringCase(name, "Expect");
      named_content_type = named_content_type || EqualsIgnoringCase(name, "Content-Type");
      // "Name:" would remove curl's header of that name; "Name;" sends it empty.
      const std::string line = value.empty() ? name + ";" : name + ": " + value;
      if (!Append(list, line.c_str())) return "out of memory";
    }
    const bool with_body = request.body.has_value() || method == HttpMethod::kPost ||
                           method == HttpMethod::kPut || method == HttpMethod::kPatch;
    // curl sends "Expect: 100-continue" before a large body and waits up to a second for a
    // 100 that many servers never send; and it labels every body a form.
    if (with_body && !named_expect && !Append(list, "Expect:")) return "out of memory";
    if (with_body && !named_content_type && !Append(list, "Content-Type:")) return "out of memory";
    transfer.header_list = std::move(list);
    if (request.body) transfer.body = std::move(*request.body);

    // Order matters: POSTFIELDS makes a POST, HTTPGET a GET, NOBODY a HEAD; the method
    // string (CUSTOMREQUEST) is set last, only where curl's own method differs.
    CURLcode code = curl_easy_setopt(easy, CURLOPT_POSTFIELDS, nullptr);
    if (code == CURLE_OK) {
      code = curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t{-1});
    }
    if (code == CURLE_OK) code = curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    if (code == CURLE_OK) {
      code = curl_easy_setopt(easy, CURLOPT_NOBODY, method == HttpMethod::kHead ? 1L : 0L);
    }
    if (code == CURLE_OK && with_body) {
      code = curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                              static_cast<curl_off_t>(transfer.body.size()));
      if (code == CURLE_OK) code = curl_easy_setopt(easy, CURLOPT_POSTFIELDS, transfer.body.data());
    }
    // curl's own methods: GET without a body, HEAD, POST. A custom one stays across
    // redirects (curl's rule), so POST is never one: a 303 must turn it into a GET.
    const bool custom = method == HttpMethod::kPut || method == HttpMethod::kPatch ||
                        method == HttpMethod::kDelete || (method == HttpMethod::kGet && with_body);
    if (code == CURLE_OK) {
      code =
          curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, custom ? NameOf(method).data() : nullptr);
    }
    if (code == CURLE_OK) {
      code = curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer.header_list.get());
    }
    if (code != CURLE_OK) return curl_easy_strerror(code);
    return "";
  }

  // --- curl callbacks: record and arm, never call back into curl ---

  static int OnSocket(CURL* /*easy*/, curl_socket_t fd, int what, void* self_pointer,
                      void* watch_pointer) {
    auto* self = static_cast<Impl*>(self_pointer);
    auto* watch = static_cast<Watch*>(watch_pointer);
    if (what == CURL_POLL_REMOVE) {
      if (watch != nullptr) self->Remove(*watch);
      return 0;
    }
    if (watch == nullptr) {
      watch = self->Unpark(fd);
      if (watch == nullptr) watch = self->NewWatch(fd);
      if (watch == nullptr) return -1;
    } else if (!watch->descriptor.is_open() && !Duplicate(*watch)) {
      return -1;  // curl closed it (OnCloseSocket) and now uses the number for a new socket
    }
    if ((what & CURL_POLL_IN) != 0) watch->asked_to_read = true;
    watch->wanted = what;
    self->Arm(watch->shared_from_this());
    return 0;
  }

  // Called with each new connection's SSL_CTX (curl 7.88 makes one per connection): an idle
  // connection gives its TLS read and write buffers back while it waits (measured with 1,000
  // open: 67 KB a connection instead of 81 KB).
  static CURLcode OnSslContext(CURL* /*easy*/, void* context, void* /*data*/) {
    SSL_CTX_set_mode(static_cast<SSL_CTX*>(context), SSL_MODE_RELEASE_BUFFERS);
    return CURLE_OK;
  }

  // Called instead of close() for a connection's socket once it is connected: our duplicate
  // goes with it, so that the connection closes now even if curl's REMOVE comes late or
  // never. A watched socket's Watch stays for that REMOVE; a parked one, already REMOVEd,
  // goes now, before its number can name another socket. (A socket still connecting is
  // closed by curl itself, never through here; its REMOVE follows.)
  static int OnCloseSocket(void* self_pointer, curl_socket_t fd) {
    auto* self = static_cast<Impl*>(self_pointer);
    if (const auto found = self->watches_.find(fd); found != self->watches_.end()) {
      if (found->second->parked) {
        self->Unwatch(*found->second, /*erase=*/true);
      } else {
        boost::system::error_code ignored;
        found->second->descriptor.close(ignored);
      }
    }
    return ::close(fd);
  }

  static int OnTimer(CURLM* /*multi*/, long timeout_ms, void* self_pointer) {
    static_cast<Impl*>(self_pointer)->WantTimeout(timeout_ms);
    return 0;
  }

  static std::size_t OnHeader(char* data, std::size_t /*size*/, std::size_t length,
                              void* transfer_pointer) {
    auto* transfer = static_cast<Transfer*>(transfer_pointer);
    const std::string_view line(data, length);
    constexpr std::string_view kRetryAfter = "retry-after:";
    if (line.starts_with("HTTP/")) {
      // A new response (after a redirect, or a 100 Continue): forget the previous one's.
      if (!StartResponse(*transfer)) return 0;  // curl fails the transfer: CURLE_WRITE_ERROR
    } else if (line.size() > kRetryAfter.size() &&
               strncasecmp(data, kRetryAfter.data(), kRetryAfter.size()) == 0) {
      // Now by system_clock (CLOCK_REALTIME), as dates are: std::time(nullptr) reads a coarse
      // clock in glibc, which can still show the second before one that has begun.
      transfer->retry_after =
          ParseRetryAfter(Trim(line.substr(kRetryAfter.size()), kBlanksAndLineBreaks),
                          std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()));
    }
    KeepHeader(*transfer, line);
    return length;
  }

  // A header a capture names: its value, the last one when it repeats.
  static void KeepHeader(Transfer& transfer, std::string_view line) {
    const std::vector<std::string>& wanted = transfer.keep.headers;
    if (wanted.empty()) return;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return;
    const std::string_view name = line.substr(0, colon);
    for (std::size_t i = 0; i < wanted.size() && i < transfer.response.headers.size(); ++i) {
      if (EqualsIgnoringCase(name, wanted[i])) {
        transfer.response.headers[i] =
            std::string(Trim(line.substr(colon + 1), kBlanksAndLineBreaks));
      }
    }
  }

  static std::size_t OnBody(char* data, std::size_t /*size*/, std::size_t length,
                            void* transfer_pointer) {
    // The body is counted, and kept or hashed only for captures: success is a 2xx read to
    // its end.
    auto* transfer = static_cast<Transfer*>(transfer_pointer);
    transfer->body_bytes += length;
    if (transfer->max_body && transfer->body_bytes > *transfer->max_body) {
      transfer->body_too_large = true;
      return 0;  // anything but `length` makes curl stop with CURLE_WRITE_ERROR
    }
    const ResponseParts& keep = transfer->keep;
    FetchResponse& response = transfer->response;
    if (keep.body && !response.body_over_limit) {
      if (transfer->body_bytes > keep.body_limit) {
        response.body_over_limit = true;
        std::string().swap(response.body);
      } else {
        response.body.append(data, length);
      }
    }
    if (keep.sha256 && EVP_DigestUpdate(transfer->digest.get(), data, length) != 1) return 0;
    if (transfer->saving &&
        !transfer->saving->Write(std::string_view(data, length), transfer->save_error)) {
      return 0;
    }
    return length;
  }

  // --- descriptors ---

  Watch* NewWatch(curl_socket_t fd) {
    auto watch = std::make_shared<Watch>(io_, fd);
    if (!Duplicate(*watch)) return nullptr;
    curl_multi_assign(multi_.get(), fd, watch.get());
    Watch* raw = watch.get();
    watches_[fd] = std::move(watch);
    return raw;
  }

  // Hands Asio a duplicate of curl's descriptor. Asio's close() of it (an assigned
  // descriptor may be a duplicate, Asio knows) takes it out of epoll first, then closes it.
  static bool Duplicate(Watch& watch) {
    const int own = ::fcntl(watch.fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0) return false;
    boost::system::error_code error;
    watch.descriptor.assign(own, error);
    if (error) {
      ::close(own);
      return false;
    }
    watch.internet = IsInternetSocket(own);
    return true;
  }

  // curl's REMOVE: a connected socket's Watch is parked (rule 7), any other one closed.
  // Waits still pending stay: they find nothing wanted, or serve the connection's next
  // request if it comes first.
  void Remove(Watch& watch) {
    if (watch.asked_to_read && watch.internet && watch.descriptor.is_open()) {
      watch.wanted = 0;
      watch.parked = true;
      return;
    }
    Unwatch(watch, /*erase=*/true);
  }

  // The parked Watch of the socket curl names again, if it has one.
  Watch* Unpark(curl_socket_t fd) {
    const auto found = watches_.find(fd);
    if (found == watches_.end()) return nullptr;
    Watch& watch = *found->second;
    if (!watch.parked) {
      // Not ours to reuse: curl has let go of this number without a word (rule 2).
      Unwatch(watch, /*erase=*/true);
      return nullptr;
    }
    watch.parked = false;
    curl_multi_assign(multi_.get(), fd, &watch);
    return &watch;
  }

  // Asked of our duplicate, never of curl's number: once a Watch, not at every REMOVE.
  static bool IsInternetSocket(int own) {
    int domain = 0;
    socklen_t length = sizeof domain;
    return ::getsockopt(own, SOL_SOCKET, SO_DOMAIN, &domain, &length) == 0 &&
           (domain == AF_INET || domain == AF_INET6);
  }

  void Unwatch(Watch& watch, bool erase) {
    watch.removed = true;
    boost::system::error_code ignored;
    watch.descriptor.close(ignored);      // pending waits end with operation_aborted
    if (erase) watches_.erase(watch.fd);  // may destroy `watch`: last use
  }

  void Arm(const std::shared_ptr<Watch>& watch) {
    using Wait = asio::posix::descriptor_base::wait_type;
    const auto arm = [this, &watch](int poll_bit, bool Watch::*pending, Wait wait, int select) {
      if ((watch->wanted & poll_bit) == 0 || watch.get()->*pending) return;
      if (!watch->descriptor.is_open()) return;  // closed by curl; its REMOVE is to come
      watch.get()->*pending = true;
      watch->descriptor.async_wait(
          wait, [this, watch, poll_bit, pending, select](const boost::system::error_code& error) {
            watch.get()->*pending = false;
            if (error || watch->removed || (watch->wanted & poll_bit) == 0) return;
            Act(watch->fd, select);
            if (!watch->removed) Arm(watch);
          });
    };
    arm(CURL_POLL_IN, &Watch::read_pending, asio::posix::descriptor_base::wait_read,
        CURL_CSELECT_IN);
    arm(CURL_POLL_OUT, &Watch::write_pending, asio::posix::descriptor_base::wait_write,
        CURL_CSELECT_OUT);
  }

  // --- curl's timeout ---
  //
  // curl moves its timeout on nearly every call (each added handle asks for "now"), and
  // every move of an Asio timer's earliest expiry is a timerfd_settime: a fifth of the
  // process's time in a profile. So "now" is a posted call, and the timer is only ever
  // moved earlier; when it fires before curl's time it is re-armed for that.

  void WantTimeout(long timeout_ms) {
    if (timeout_ms < 0) {
      // Nothing to time: cancelled for real, so a finished run leaves no work behind.
      wanted_.reset();
      if (armed_) {
        armed_.reset();
        timer_.cancel();
      }
      return;
    }
    const auto now = std::chrono::steady_clock::now();
    wanted_ = now + std::chrono::milliseconds(timeout_ms);
    if (timeout_ms == 0) {
      if (!timeout_posted_) {
        timeout_posted_ = true;
        asio::post(io_, [this] {
          timeout_posted_ = false;
          OnTimeout();
        });
      }
      return;
    }
    ArmFor(*wanted_);
  }

  void ArmFor(std::chrono::steady_clock::time_point when) {
    if (armed_ && *armed_ <= when) return;  // fires in time; re-armed then if still needed
    armed_ = when;
    timer_.expires_at(when);
    timer_.async_wait([this](const boost::system::error_code& error) {
      if (error) return;  // moved or cancelled
      armed_.reset();
      OnTimeout();
    });
  }

  void OnTimeout() {
    if (wanted_ && *wanted_ <= std::chrono::steady_clock::now()) {
      Act(CURL_SOCKET_TIMEOUT, 0);
      // curl does not repeat a timeout it already named, so ask it rather than assume the
      // one just served is gone.
      long timeout_ms = -1;
      curl_multi_timeout(multi_.get(), &timeout_ms);
      WantTimeout(timeout_ms);
      return;
    }
    if (wanted_ && !timeout_posted_) ArmFor(*wanted_);
  }

  // --- driving curl ---

  void Act(curl_socket_t fd, int select) {
    int running = 0;
    const CURLMcode code = curl_multi_socket_action(multi_.get(), fd, select, &running);
    // CURLM_BAD_SOCKET: an fd curl already let go of; benign. Anything else leaves the multi
    // handle in an unknown state, so every fetch in it fails.
    if (code != CURLM_OK && code != CURLM_BAD_SOCKET) {
      FailAll(fmt::format("curl_multi_socket_action: {}", curl_multi_strerror(code)));
      return;
    }
    DeliverFinished();
  }

  void DeliverFinished() {
    struct Finished {
      Callback done;
      FetchResult result;
    };
    std::vector<Finished> finished;
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_.get(), &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      CURL* easy = message->easy_handle;
      const CURLcode code = message->data.result;
      auto* transfer = reinterpret_cast<Transfer*>(Info<char*>(easy, CURLINFO_PRIVATE));
      connections_opened_ += static_cast<std::uint64_t>(Info<long>(easy, CURLINFO_NUM_CONNECTS));
      FetchResult result = Describe(*transfer, code);
      if (result.http_status != 0) TakeResponse(*transfer, result);
      if (result.ok() && transfer->saving) Save(*transfer, result);
      curl_multi_remove_handle(multi_.get(), easy);  // `message` dies here
      finished.push_back({std::move(transfer->done), std::move(result)});
      Release(*transfer);
    }
    // Callbacks last: they may start fetches or cancel everything.
    const std::uint64_t epoch = epoch_;
    for (Finished& f : finished) {
      if (epoch_ != epoch) break;
      f.done(f.result);
    }
  }

  void FailAll(const std::string& message) {
    std::vector<Callback> callbacks;
    for (auto& transfer : transfers_) {
      if (!transfer->active) continue;
      curl_multi_remove_handle(multi_.get(), transfer->easy.get());
      callbacks.push_back(std::move(transfer->done));
      Release(*transfer);
    }
    const FetchResult result{FetchFailure::kOther, 0, message, std::nullopt, {}};
    const std::uint64_t epoch = epoch_;
    for (Callback& done : callbacks) {
      if (epoch_ != epoch) break;
      done(result);
    }
  }

  // Completes a fetch that never reached curl, from the event loop as promised.
  void FailLater(Transfer& transfer, std::string message) {
    asio::post(
        io_, [this, epoch = epoch_, done = std::move(transfer.done),
              result = FetchResult{FetchFailure::kOther, 0, std::move(message), std::nullopt, {}}] {
          if (epoch_ == epoch) done(result);
        });
    Release(transfer);
  }

  // --- transfers ---

  Transfer& Acquire() {
    if (!idle_.empty()) {
      Transfer* transfer = idle_.back();
      idle_.pop_back();
      return *transfer;
    }
    auto transfer = std::make_unique<Transfer>();
    transfer->easy.reset(curl_easy_init());
    if (!transfer->easy) throw std::runtime_error("curl_easy_init failed");
    CURL* easy = transfer->easy.get();
    SetOption(easy, CURLOPT_PRIVATE, transfer.get());
    SetOption(easy, CURLOPT_ERRORBUFFER, transfer->error);
    SetOption(easy, CURLOPT_WRITEFUNCTION, &Impl::OnBody);
    SetOption(easy, CURLOPT_WRITEDATA, transfer.get());
    SetOption(easy, CURLOPT_HEADERFUNCTION, &Impl::OnHeader);
    SetOption(easy, CURLOPT_HEADERDATA, transfer.get());
    SetOption(easy, CURLOPT_NOSIGNAL, 1L);  // the process ignores SIGPIPE instead
    SetOption(easy, CURLOPT_CLOSESOCKETFUNCTION, &Impl::OnCloseSocket);
    SetOption(easy, CURLOPT_CLOSESOCKETDATA, this);
    SetOption(easy, CURLOPT_FOLLOWLOCATION, 1L);
    SetOption(easy, CURLOPT_MAXREDIRS, 10L);
    SetOption(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    SetOption(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SetOption(easy, CURLOPT_USERAGENT, options_.user_agent.c_str());
    // The path goes as the template made it, curl removing no "." or ".." segment: a value
    // that would make one is encoded (%2E, template.h), and the template's own were removed
    // when it was read, so none of them can move the request out of the path it names.
    SetOption(easy, CURLOPT_PATH_AS_IS, 1L);
    // Removing a handle mid-resolve must not wait for the resolver thread (cancellation).
    SetOption(easy, CURLOPT_QUICK_EXIT, 1L);
    // The proxy: libcurl takes it from http_proxy, https_proxy, all_proxy and no_proxy (and
    // their capitals but HTTP_PROXY), reading them with getenv for every transfer. They were
    // read once instead: with none set, "" says no proxy and curl reads nothing (five getenv
    // a request, 2% of the instructions); with one set, curl reads them as before, since
    // which one applies depends on the scheme of each URL, redirects included. no_proxy,
    // which curl reads first and for every scheme, is handed over as read.
    if (!proxy_environment_.any) SetOption(easy, CURLOPT_PROXY, "");
    SetOption(easy, CURLOPT_NOPROXY,
              proxy_environment_.no_proxy ? proxy_environment_.no_proxy->c_str() : "");
    // TLS and the HTTP version, as curl's --cacert, -k, --http1.1 and --http2 set them.
    //
    // The CAs come from one file (--cacert or the system's bundle), never also from a
    // directory (Debian's libcurl adds /etc/ssl/certs as CURLOPT_CAPATH): with a directory
    // curl builds the CA store anew for every connection, reading and parsing the whole
    // bundle, 55 ms of CPU and 0.8 MB a connection with the system's; from a file alone it
    // builds the store once and shares it (curl's CA cache). Debian's bundle holds the same
    // CAs as the directory.
    if (!options_.ca_file.empty()) SetOption(easy, CURLOPT_CAINFO, options_.ca_file.c_str());
    SetOption(easy, CURLOPT_CAPATH, static_cast<const char*>(nullptr));
    SetOption(easy, CURLOPT_SHARE, share_.get());
    SetOption(easy, CURLOPT_SSL_CTX_FUNCTION, &Impl::OnSslContext);
    if (options_.insecure) {
      SetOption(easy, CURLOPT_SSL_VERIFYPEER, 0L);
      SetOption(easy, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    switch (options_.http_version) {
      case HttpVersion::kDefault:
        break;  // libcurl 7.88's CURL_HTTP_VERSION_2TLS
      case HttpVersion::kHttp11:
        SetOption(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
        break;
      case HttpVersion::kHttp2:
        SetOption(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2_0));
        break;
    }
    transfers_.push_back(std::move(transfer));
    return *transfers_.back();
  }

  void Release(Transfer& transfer) {
    transfer.active = false;
    transfer.done = nullptr;
    // The handle lets go of the header list and the body before they are freed.
    curl_easy_setopt(transfer.easy.get(), CURLOPT_HTTPHEADER, nullptr);
    curl_easy_setopt(transfer.easy.get(), CURLOPT_POSTFIELDS, nullptr);
    transfer.header_list.reset();
    std::string().swap(transfer.body);
    transfer.expect.clear();
    transfer.secrets.clear();
    transfer.keep = ResponseParts{};
    transfer.response = FetchResponse{};
    transfer.saving.reset();  // a body not saved goes with its temporary file
    transfer.save_error.clear();
    idle_.push_back(&transfer);
  }

  // --- results ---

  // What the transfer kept of its final response, and what it knows of every one.
  static void TakeResponse(Transfer& transfer, FetchResult& result) {
    CURL* easy = transfer.easy.get();
    FetchResponse& response = transfer.response;
    response.size = transfer.body_bytes;
    response.time = std::chrono::microseconds(Info<curl_off_t>(easy, CURLINFO_TOTAL_TIME_T));
    if (transfer.keep.url) response.url = UrlWithoutPassword(easy);
    if (transfer.keep.sha256) response.sha256 = HexDigest(transfer.digest.get());
    result.response = std::move(response);
  }

  // Makes the file of a successful fetch's body; a fetch whose file cannot be made fails.
  static void Save(Transfer& transfer, FetchResult& result) {
    std::string error;
    if (transfer.saving->Commit(error)) return;
    result.failure = FetchFailure::kOther;
    result.message = SaveFailure(error);
  }

  // What a finished transfer means (DescribeTransfer), from what it recorded and what its
  // handle says; the facts of a failure are read only for a failure.
  static FetchResult Describe(const Transfer& transfer, CURLcode code) {
    CURL* easy = transfer.easy.get();
    TransferFacts facts;
    facts.expect = transfer.expect;
    facts.retry_after = transfer.retry_after;
    facts.timeout = transfer.timeout;
    facts.connect_timeout = transfer.connect_timeout;
    facts.max_body = transfer.max_body;
    facts.body_too_large = transfer.body_too_large;
    facts.save_error = transfer.save_error;
    if (code == CURLE_OK) {
      return DescribeTransfer(code, static_cast<int>(Info<long>(easy, CURLINFO_RESPONSE_CODE)),
                              facts);
    }
    const UrlParts url = PartsOf(easy);
    facts.os_errno = static_cast<int>(Info<long>(easy, CURLINFO_OS_ERRNO));
    facts.sent = Info<curl_off_t>(easy, CURLINFO_PRETRANSFER_TIME_T) > 0;
    facts.redirects = Info<long>(easy, CURLINFO_REDIRECT_COUNT);
    facts.error = transfer.error;
    facts.host = url.host;
    facts.password = url.password;
    facts.secrets = transfer.secrets;
    return DescribeTransfer(code, 0, facts);
  }

  asio::io_context& io_;
  CurlHttpClientOptions options_;
  const ProxyEnvironment proxy_environment_ = ReadProxyEnvironment();
  asio::steady_timer timer_;
  std::optional<std::chrono::steady_clock::time_point> wanted_;  // when curl wants its call
  std::optional<std::chrono::steady_clock::time_point> armed_;   // when timer_ fires
  bool timeout_posted_ = false;
  std::unordered_map<curl_socket_t, std::shared_ptr<Watch>> watches_;
  ShareHandle share_{curl_share_init()};  // TLS sessions; outlives the handles that use it
  std::vector<std::unique_ptr<Transfer>> transfers_;
  std::vector<Transfer*> idle_;
  MultiHandle multi_;        // its cleanup calls back into the members above
  std::uint64_t epoch_ = 0;  // bumped by CancelAll: callbacks from before it are dropped
  std::uint64_t connections_opened_ = 0;
};

CurlHttpClient::CurlHttpClient(boost::asio::io_context& io, CurlHttpClientOptions options)
    : impl_(std::make_unique<Impl>(io, std::move(options))) {}

CurlHttpClient::~CurlHttpClient() = default;

void CurlHttpClient::Fetch(FetchRequest request, Callback done) {
  impl_->Fetch(std::move(request), std::move(done));
}

void CurlHttpClient::CancelAll() { impl_->CancelAll(); }

std::uint64_t CurlHttpClient::connections_opened() const { return impl_->connections_opened(); }

std::function<std::unique_ptr<HttpClient>(boost::asio::io_context&)> CurlEngines(
    CurlHttpClientOptions options) {
  return [options = std::move(options)](boost::asio::io_context& io) {
    return std::unique_ptr<HttpClient>(std::make_unique<CurlHttpClient>(io, options));
  };
}

}  // namespace orchestrator
