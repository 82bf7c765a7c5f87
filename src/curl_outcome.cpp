#include "orchestrator/curl_outcome.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "orchestrator/byte_size.h"
#include "orchestrator/http_status.h"
#include "orchestrator/text.h"

namespace orchestrator {
namespace {

// Text from outside (curl's error buffer, which may quote the server) made safe for a CSV
// cell and a terminal: no control characters (C0, DEL, C1), no bidi controls and no bytes
// that are not UTF-8 (AppendTerminalSafe, as spaces), no password or other secret, at most
// 160 bytes.
// `secrets` longest first, so that a secret containing another is masked whole.
std::string Sanitize(std::string_view text, std::string_view password,
                     std::span<const std::string> secrets = {}) {
  constexpr std::size_t kMaxSize = 160;
  std::string masked;
  for (std::size_t i = 0; i < text.size() && masked.size() < kMaxSize; ++i) {
    const std::string_view rest = text.substr(i);
    std::size_t secret_size = !password.empty() && rest.starts_with(password) ? password.size() : 0;
    for (const std::string& secret : secrets) {
      if (secret_size == 0 && rest.starts_with(secret)) secret_size = secret.size();
    }
    if (secret_size > 0) {
      masked += "***";
      i += secret_size - 1;
      continue;
    }
    masked += text[i];
  }
  // Cut at kMaxSize bytes, the last character whole: its first byte is not a continuation.
  std::size_t size = masked.size();
  if (size > kMaxSize) {
    size = kMaxSize;
    while (size > kMaxSize - 3 && (static_cast<unsigned char>(masked[size]) & 0xc0) == 0x80) --size;
    masked.resize(size);
  }
  std::string clean = TerminalSafe(masked, UnsafeShownAs::kSpace);
  while (!clean.empty() && clean.back() == ' ') clean.pop_back();
  return clean;
}

}  // namespace

std::string SaveFailure(std::string_view error) {
  return "could not save the body: " + TerminalSafe(error, UnsafeShownAs::kReplacementCharacter);
}

FetchResult DescribeTransfer(CURLcode code, int http_status, const TransferFacts& facts) {
  FetchResult result;
  result.retry_after = facts.retry_after;
  if (code == CURLE_OK) {
    result.http_status = http_status;
    const bool expected = facts.expect.empty()
                              ? result.http_status >= 200 && result.http_status <= 299
                              : std::find(facts.expect.begin(), facts.expect.end(),
                                          result.http_status) != facts.expect.end();
    if (!expected) {
      result.failure = FetchFailure::kHttpStatus;
      result.message = DescribeHttpStatus(result.http_status);
    }
    return result;
  }

  const int os_errno = facts.os_errno;
  const std::string detail = Sanitize(facts.error, facts.password, facts.secrets);
  const auto with_detail = [&](std::string_view what) {
    return detail.empty() ? std::string(what) : fmt::format("{} ({})", what, detail);
  };
  const auto set = [&](FetchFailure failure, std::string message) {
    result.failure = failure;
    result.message = std::move(message);
  };

  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
      set(FetchFailure::kDns,
          fmt::format("could not resolve host {}", Sanitize(facts.host, "", facts.secrets)));
      break;
    case CURLE_COULDNT_RESOLVE_PROXY:
      set(FetchFailure::kDns, with_detail("could not resolve proxy"));
      break;
    case CURLE_COULDNT_CONNECT:
      switch (os_errno) {
        case ECONNREFUSED:
          set(FetchFailure::kConnect, "connection refused");
          break;
        case ENETUNREACH:
          set(FetchFailure::kConnect, "network unreachable");
          break;
        case EHOSTUNREACH:
          set(FetchFailure::kConnect, "host unreachable");
          break;
        case EMFILE:
        case ENFILE:
          set(FetchFailure::kConnect, "out of file descriptors (too many open files)");
          break;
        case EADDRNOTAVAIL:
          set(FetchFailure::kConnect, "no local port free to connect from");
          break;
        default:
          set(FetchFailure::kConnect,
              os_errno != 0 ? fmt::format("could not connect: {}", std::strerror(os_errno))
                            : with_detail("could not connect"));
      }
      break;
    case CURLE_OPERATION_TIMEDOUT: {
      // Nothing sent yet and a connect limit below the overall one: the connect limit hit.
      if (!facts.sent && facts.connect_timeout < facts.timeout) {
        set(FetchFailure::kTimeout,
            fmt::format("connect timed out after {}", FormatDuration(facts.connect_timeout)));
      } else {
        set(FetchFailure::kTimeout,
            fmt::format("timed out after {}", FormatDuration(facts.timeout)));
      }
      break;
    }
    case CURLE_GOT_NOTHING:
      set(FetchFailure::kConnectionLost, "empty reply from server");
      break;
    case CURLE_PARTIAL_FILE:
      set(FetchFailure::kConnectionLost, "connection closed before the end of the body");
      break;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
      if (detail.find("Too large response headers") != std::string::npos) {
        // curl 7.88 stops reading response headers at 300 KiB in all.
        set(FetchFailure::kProtocol, "response headers too large (over 300 KiB)");
      } else if (os_errno == ECONNRESET) {
        set(FetchFailure::kConnectionLost, "connection reset by peer");
      } else if (os_errno == EPIPE) {
        set(FetchFailure::kConnectionLost, "connection closed by peer");
      } else {
        set(FetchFailure::kConnectionLost,
            with_detail(code == CURLE_RECV_ERROR ? "receive failed" : "send failed"));
      }
      break;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING:
      set(FetchFailure::kProtocol, with_detail("invalid HTTP response"));
      break;
    case CURLE_TOO_MANY_REDIRECTS:
      set(FetchFailure::kRedirect, "too many redirects (more than 10)");
      break;
    case CURLE_UNSUPPORTED_PROTOCOL:
      if (detail.find("HTTP/0.9") != std::string::npos) {
        // Bytes that are not an HTTP status line: curl takes them for HTTP/0.9.
        set(FetchFailure::kProtocol, "invalid HTTP response (no HTTP status line)");
      } else if (facts.redirects > 0) {
        set(FetchFailure::kRedirect,
            "redirected to a scheme other than http or https (not followed)");
      } else {
        set(FetchFailure::kOther, with_detail("unsupported protocol"));
      }
      break;
    case CURLE_PEER_FAILED_VERIFICATION: {
      constexpr std::string_view kPrefix = "SSL certificate problem: ";
      std::string_view reason = detail;
      if (reason.starts_with(kPrefix)) reason.remove_prefix(kPrefix.size());
      set(FetchFailure::kTls, reason.empty() ? "TLS: certificate verify failed"
                                             : fmt::format("TLS: certificate verify failed "
                                                           "({})",
                                                           reason));
      break;
    }
    case CURLE_SSL_CONNECT_ERROR:
      set(FetchFailure::kTls, with_detail("TLS: handshake failed"));
      break;
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_USE_SSL_FAILED:
      set(FetchFailure::kTls, with_detail("TLS error"));
      break;
    case CURLE_WRITE_ERROR:
      if (facts.body_too_large) {
        set(FetchFailure::kTooLarge, fmt::format("response body larger than {} (--max-body)",
                                                 FormatByteSize(facts.max_body.value_or(0))));
        break;
      }
      if (!facts.save_error.empty()) {
        set(FetchFailure::kOther, SaveFailure(facts.save_error));
        break;
      }
      [[fallthrough]];
    default:
      set(FetchFailure::kOther, with_detail(curl_easy_strerror(code)));
  }
  return result;
}

}  // namespace orchestrator
