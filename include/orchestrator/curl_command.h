// A request as a shell command line that makes the curl tool send it as a run would (--dry-run).
#ifndef ORCHESTRATOR_CURL_COMMAND_H_
#define ORCHESTRATOR_CURL_COMMAND_H_

#include <optional>
#include <string>
#include <string_view>

#include "orchestrator/http_client.h"

namespace orchestrator {

/// `text` as one word of a shell: bare when it is made of [A-Za-z0-9_@%+=:,./-] only, else in
/// single quotes ('it'\''s'), as any POSIX shell reads them. A word with any byte outside
/// printable ASCII (a control character, DEL, a line break, any byte of 0x80 and up) is written
/// with ANSI-C quoting instead, every such byte as \xHH (`$'a\x0ab'`), which bash, zsh and ksh
/// read (an older dash does not), so that no control character reaches a terminal and `$`,
/// backticks and quotes never leave the word.
/// A NUL, which no word can hold, is written as `\x00`, which bash reads as the word's end.
std::string ShellWord(std::string_view text);

/// What the engine sets beyond the request itself, as CurlHttpClientOptions says it.
struct CurlCommandSettings {
  std::string user_agent;  ///< "orchestrator/VERSION"
  std::string ca_file;     ///< --cacert ("" = the system's CAs)
  bool insecure = false;   ///< -k
  HttpVersion http_version = HttpVersion::kDefault;
};

/// The curl command line (one line, no line feed) that sends `request` as CurlHttpClient does:
/// the method, URL, headers (curl's own Expect and Content-Type taken off for a body, as the
/// engine does), body, User-Agent, redirects (10, http and https only), the path as is, the
/// timeouts, --http1.1 or --http2, -k and --cacert. A body with a NUL byte comes from a
/// `printf '...' |` in front of curl (`--data-binary @-`); any other as `--data-raw WORD`.
/// The saved file (`save_to`) is not part of it.
///
/// Or, as the engine would refuse the request before sending it, why not: a header name
/// that is not a token, a header value with CR, LF or NUL, a HEAD with a body. (A URL with a
/// control character never gets here: templates refuse it.)
struct CurlCommand {
  std::string line;     ///< when `problem` is empty
  std::string problem;  ///< as the engine words it
};
CurlCommand CurlCommandOf(const FetchRequest& request, const CurlCommandSettings& settings);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_CURL_COMMAND_H_
