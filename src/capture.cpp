#include "orchestrator/capture.h"

#include <fmt/format.h>
#include <re2/re2.h>
#include <strings.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "orchestrator/byte_size.h"
#include "orchestrator/compact_json.h"
#include "orchestrator/header_name.h"
#include "orchestrator/input_error.h"
#include "orchestrator/text.h"

namespace orchestrator {
namespace {

struct Named {
  std::string_view name;
  CaptureSource source;
  bool has_argument;
};

constexpr Named kSources[] = {
    {"status", CaptureSource::kStatus, false}, {"url", CaptureSource::kUrl, false},
    {"time", CaptureSource::kTime, false},     {"header", CaptureSource::kHeader, true},
    {"json", CaptureSource::kJson, true},      {"regex", CaptureSource::kRegex, true},
    {"body", CaptureSource::kBody, false},     {"size", CaptureSource::kSize, false},
    {"sha256", CaptureSource::kSha256, false},
};

constexpr std::string_view kSpecList =
    "status, url, time, header:NAME, json:POINTER, regex:PATTERN, body, size or sha256";

// RFC 6901: "" or "/" followed by reference tokens, where "~" is only "~0" or "~1".
std::optional<CaptureSpec::Error> PointerProblem(std::string_view pointer, std::size_t offset) {
  if (!pointer.empty() && pointer.front() != '/') {
    return CaptureSpec::Error{offset, "a JSON Pointer starts with \"/\" (json:/data/price)"};
  }
  for (std::size_t i = 0; i < pointer.size(); ++i) {
    if (pointer[i] != '~') continue;
    if (i + 1 == pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1')) {
      return CaptureSpec::Error{offset + i, "\"~\" in a JSON Pointer is ~0 (for ~) or ~1 (for /)"};
    }
  }
  return std::nullopt;
}

void AppendCaptured(std::string& out, std::string_view text) {
  AppendTerminalSafe(out, text, UnsafeShownAs::kReplacementCharacter);
}

// Why `result` has no body to read, if it has none.
std::optional<std::string> BodyProblem(const ResponseParts& parts, const FetchResult& result) {
  if (result.response.body_over_limit) {
    return fmt::format("the body ({} bytes) is larger than the {} a capture may read (--max-body)",
                       result.response.size, FormatByteSize(parts.body_limit));
  }
  return std::nullopt;
}

// The value of one capture, or why there is none: `absent` says whether that is because it
// is not there (which an optional capture forgives).
struct Missing {
  std::string reason;
  bool absent;
};

// A value taken: its text, and whether that text is JSON (a number, a json: non-string).
struct Taken {
  std::string text;
  CapturedAs as = CapturedAs::kText;
};

std::variant<Taken, Missing> ValueOf(const Capture& capture, const ResponseParts& parts,
                                     const FetchResult& result,
                                     std::optional<boost::json::value>& json) {
  const CaptureSpec& spec = capture.spec;
  const FetchResponse& response = result.response;
  switch (spec.source()) {
    case CaptureSource::kStatus:
      return Taken{fmt::format("{}", result.http_status), CapturedAs::kJson};
    case CaptureSource::kUrl:
      return Taken{response.url};
    case CaptureSource::kTime:
      return Taken{fmt::format("{:.3f}", static_cast<double>(response.time.count()) / 1000.0),
                   CapturedAs::kJson};
    case CaptureSource::kSize:
      return Taken{fmt::format("{}", response.size), CapturedAs::kJson};
    case CaptureSource::kSha256:
      return Taken{response.sha256};
    case CaptureSource::kHeader: {
      for (std::size_t i = 0; i < parts.headers.size() && i < response.headers.size(); ++i) {
        const std::string& name = parts.headers[i];
        if (name.size() != spec.argument().size() ||
            strncasecmp(name.data(), spec.argument().data(), name.size()) != 0) {
          continue;
        }
        if (response.headers[i]) return Taken{*response.headers[i]};
        break;
      }
      return Missing{fmt::format("no {} header in the response", spec.argument()), true};
    }
    case CaptureSource::kBody:
    case CaptureSource::kRegex:
    case CaptureSource::kJson:
      break;
  }
  if (std::optional<std::string> problem = BodyProblem(parts, result))
    return Missing{*problem, false};
  const std::string& body = response.body;
  if (spec.source() == CaptureSource::kBody) return Taken{body};
  if (spec.source() == CaptureSource::kRegex) {
    const re2::RE2& regex = *spec.regex();
    re2::StringPiece groups[2];
    const int wanted = regex.NumberOfCapturingGroups() > 0 ? 2 : 1;
    if (!regex.Match(body, 0, body.size(), re2::RE2::UNANCHORED, groups, wanted)) {
      return Missing{"the pattern does not match the body", true};
    }
    const re2::StringPiece& taken = groups[wanted - 1];
    if (taken.data() == nullptr)
      return Missing{"the pattern's group took no part in the match", true};
    return Taken{std::string(taken.data(), taken.size())};
  }
  // kJson: the body is parsed once for all of a fetch's json captures.
  if (!json) {
    boost::system::error_code error;
    boost::json::value parsed = boost::json::parse(body, error);
    if (error) {
      return Missing{fmt::format("the body is not JSON ({})", error.message()), false};
    }
    json = std::move(parsed);
  }
  boost::system::error_code error;
  const boost::json::value* found = json->find_pointer(spec.argument(), error);
  if (found == nullptr) {
    return Missing{fmt::format("{} is not in the body",
                               spec.argument().empty() ? std::string("\"\"") : spec.argument()),
                   true};
  }
  if (const boost::json::string* text = found->if_string()) return Taken{std::string(*text)};
  Taken taken{{}, CapturedAs::kJson};
  AppendCompactJson(taken.text, *found);
  return taken;
}

}  // namespace

std::variant<CaptureSpec, CaptureSpec::Error> CaptureSpec::Parse(std::string_view text) {
  CaptureSpec spec;
  if (text.ends_with('?')) {
    spec.optional_ = true;
    text.remove_suffix(1);
  }
  const std::size_t colon = text.find(':');
  const std::string_view kind = text.substr(0, colon);
  const Named* named = nullptr;
  for (const Named& candidate : kSources) {
    if (candidate.name == kind) named = &candidate;
  }
  if (named == nullptr) {
    return Error{0, fmt::format("{} is not a capture: it is {}", QuoteForMessage(kind), kSpecList)};
  }
  spec.source_ = named->source;
  if (!named->has_argument) {
    if (colon != std::string_view::npos) {
      return Error{colon, fmt::format("{} takes nothing after it", kind)};
    }
    return spec;
  }
  if (colon == std::string_view::npos) {
    return Error{text.size(), fmt::format("{} needs what it takes: {}:...", kind, kind)};
  }
  const std::size_t start = colon + 1;
  spec.argument_ = text.substr(start);
  switch (spec.source_) {
    case CaptureSource::kHeader:
      if (const CheckResult checked = CheckHeaderName(spec.argument_);
          const auto* problem = std::get_if<std::string>(&checked)) {
        return Error{start, "the header's name is " + *problem};
      }
      break;
    case CaptureSource::kJson:
      if (std::optional<Error> problem = PointerProblem(spec.argument_, start)) return *problem;
      break;
    case CaptureSource::kRegex: {
      if (spec.argument_.empty()) return Error{start, "the pattern is empty"};
      re2::RE2::Options options;
      options.set_log_errors(false);
      auto regex = std::make_shared<const re2::RE2>(spec.argument_, options);
      if (!regex->ok()) return Error{start, "not a pattern RE2 reads: " + regex->error()};
      spec.regex_ = std::move(regex);
      break;
    }
    default:
      break;
  }
  return spec;
}

bool CaptureSpec::needs_body() const {
  return source_ == CaptureSource::kJson || source_ == CaptureSource::kRegex ||
         source_ == CaptureSource::kBody;
}

std::optional<std::string> CaptureNameProblem(std::string_view name) {
  const auto letter = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  };
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (name.empty() || !letter(name.front()) ||
      !std::all_of(name.begin(), name.end(), [&](char c) { return letter(c) || digit(c); })) {
    return std::string("a capture's name is letters, digits and _, not starting with a digit");
  }
  if (name == "task_id" || name == "final_status" || name == "error_info") {
    return fmt::format("{} is a column of every result row already", name);
  }
  return std::nullopt;
}

ResponseParts PartsFor(std::span<const Capture> captures, std::uint64_t body_limit) {
  ResponseParts parts;
  parts.body_limit = body_limit;
  for (const Capture& capture : captures) {
    const CaptureSpec& spec = capture.spec;
    parts.body = parts.body || spec.needs_body();
    parts.sha256 = parts.sha256 || spec.source() == CaptureSource::kSha256;
    parts.url = parts.url || spec.source() == CaptureSource::kUrl;
    if (spec.source() == CaptureSource::kHeader) {
      const bool known =
          std::any_of(parts.headers.begin(), parts.headers.end(), [&](const std::string& name) {
            return name.size() == spec.argument().size() &&
                   strncasecmp(name.data(), spec.argument().data(), name.size()) == 0;
          });
      if (!known) parts.headers.push_back(spec.argument());
    }
  }
  return parts;
}

std::optional<std::string> TakeCaptures(std::span<const Capture> captures,
                                        const ResponseParts& parts, const FetchResult& result,
                                        CapturedValues& values) {
  std::optional<boost::json::value> json;
  std::optional<std::string> first_missing;
  std::string text;
  for (const Capture& capture : captures) {
    auto value = ValueOf(capture, parts, result, json);
    if (auto* missing = std::get_if<Missing>(&value)) {
      if (missing->absent && capture.spec.optional()) {
        values.Set(capture.column, "");
      } else if (!first_missing) {
        first_missing = fmt::format("capture {}: {}", capture.name, missing->reason);
      }
      continue;
    }
    const Taken& taken = std::get<Taken>(value);
    text.clear();
    AppendCaptured(text, taken.text);
    values.Set(capture.column, text, taken.as);
  }
  return first_missing;
}

}  // namespace orchestrator
