#include "orchestrator/url.h"

#include <curl/curl.h>
#include <memory>

#include "orchestrator/input_error.h"

namespace orchestrator {
namespace {

struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
using UrlHandle = std::unique_ptr<CURLU, UrlDeleter>;

struct CurlString {
  char* text = nullptr;
  ~CurlString() { curl_free(text); }
};

UrlHandle Parse(std::string_view text) {
  UrlHandle url(curl_url());
  if (!url) return nullptr;
  const std::string copy(text);
  if (curl_url_set(url.get(), CURLUPART_URL, copy.c_str(), 0) != CURLUE_OK) return nullptr;
  return url;
}

}  // namespace

CheckResult CheckFetchUrl(std::string_view text) {
  if (text.empty()) return "the URL is empty";
  const UrlHandle url = Parse(text);
  if (!url) return "not a valid absolute URL: " + RedactUrl(text);
  CurlString scheme;
  curl_url_get(url.get(), CURLUPART_SCHEME, &scheme.text, 0);
  const std::string_view name = scheme.text != nullptr ? scheme.text : "";
  if (name != "http" && name != "https") {
    return "only http and https URLs are supported: " + RedactUrl(text);
  }
  CurlString host;
  if (curl_url_get(url.get(), CURLUPART_HOST, &host.text, 0) != CURLUE_OK) {
    return "the URL has no host: " + RedactUrl(text);
  }
  return kPassed;
}

std::string WithGuessedScheme(std::string_view text) {
  if (text.empty() || text.front() == '{') return std::string(text);
  // RFC 3986's scheme: a letter, then letters, digits, + - and .
  const auto is_scheme_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '-' || c == '.';
  };
  std::size_t end = 0;
  while (end < text.size() && is_scheme_char(text[end])) ++end;
  const bool starts_with_letter =
      (text.front() >= 'a' && text.front() <= 'z') || (text.front() >= 'A' && text.front() <= 'Z');
  if (end > 0 && starts_with_letter && text.substr(end).starts_with("://")) {
    return std::string(text);
  }
  return "http://" + std::string(text);
}

std::string RedactUrl(std::string_view text) {
  const UrlHandle url = Parse(text);
  if (!url) {
    // Not parseable, so we cannot tell where a password would be: drop all up to the last "@".
    const auto at = text.rfind('@');
    if (at == std::string_view::npos) return QuoteForMessage(text, 200);
    return "***@" + QuoteForMessage(text.substr(at + 1), 200);
  }
  CurlString password;
  if (curl_url_get(url.get(), CURLUPART_PASSWORD, &password.text, 0) == CURLUE_OK) {
    curl_url_set(url.get(), CURLUPART_PASSWORD, "***", 0);
  }
  CurlString shown;
  curl_url_get(url.get(), CURLUPART_URL, &shown.text, 0);
  return shown.text != nullptr ? std::string(shown.text) : std::string();
}

}  // namespace orchestrator
