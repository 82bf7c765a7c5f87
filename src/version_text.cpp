#include "orchestrator/version_text.h"

#include <curl/curl.h>
#include <fmt/core.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include <toml++/impl/version.h>
#include <CLI/Version.hpp>
#include <boost/version.hpp>
#include <string>
#include <string_view>

#include "orchestrator/version.h"

namespace orchestrator {

std::string VersionText() {
  std::string text = fmt::format("orchestrator {} (git {})\n", kVersion, kGitCommit);
  const curl_version_info_data* curl = curl_version_info(CURLVERSION_NOW);
  text += fmt::format("libcurl {}", curl->version);
  std::string parts;  // what it was built with: "OpenSSL/3.0.15, nghttp2/1.52.0"
  const auto add = [&](std::string_view prefix, const char* version) {
    if (version == nullptr || *version == '\0') return;
    parts += fmt::format("{}{}{}", parts.empty() ? "" : ", ", prefix, version);
  };
  add("", curl->ssl_version);
  add("nghttp2/", curl->nghttp2_version);
  add("zlib/", curl->libz_version);
  if (!parts.empty()) text += " (" + parts + ")";
  text += '\n';
  text += fmt::format("Boost {}.{}.{}, toml++ {}.{}.{}, fmt {}.{}.{}, CLI11 {}, OpenSSL {}",
                      BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100,
                      TOML_LIB_MAJOR, TOML_LIB_MINOR, TOML_LIB_PATCH, FMT_VERSION / 10000,
                      FMT_VERSION / 100 % 100, FMT_VERSION % 100, CLI11_VERSION,
                      OpenSSL_version(OPENSSL_VERSION_STRING));
  return text;
}

}  // namespace orchestrator
