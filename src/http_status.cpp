#include "orchestrator/http_status.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>

namespace orchestrator {
namespace {

// A wait of `seconds` (0 or more), saturated at 2^40 s (some 35,000 years): far beyond any
// wait honoured, and its milliseconds fit in a Duration. Those of 9.2e15 s and more do not:
// unsaturated, they overflowed (undefined) and wrapped, maybe to a short wait.
Duration WaitOfSeconds(std::int64_t seconds) {
  constexpr std::int64_t kLongest = std::int64_t{1} << 40;
  return std::chrono::duration_cast<Duration>(std::chrono::seconds(std::min(seconds, kLongest)));
}

}  // namespace

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 203:
      return "Non-Authoritative Information";
    case 204:
      return "No Content";
    case 205:
      return "Reset Content";
    case 206:
      return "Partial Content";
    case 300:
      return "Multiple Choices";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 407:
      return "Proxy Authentication Required";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 418:
      return "I'm a teapot";
    case 421:
      return "Misdirected Request";
    case 422:
      return "Unprocessable Content";
    case 423:
      return "Locked";
    case 424:
      return "Failed Dependency";
    case 425:
      return "Too Early";
    case 426:
      return "Upgrade Required";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 451:
      return "Unavailable For Legal Reasons";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    case 506:
      return "Variant Also Negotiates";
    case 507:
      return "Insufficient Storage";
    case 508:
      return "Loop Detected";
    case 510:
      return "Not Extended";
    case 511:
      return "Network Authentication Required";
    default:
      return "";
  }
}

std::string DescribeHttpStatus(int status) {
  const std::string_view phrase = ReasonPhrase(status);
  if (phrase.empty()) return fmt::format("HTTP {}", status);
  return fmt::format("HTTP {} {}", status, phrase);
}

std::optional<Duration> ParseRetryAfter(std::string_view value, std::time_t now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;

  if (value.find_first_not_of("0123456789") == std::string_view::npos) {
    std::int64_t seconds = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    // A huge number is still "wait very long": saturate rather than refuse.
    if (error == std::errc::result_out_of_range)
      seconds = std::numeric_limits<std::int64_t>::max();
    else if (error != std::errc() || end != value.data() + value.size())
      return std::nullopt;
    return WaitOfSeconds(seconds);
  }

  // An HTTP-date; curl_getdate reads the three formats RFC 9110 allows.
  const std::string date(value);
  const std::time_t when = curl_getdate(date.c_str(), nullptr);
  if (when == -1) return std::nullopt;
  if (when <= now) return Duration(0);
  return WaitOfSeconds(static_cast<std::int64_t>(when) - static_cast<std::int64_t>(now));
}

}  // namespace orchestrator
