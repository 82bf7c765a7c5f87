// HTTP vocabulary the tool reports and obeys: reason phrases and Retry-After.
#ifndef ORCHESTRATOR_HTTP_STATUS_H_
#define ORCHESTRATOR_HTTP_STATUS_H_

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "orchestrator/duration.h"

namespace orchestrator {

/// The standard reason phrase of a status ("Service Unavailable"), or "" for unknown ones.
/// The server's own phrase is not used: it is not in HTTP/2, and it is the server's text.
std::string_view ReasonPhrase(int status);

/// "HTTP 503 Service Unavailable", or "HTTP 599" for a status without a standard phrase.
std::string DescribeHttpStatus(int status);

/// Parses a Retry-After header value, either delta-seconds ("120") or an HTTP-date
/// ("Wed, 21 Oct 2015 07:28:00 GMT"), as a wait from `now` (a date in the past is no wait).
/// Returns nullopt for anything else.
std::optional<Duration> ParseRetryAfter(std::string_view value, std::time_t now);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_HTTP_STATUS_H_
