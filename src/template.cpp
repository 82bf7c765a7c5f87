#include "orchestrator/template.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Boost.JSON escapes the JSON strings. It is linked (Boost::json, libboost_json.so from
// libboost-json1.81-dev) rather than compiled in with <boost/json/src.hpp>: that header may be
// included by one TU of the whole program only, and other parts (webhook bodies) use Boost.JSON
// too; linking also keeps its ~20k lines out of this TU's build.
#include <openssl/evp.h>
#include <utf8.h>
#include <boost/json/serializer.hpp>
#include <boost/json/string_view.hpp>

namespace orchestrator {
namespace {

bool IsControl(unsigned char byte) { return byte < 0x20 || byte == 0x7f; }

bool IsNameStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9') || c == '-'; }

// The length of a name's "dep." or "deps." at the start of `text` (a dependency's value), or 0.
std::size_t DependencyPrefixLength(std::string_view text) {
  if (text.starts_with("dep.")) return 4;
  if (text.starts_with("deps.")) return 5;
  return 0;
}

// In a template without escapes: where the placeholder that text[open] opens ends (its "}"),
// or npos when the "{" opens no placeholder's shape: a name, then ":" and letters or nothing,
// then "}". `{"a":1}`, `{ x }` and `{a.b}` are literal text; `{x:yaml}` is a placeholder with
// an unknown format (an error), so that a mistyped format is not sent as text.
std::size_t PlaceholderEnd(std::string_view text, std::size_t open) {
  std::size_t k = open + 1;
  if (k < text.size()) k += DependencyPrefixLength(text.substr(k));
  if (k >= text.size() || !IsNameStart(text[k])) return std::string_view::npos;
  while (k < text.size() && IsNameChar(text[k])) ++k;
  if (k < text.size() && text[k] == ':') {
    const std::size_t format = ++k;
    while (k < text.size() &&
           ((text[k] >= 'a' && text[k] <= 'z') || (text[k] >= 'A' && text[k] <= 'Z')))
      ++k;
    if (k == format) return std::string_view::npos;
  }
  return k < text.size() && text[k] == '}' ? k : std::string_view::npos;
}

constexpr std::array<bool, 256> kUnreserved = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[c] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.' || c == '_' || c == '~';
  }
  return table;
}();
// The bytes a value keeps as they are in a file path: all but '/', which would choose the
// folder, '%', which encodes the others, and control characters (NUL ends a path).
constexpr std::array<bool, 256> kPathKept = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) table[c] = c >= 0x20 && c != 0x7f && c != '/' && c != '%';
  return table;
}();
constexpr char kHex[] = "0123456789ABCDEF";

void AppendPercentEncoded(std::string& out, std::string_view text) {
  std::size_t run = 0;  // start of the current run of unreserved bytes
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (kUnreserved[byte]) continue;
    out.append(text.data() + run, i - run);
    const char encoded[3] = {'%', kHex[byte >> 4], kHex[byte & 0xf]};
    out.append(encoded, 3);
    run = i + 1;
  }
  out.append(text.data() + run, text.size() - run);
}

// Percent-encodes the bytes of out[from, end) that `kept` does not keep, in place: grows
// `out` and moves bytes back to front.
void EncodeTail(std::string& out, std::size_t from, const std::array<bool, 256>& kept) {
  std::size_t extra = 0;
  for (std::size_t i = from; i < out.size(); ++i) {
    if (!kept[static_cast<unsigned char>(out[i])]) extra += 2;
  }
  if (extra == 0) return;
  std::size_t read = out.size();
  out.resize(out.size() + extra);
  std::size_t write = out.size();
  while (read > from) {
    const auto byte = static_cast<unsigned char>(out[--read]);
    if (kept[byte]) {
      out[--write] = static_cast<char>(byte);
    } else {
      out[--write] = kHex[byte & 0xf];
      out[--write] = kHex[byte >> 4];
      out[--write] = '%';
    }
  }
  assert(write == read);
}

void PercentEncodeTail(std::string& out, std::size_t from) { EncodeTail(out, from, kUnreserved); }
void PathEncodeTail(std::string& out, std::size_t from) { EncodeTail(out, from, kPathKept); }

// RFC 8259's number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view text) {
  std::size_t i = 0;
  const auto digits = [&] {
    const std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    return i - start;
  };
  if (i < text.size() && text[i] == '-') ++i;
  if (i < text.size() && text[i] == '0') {
    ++i;
  } else if (digits() == 0) {
    return false;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == text.size();
}

// Appends `text` as a JSON string. Boost.JSON's serializer writes at most 6 bytes per input
// byte (\u00XX) plus the quotes, so it gets that much room in `out` and finishes in one read:
// it never suspends, and so never allocates its own stack. It leaves DEL as it is (JSON allows
// it); that becomes \u007f here so that a literal has no control character at all.
void AppendJsonString(std::string& out, std::string_view text) {
  const std::size_t start = out.size();
  const std::size_t room = 6 * text.size() + 2;
  out.resize(start + room);
  boost::json::serializer serializer;
  serializer.reset(boost::json::string_view(text.data(), text.size()));
  const boost::json::string_view written = serializer.read(out.data() + start, room);
  assert(serializer.done());
  out.resize(start + written.size());

  std::size_t dels = 0;
  for (std::size_t i = start; i < out.size(); ++i) dels += out[i] == '\x7f';
  if (dels == 0) return;
  std::size_t read = out.size();
  out.resize(out.size() + 5 * dels);
  std::size_t write = out.size();
  while (read > start) {
    const char c = out[--read];
    if (c == '\x7f') {
      for (const char e : {'f', '7', '0', '0', 'u', '\\'}) out[--write] = e;
    } else {
      out[--write] = c;
    }
  }
}

// "a u32", "an i64": a number type as a message names it.
std::string ANumberType(ColumnType type) {
  const std::string_view name = NameOf(type);
  return std::string(name.front() == 'i' || name.front() == 'f' ? "an " : "a ") + std::string(name);
}

// Appends `bytes` as a JSON string of their base64 (RFC 4648 section 4, padded), which has
// nothing to escape. OpenSSL's EVP_EncodeBlock encodes, in pieces that fit its int sizes (a
// multiple of 3 bytes each, so that the pieces' text joins into the whole's); it writes a NUL
// after each piece, which the next piece or the closing quote overwrites.
void AppendBase64JsonString(std::string& out, std::string_view bytes) {
  constexpr std::size_t kPiece = 3 * (std::size_t{1} << 26);
  std::size_t at = out.size();
  out.resize(at + (bytes.size() + 2) / 3 * 4 + 3);
  out[at++] = '"';
  for (std::size_t from = 0; from < bytes.size(); from += kPiece) {
    const std::size_t size = std::min(kPiece, bytes.size() - from);
    at += static_cast<std::size_t>(EVP_EncodeBlock(
        reinterpret_cast<unsigned char*>(out.data() + at),
        reinterpret_cast<const unsigned char*>(bytes.data() + from), static_cast<int>(size)));
  }
  out[at++] = '"';
  out.resize(at);
}

// Appends `text`, a JSON value as ReadColumnValue checked it, without the blanks between its
// tokens, and with DEL in a string as \u007f (as AppendJsonString writes it). A value is
// checked when it is read, so it is not parsed again; but a control character that JSON text
// cannot hold outside its blanks fails (false, `out` as it was), so that no text from
// elsewhere puts one in a header.
bool AppendCompactJson(std::string& out, std::string_view text) {
  const std::size_t start = out.size();
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (!in_string && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) continue;
    if (c == '\x7f') {
      out += "\\u007f";
      continue;
    }
    if (IsControl(static_cast<unsigned char>(c))) {
      out.resize(start);
      return false;
    }
    out += c;
    if (escaped) {
      escaped = false;
    } else if (in_string && c == '\\') {
      escaped = true;
    } else if (c == '"') {
      in_string = !in_string;
    }
  }
  return true;
}

// A piece of the source for a message: control characters as '?', at most 60 bytes.
std::string Shown(std::string_view text) {
  constexpr std::size_t kMax = 60;
  std::string shown;
  std::size_t size = text.size();
  if (size > kMax) {
    size = kMax;
    // Not inside a UTF-8 sequence.
    while (size > 0 && (static_cast<unsigned char>(text[size]) & 0xc0) == 0x80) --size;
  }
  for (std::size_t i = 0; i < size; ++i) {
    shown += IsControl(static_cast<unsigned char>(text[i])) ? '?' : text[i];
  }
  if (size < text.size()) shown += "...";
  return shown;
}

// Where a template's text goes, as a message says it.
std::string_view WhereName(TemplateContext context) {
  switch (context) {
    case TemplateContext::kUrl:
      return "a URL";
    case TemplateContext::kHeader:
      return "a header";
    case TemplateContext::kPath:
      return "a file path";
    case TemplateContext::kBody:
      return "a body";
    case TemplateContext::kText:
      return "a line";
  }
  return "a template";
}

// "value of NAME has a line break; it cannot go in a header".
std::string ControlMessage(std::string_view subject, std::string_view name, unsigned char byte,
                           std::string_view where) {
  std::string message(subject);
  message += name;
  if (byte == '\r' || byte == '\n') {
    message += " has a line break";
  } else {
    const char code[5] = {'0', 'x', kHex[byte >> 4], kHex[byte & 0xf], '\0'};
    message += " has a control character (";
    message += code;
    message += ")";
  }
  message += "; it cannot go in ";
  message += where;
  return message;
}

// Follows a URL as the expansion writes it into `out`, to find the path segments a value is
// in. A plain or JSON value is percent-encoded, so it never holds a '/', '?' or '#', but it
// may make a whole segment "." or ".." (alone, or with the literal text or other values
// beside it), and a server or curl would read that as a step up or nowhere (RFC 3986 5.2.4):
// such a segment gets its dots percent-encoded (%2E), and the value stays inside the path
// the template's author wrote. A raw value is the URL's own text, read like the template's.
//
// A file path (kPath) is a path all along: a value's '/' is percent-encoded, so the same rule
// keeps a value inside the folder the template's text names.
class ValueSegments {
 public:
  enum class Of : std::uint8_t { kUrl, kFilePath };
  ValueSegments(std::size_t start, Of of)
      : phase_(of == Of::kUrl ? Phase::kScheme : Phase::kPath),
        url_(of == Of::kUrl),
        scanned_(start),
        segment_start_(start) {}

  /// Reads out[scanned, end): literal text of the template, or a raw value.
  void ScanText(std::string& out) {
    for (std::size_t i = scanned_; i < out.size() && phase_ != Phase::kAfterPath; ++i) {
      const char c = out[i];
      const bool path_ends = url_ && (c == '?' || c == '#');
      switch (phase_) {
        case Phase::kScheme:
          if (c == ':') phase_ = Phase::kAfterColon;
          if (c == '/') StartSegment(Phase::kPath, i + 1);
          if (path_ends) phase_ = Phase::kAfterPath;
          break;
        case Phase::kAfterColon:
          phase_ = c == '/' ? Phase::kAfterSlash : Phase::kPath;
          if (c != '/') segment_start_ = i;
          if (path_ends) phase_ = Phase::kAfterPath;
          break;
        case Phase::kAfterSlash:  // "scheme:/"
          if (c == '/') {
            phase_ = Phase::kAuthority;
          } else {
            StartSegment(path_ends ? Phase::kAfterPath : Phase::kPath, i);
          }
          break;
        case Phase::kAuthority:
          if (c == '/') StartSegment(Phase::kPath, i + 1);
          if (path_ends) phase_ = Phase::kAfterPath;
          break;
        case Phase::kPath:
          if (c == '/' || path_ends) {
            i += EndSegment(out, i);
            StartSegment(path_ends ? Phase::kAfterPath : Phase::kPath, i + 1);
          }
          break;
        case Phase::kAfterPath:
          break;
      }
    }
    scanned_ = out.size();
  }

  /// Notes a plain or JSON value, now at the end of `out`.
  void AddValue(const std::string& out) {
    if (phase_ == Phase::kPath) segment_has_value_ = true;
    scanned_ = out.size();
  }

  /// At the end of the expansion.
  void Finish(std::string& out) {
    if (phase_ == Phase::kPath) EndSegment(out, out.size());
  }

 private:
  enum class Phase : std::uint8_t {
    kScheme,
    kAfterColon,
    kAfterSlash,
    kAuthority,
    kPath,
    kAfterPath
  };

  void StartSegment(Phase phase, std::size_t start) {
    phase_ = phase;
    segment_start_ = start;
    segment_has_value_ = false;
  }

  // Encodes the segment out[segment_start_, end) if a value made it a dot segment; returns
  // how many bytes that added.
  std::size_t EndSegment(std::string& out, std::size_t end) {
    const std::string_view segment(out.data() + segment_start_, end - segment_start_);
    if (!segment_has_value_ || (segment != "." && segment != "..")) return 0;
    const std::size_t dots = segment.size();
    out.replace(segment_start_, dots, dots == 1 ? "%2E" : "%2E%2E");
    return 2 * dots;
  }

  Phase phase_;
  bool url_;
  std::size_t scanned_;
  std::size_t segment_start_;
  bool segment_has_value_ = false;
};

// RFC 3986's scheme ":" "//": a URL template whose authority and path the text tells.
std::size_t AuthorityStart(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && (IsNameChar(text[i]) || text[i] == '+' || text[i] == '.')) ++i;
  if (i == 0 || !IsNameStart(text[0]) || !text.substr(i).starts_with("://")) {
    return std::string_view::npos;
  }
  return i + 3;
}

// `text`, a URL template, with the dot segments of its path removed as RFC 3986 5.2.4 does
// ("http://h/a/../b/{x}" is "http://h/b/{x}"), or as it is when the text does not tell where
// its path is (no "scheme://", or a raw value before the path ends) or it has none. A "." or
// ".." segment has no braces, so it is literal text: what a value makes is ValueSegments'.
std::string WithoutDotSegments(std::string_view text) {
  const std::size_t authority = AuthorityStart(text);
  if (authority == std::string_view::npos) return std::string(text);
  const std::size_t path_start = text.find_first_of("/?#", authority);
  if (path_start == std::string_view::npos || text[path_start] != '/') return std::string(text);
  const std::size_t path_end = std::min(text.find_first_of("?#", path_start), text.size());
  if (text.substr(0, path_end).find(":raw}") != std::string_view::npos) return std::string(text);

  const std::string_view path = text.substr(path_start, path_end - path_start);
  std::vector<std::string_view> kept;  // the segments, each after its '/'
  std::size_t from = 1;
  while (from <= path.size()) {
    const std::size_t slash = std::min(path.find('/', from), path.size());
    const std::string_view segment = path.substr(from, slash - from);
    const bool last = slash == path.size();
    if (segment == "..") {
      if (!kept.empty()) kept.pop_back();
    }
    if (segment == "." || segment == "..") {
      if (last) kept.emplace_back();  // "/a/b/.." is "/a/", with its slash
    } else {
      kept.push_back(segment);
    }
    from = slash + 1;
  }
  std::string resolved(text.substr(0, path_start));
  for (const std::string_view segment : kept) {
    resolved += '/';
    resolved += segment;
  }
  resolved += text.substr(path_end);
  return resolved;
}

}  // namespace

std::variant<Template, Template::Error> Template::Parse(std::string_view text,
                                                        TemplateContext context,
                                                        const Resolve& resolve,
                                                        std::span<const std::string> known_names) {
  auto parsed = ParseAsWritten(text, context, resolve, known_names);
  if (context != TemplateContext::kUrl || std::holds_alternative<Error>(parsed)) return parsed;
  // Errors are reported at their place in the text as written; a dot segment has no braces,
  // and removing whole segments makes no new error.
  const std::string resolved = WithoutDotSegments(text);
  if (resolved == text) return parsed;
  return ParseAsWritten(resolved, context, resolve, known_names);
}

std::variant<Template, Template::Error> Template::ParseAsWritten(
    std::string_view text, TemplateContext context, const Resolve& resolve,
    std::span<const std::string> known_names) {
  Template result;
  result.source_.assign(text);
  result.context_ = context;
  result.literals_.reserve(text.size());
  const auto error = [](std::size_t offset, std::string message) {
    return std::variant<Template, Error>(Error{offset, std::move(message)});
  };

  // Templates as curl users write them (`-d '{"id":{task_id}}'`): with no "{{" anywhere there
  // are no escapes; a "{" that opens a placeholder's shape is one, every other brace is
  // literal. With "{{" somewhere, "{{" and "}}" are the literal braces and every other brace
  // must be a placeholder's (as in Python's str.format), as templates were first written.
  const bool escaped = text.find("{{") != std::string_view::npos;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (escaped && (c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      result.literals_ += c;
      i += 2;
      continue;
    }
    if (escaped && c == '}') {
      return error(i, "\"}\" without a matching \"{\" (write }} for a literal brace)");
    }
    std::size_t close = std::string_view::npos;
    if (c == '{') {
      close = escaped ? text.find('}', i + 1) : PlaceholderEnd(text, i);
      if (escaped && (close == std::string_view::npos ||
                      text.substr(i + 1, close - i - 1).find('{') != std::string_view::npos)) {
        return error(i, "\"{\" not closed (write {{ for a literal brace)");
      }
    }
    if (close == std::string_view::npos) {
      const auto byte = static_cast<unsigned char>(c);
      if (IsControl(byte) &&
          (context == TemplateContext::kUrl || context == TemplateContext::kPath ||
           (context == TemplateContext::kHeader && byte != '\t'))) {
        return error(i, ControlMessage("the text", "", byte, WhereName(context)));
      }
      result.literals_ += c;
      ++i;
      continue;
    }

    // A placeholder: text[open, close].
    const std::size_t open = i;
    const std::string_view whole = text.substr(open, close - open + 1);
    const std::string_view content = text.substr(open + 1, close - open - 1);
    const std::size_t colon = content.find(':');
    const std::string_view name = content.substr(0, colon);
    if (name.empty()) {
      return error(open + 1,
                   "empty name in " + Shown(whole) + " (write {{ and }} for literal braces)");
    }
    const std::size_t prefix = DependencyPrefixLength(name);
    for (std::size_t k = prefix; k < name.size(); ++k) {
      if (k == prefix ? !IsNameStart(name[k]) : !IsNameChar(name[k])) {
        return error(open + 1 + k,
                     Shown(whole) +
                         " is not a placeholder: a name has letters, digits, _ and - and starts "
                         "with a letter or _ (write {{ and }} for literal braces)");
      }
    }
    Format format = Format::kPlain;
    if (colon != std::string_view::npos) {
      const std::string_view format_name = content.substr(colon + 1);
      if (format_name == "json") {
        format = Format::kJson;
      } else if (format_name == "raw") {
        if (context == TemplateContext::kPath) {
          return error(open + 1 + colon + 1,
                       Shown(whole) +
                           " in a file path: a value's own slashes would choose the "
                           "folder (write {" +
                           std::string(name) + "}, whose slashes are written %2F)");
        }
        format = Format::kRaw;
      } else {
        return error(open + 1 + colon + 1, "unknown format \"" + Shown(format_name) + "\" in " +
                                               Shown(whole) + " (known: json, raw)");
      }
    }
    const std::optional<std::size_t> slot = resolve(name);
    if (!slot) {
      std::string message = "unknown name \"" + std::string(name) + "\" in " + Shown(whole);
      if (!known_names.empty()) {
        message += " (known: ";
        for (std::size_t k = 0; k < known_names.size(); ++k) {
          message += (k == 0 ? "" : ", ") + known_names[k];
        }
        message += ')';
      }
      return error(open + 1, std::move(message));
    }
    result.placeholders_.push_back(
        Placeholder{result.literals_.size(), *slot, open + 1, name.size(), format});
    i = close + 1;
  }
  result.literals_.shrink_to_fit();
  return result;
}

bool Template::ExpandTo(std::string& out,
                        const std::function<TemplateValue(std::size_t slot)>& value,
                        std::string& error) const {
  const std::size_t start = out.size();
  // A URL's or a file path's segments, which no value may make "." or "..".
  const bool url = context_ == TemplateContext::kUrl || context_ == TemplateContext::kPath;
  ValueSegments segments(start, context_ == TemplateContext::kUrl ? ValueSegments::Of::kUrl
                                                                  : ValueSegments::Of::kFilePath);
  std::size_t literal = 0;
  for (const Placeholder& placeholder : placeholders_) {
    out.append(literals_, literal, placeholder.literal_end - literal);
    literal = placeholder.literal_end;
    if (url) segments.ScanText(out);
    if (!AppendValue(out, placeholder, value(placeholder.slot), error)) {
      out.resize(start);
      return false;
    }
    if (url && placeholder.format == Format::kRaw) {
      segments.ScanText(out);
    } else if (url) {
      segments.AddValue(out);
    }
  }
  out.append(literals_, literal);
  if (url && !placeholders_.empty()) {
    segments.ScanText(out);
    segments.Finish(out);
  }
  return true;
}

bool Template::AppendValue(std::string& out, const Placeholder& placeholder,
                           const TemplateValue& value, std::string& error) const {
  const std::string_view name(source_.data() + placeholder.name_offset, placeholder.name_size);
  const std::string_view text = value.text;

  if (placeholder.format == Format::kJson) {
    const std::size_t start = out.size();
    switch (value.type) {
      case ColumnType::kString:
      case ColumnType::kDuration:
        // RFC 3629 (utf8cpp): no overlong forms, no surrogates, nothing above U+10FFFF.
        if (!utf8::is_valid(text.begin(), text.end())) {
          error = "value of " + std::string(name) + " is not UTF-8, so {" + std::string(name) +
                  ":json} cannot write it as a JSON string";
          return false;
        }
        AppendJsonString(out, text);
        break;
      case ColumnType::kU32:
      case ColumnType::kU64:
      case ColumnType::kI32:
      case ColumnType::kI64:
      case ColumnType::kF32:
      case ColumnType::kF64:
        if (!IsJsonNumber(text)) {
          error = "value of " + std::string(name) + " (" + ANumberType(value.type) +
                  ") is not a number, so {" + std::string(name) + ":json} cannot write it";
          return false;
        }
        out += text;
        break;
      case ColumnType::kBytes:
        AppendBase64JsonString(out, text);
        break;
      case ColumnType::kJson:
        if (!AppendCompactJson(out, text)) {
          error = "value of " + std::string(name) + " (json) has a control character, so {" +
                  std::string(name) + ":json} cannot write it";
          return false;
        }
        break;
      case ColumnType::kBool:
        if (text != "true" && text != "false") {
          error = "value of " + std::string(name) + " is neither true nor false, so {" +
                  std::string(name) + ":json} cannot write it";
          return false;
        }
        out += text;
        break;
      default:
        error = "value of " + std::string(name) + " has an unknown type";
        return false;
    }
    if (context_ == TemplateContext::kUrl) PercentEncodeTail(out, start);
    if (context_ == TemplateContext::kPath) PathEncodeTail(out, start);
    return true;
  }

  switch (context_) {
    case TemplateContext::kUrl:
      if (placeholder.format == Format::kPlain) {
        AppendPercentEncoded(out, text);
        return true;
      }
      for (const char c : text) {
        if (IsControl(static_cast<unsigned char>(c))) {
          error = ControlMessage("value of ", name, static_cast<unsigned char>(c), "a URL");
          return false;
        }
      }
      out += text;
      return true;
    case TemplateContext::kHeader:
      for (const char c : text) {
        if (IsControl(static_cast<unsigned char>(c)) && c != '\t') {
          error = ControlMessage("value of ", name, static_cast<unsigned char>(c), "a header");
          return false;
        }
      }
      out += text;
      return true;
    case TemplateContext::kPath: {  // raw is refused when parsed
      const std::size_t start = out.size();
      out += text;
      PathEncodeTail(out, start);
      return true;
    }
    case TemplateContext::kBody:
      out += text;
      return true;
    case TemplateContext::kText: {
      std::size_t run = 0;
      for (std::size_t i = 0; i < text.size(); ++i) {
        if (!IsControl(static_cast<unsigned char>(text[i]))) continue;
        out.append(text.data() + run, i - run);
        out += '?';
        run = i + 1;
      }
      out.append(text.data() + run, text.size() - run);
      return true;
    }
  }
  return true;
}

}  // namespace orchestrator
