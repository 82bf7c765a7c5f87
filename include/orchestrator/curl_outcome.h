// What a finished curl transfer means for the run: the classifier that turns curl's result
// code and the facts of the transfer into a FetchResult (a kind of failure and a short
// message for people). Pure, so that a table of cases can test it without a network.
#ifndef ORCHESTRATOR_CURL_OUTCOME_H_
#define ORCHESTRATOR_CURL_OUTCOME_H_

#include <curl/curl.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "orchestrator/duration.h"
#include "orchestrator/http_client.h"

namespace orchestrator {

/// What the engine knows of a finished transfer besides curl's code and the HTTP status.
/// Views into the caller's data, which must outlive the call.
struct TransferFacts {
  /// The statuses that count as success (FetchRequest::expect); empty: any 2xx.
  std::span<const int> expect;
  /// The server's Retry-After, if it sent one: carried into the result as it is.
  std::optional<Duration> retry_after;
  /// The attempt's limits, as the request set them (CURLOPT_TIMEOUT_MS, CONNECTTIMEOUT_MS).
  Duration timeout{0};
  Duration connect_timeout{0};
  /// The body limit in force, and whether the body went past it (the write callback
  /// stopped the transfer).
  std::optional<std::uint64_t> max_body;
  bool body_too_large = false;
  /// Why the body could not be written to its file (FetchRequest::save_to), if it could not.
  std::string_view save_error;
  /// The facts read only when the transfer failed:
  int os_errno = 0;                      ///< CURLINFO_OS_ERRNO
  bool sent = false;                     ///< the request went out (CURLINFO_PRETRANSFER_TIME_T > 0)
  long redirects = 0;                    ///< CURLINFO_REDIRECT_COUNT
  std::string_view error;                ///< curl's error buffer (CURLOPT_ERRORBUFFER), maybe ""
  std::string_view host;                 ///< the host of the URL it ended on
  std::string_view password;             ///< the password of the URL it ended on, maybe ""
  std::span<const std::string> secrets;  ///< HeaderSecrets of the request, longest first
};

/// The result of a transfer that curl finished with `code`, the final response's status
/// being `http_status` (read only when `code` is CURLE_OK). CURLE_OK is a success when the
/// status is expected, else kHttpStatus with "HTTP 503 Service Unavailable". Any other code
/// is a failure of the kind retry decisions need (kDns, kConnect, kTimeout, ...) with a short
/// message in our words, naming curl's error text only where it adds something; no message
/// holds a control character, the URL's password or any of `secrets`, and curl's text in it
/// is cut to 160 characters. The result has http_status 0 then, and always the Retry-After.
FetchResult DescribeTransfer(CURLcode code, int http_status, const TransferFacts& facts);

/// The message of a fetch whose body could not be saved: "could not save the body: " and
/// BodyFile's error (`bodies/7.json: No space left on device`), made terminal-safe.
std::string SaveFailure(std::string_view error);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_CURL_OUTCOME_H_
