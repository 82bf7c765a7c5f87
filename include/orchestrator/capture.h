// Captures: what a fetch keeps of its response for the result row (`price = "json:/price"`).
#ifndef ORCHESTRATOR_CAPTURE_H_
#define ORCHESTRATOR_CAPTURE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "orchestrator/captured_values.h"
#include "orchestrator/http_client.h"

namespace re2 {
class RE2;
}

namespace orchestrator {

/// What part of a response a capture takes.
enum class CaptureSource : std::uint8_t {
  kStatus,  ///< `status`: the final HTTP status code
  kUrl,     ///< `url`: the URL after redirects
  kTime,    ///< `time`: the attempt's duration in milliseconds, to the microsecond
  kHeader,  ///< `header:NAME`: the last value of that response header (any case)
  kJson,    ///< `json:POINTER`: RFC 6901 JSON Pointer into the body read as JSON
  kRegex,   ///< `regex:PATTERN`: RE2's first group (or whole match) in the body
  kBody,    ///< `body`: the body as text
  kSize,    ///< `size`: the body's length in bytes
  kSha256,  ///< `sha256`: the body's SHA-256, lower-case hex, hashed as it streams
};

/// A capture's SPEC, checked: `status`, `url`, `time`, `header:NAME`, `json:POINTER`,
/// `regex:PATTERN`, `body`, `size` or `sha256`, each with an optional trailing `?`: a value
/// that is not there is then an empty cell rather than a failed task.
class CaptureSpec {
 public:
  struct Error {
    std::size_t offset;   ///< byte offset in the SPEC text
    std::string message;  ///< for people; without the offset
  };

  static std::variant<CaptureSpec, Error> Parse(std::string_view text);

  CaptureSource source() const { return source_; }
  /// The header name, the pointer or the pattern; empty for the others.
  const std::string& argument() const { return argument_; }
  bool optional() const { return optional_; }
  /// Whether it reads the body, so that the body must be kept (json, regex, body).
  bool needs_body() const;
  /// The pattern compiled (kRegex); shared by the copies of a blueprint, and by threads:
  /// RE2 matches are const and thread-safe.
  const re2::RE2* regex() const { return regex_.get(); }

 private:
  CaptureSource source_ = CaptureSource::kStatus;
  std::string argument_;
  bool optional_ = false;
  std::shared_ptr<const re2::RE2> regex_;
};

/// One capture of a fetch step: `NAME = "SPEC"`.
struct Capture {
  std::string name;
  CaptureSpec spec;
  /// Its column in the result: an index into the run's capture columns (CaptureColumns).
  std::size_t column = 0;
};

/// Whether `name` may name a capture: `[A-Za-z_][A-Za-z0-9_]*`, and not task_id,
/// final_status or error_info. Says why not otherwise.
std::optional<std::string> CaptureNameProblem(std::string_view name);

/// What a fetch with `captures` must keep of its response: the body (up to `body_limit`
/// bytes) only when a capture reads it, the headers they name, the URL, a digest.
ResponseParts PartsFor(std::span<const Capture> captures, std::uint64_t body_limit);

/// The default limit of a body kept for captures, when --max-body sets none: 1 MiB.
inline constexpr std::uint64_t kDefaultCaptureBodyLimit = std::uint64_t{1} << 20;

/// Takes each capture's value from `result`, of a fetch that kept `parts` (PartsFor(captures,
/// ...)), into `values`, at its column. Values are text as a terminal and a CSV line may hold them:
/// invalid UTF-8 and control characters (line breaks and tabs included) become U+FFFD. A
/// value that is not there is empty for an optional capture; for another, the reason the
/// task fails is returned (`capture price: /data/price is not in the body`, the first such),
/// and `values` holds every other capture's value.
std::optional<std::string> TakeCaptures(std::span<const Capture> captures,
                                        const ResponseParts& parts, const FetchResult& result,
                                        CapturedValues& values);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_CAPTURE_H_
