// Which pieces of HTTP header values never appear in a message: the one rule that the usage
// errors (the -H templates on the command line, options.cpp) and the fetch errors (the values
// sent, curl_http_client.cpp) both follow.
#ifndef ORCHESTRATOR_SECRETS_H_
#define ORCHESTRATOR_SECRETS_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace orchestrator {

/// What the header values given to HeaderSecrets are.
enum class HeaderValues : std::uint8_t {
  kSent,       ///< Values as sent: every piece is a secret.
  kTemplates,  ///< -H templates: a word that is one placeholder ("{token}") is none, since the
               ///< row's value is not on the command line, and a template error names it.
};

/// The pieces of `values` that a message must mask: each value with the blanks around it
/// trimmed, and each of its words (split at spaces and tabs); each piece also without the
/// blanks, carriage returns and line feeds around it. "Bearer abc123" gives "Bearer abc123",
/// "Bearer" and "abc123". A piece under 4 characters is no secret ("1" or "en" would garble
/// a message and hide nothing), nor, with kTemplates, a word that is one placeholder: "{",
/// a name without braces or blanks, "}".
///
/// Longest first, so that masking the first one that matches masks a secret that contains
/// another whole; no piece twice.
std::vector<std::string> HeaderSecrets(std::span<const std::string_view> values, HeaderValues kind);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_SECRETS_H_
