// libFuzzer target: blueprint templates (Template::Parse, Template::ExpandTo).
//
// The bytes: the first one picks the context (a file path if it has bit 2 set, 0x04, else by
// its low 2 bits: URL, header, body, text; the seeds' '0' to '3' keep their meaning), the
// next kSlots give the types of the names' columns (in ColumnType's order: a byte below 0x80
// picks one of the first seven modulo 7, as the seeds were written, one from 0x80 one of the
// four later ones, i32 f32 bytes json, modulo 4); the
// rest is split on 0xFF (never part of UTF-8): the template, then the value of each slot
// (missing ones are empty; each cut at 256 bytes). The resolver knows task_id, task_type, region,
// size and user-id. Checked on every input:
//   - Parse agrees with a model of the syntax in template.h, written apart from it: it
//     succeeds exactly when the model does, and fails at the same offset, with a message that
//     has no control character.
//   - A parsed template keeps its source and context; has_placeholders says whether it has one.
//   - ExpandTo agrees with a model of the values' rules (percent-encoding, verbatim, '?' for
//     control characters, JSON literals from Boost.JSON's allocating serialize(), UTF-8 as
//     Boost.JSON's parser checks it): the same success and the same output. A failure
//     leaves what `out` held before and explains itself without control characters.
//   - Directly on ExpandTo's output, per value alone: in a URL a plain value or a json literal
//     is only unreserved bytes and %XX, encodes exactly the other bytes and decodes back; a header
//     gets no control character but tab (no CR, LF, NUL from values); an emit line none at all; a
//     :json expansion parses as JSON (Boost.JSON) to the value itself (a bytes value's JSON
//     string reads back, as a bytes column, to the bytes; a json value's to the same JSON).
//   - A file path (kPath): Parse refuses {NAME:raw} at its format and control characters in
//     the text; ExpandTo agrees with a model that percent-encodes a plain value or json
//     literal's '/', '%' and control bytes and writes %2E for the dots of a name ("." or "..")
//     that has a value in it. Apart from the model, per value and format: with literal text
//     beside it (x{NAME}) the expansion has no '/' and no control byte, a '%' only starts the
//     %XX of a byte that had to be encoded, it is the value's text (or json literal) with
//     exactly those bytes encoded and decodes back; alone ({NAME}) it is never "." or "..".
//     And on the whole expansion: split on '/', it has the template's names, one for one
//     (values bring no '/'); a name without a value is the literal text, and a name with a
//     value is never "." or "..".
//   - The text with every brace doubled parses to a template without placeholders that expands
//     to the text itself (in a URL, file path or header, when the text has no control character
//     there).
#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "orchestrator/column.h"
#include "orchestrator/template.h"

namespace {

using orchestrator::ColumnType;
using orchestrator::Template;
using orchestrator::TemplateContext;
using orchestrator::TemplateValue;

constexpr std::size_t kSlots = 5;
constexpr std::size_t kMaxValue = 256;
constexpr std::string_view kNames[kSlots] = {"task_id", "task_type", "region", "size", "user-id"};

std::string Shown(std::string_view input) {
  std::string shown;
  for (const char c : input) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b >= 0x7f || c == '\\') {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", b);
      shown += hex;
    } else {
      shown += c;
    }
  }
  return shown;
}

std::string_view g_input;  // for Fail's report

[[noreturn]] void Fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "\ntemplate_fuzz: %s: input \"%s\"%s%s\n", what, Shown(g_input).c_str(),
               detail.empty() ? "" : ": ", Shown(detail).c_str());
  __builtin_trap();
}

bool IsControl(char c) {
  const auto b = static_cast<unsigned char>(c);
  return b < 0x20 || b == 0x7f;
}
bool HasControl(std::string_view text, bool tab_allowed) {
  for (const char c : text) {
    if (IsControl(c) && !(tab_allowed && c == '\t')) return true;
  }
  return false;
}
bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::optional<std::size_t> Resolve(std::string_view name) {
  for (std::size_t slot = 0; slot < kSlots; ++slot) {
    if (kNames[slot] == name) return slot;
  }
  return std::nullopt;
}

// --- the model ----------------------------------------------------------------------------

enum class Format { kPlain, kRaw, kJson };
struct Piece {
  std::string literal;  // before the placeholder
  std::optional<std::size_t> slot;
  Format format = Format::kPlain;
};
struct ModelTemplate {
  std::optional<std::size_t> error;  // offset
  bool raw_in_path = false;          // the error is a {NAME:raw} in a file path
  std::vector<Piece> pieces;
};

ModelTemplate ModelParse(std::string_view text, TemplateContext context) {
  ModelTemplate m;
  m.pieces.emplace_back();
  const auto fail = [&](std::size_t offset) {
    m.error = offset;
    return m;
  };
  // Without "{{" anywhere there are no escapes: a "{" that opens a placeholder's shape (a
  // name, then ":" and letters or nothing, then "}") is one, and every other brace is literal.
  const bool escaped = text.find("{{") != std::string_view::npos;
  const auto name_start = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
  };
  const auto name_char = [&](char c) {
    return name_start(c) || (c >= '0' && c <= '9') || c == '-';
  };
  const auto letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
  // A name may start with "dep." or "deps." (a dependency's value): their length, or 0.
  const auto dependency_prefix = [](std::string_view rest) -> std::size_t {
    if (rest.starts_with("dep.")) return 4;
    if (rest.starts_with("deps.")) return 5;
    return 0;
  };
  // A placeholder NAME with its format (none: npos) at format_at: the offset of its error, if
  // it has one (an unknown format, then an unknown name), else it ends the current piece.
  const auto place = [&](std::string_view name, std::size_t name_at, std::string_view format_text,
                         std::size_t format_at) -> std::optional<std::size_t> {
    Format format = Format::kPlain;
    if (format_at != std::string_view::npos) {
      if (format_text == "json") {
        format = Format::kJson;
      } else if (format_text == "raw") {
        // A value's own slashes would choose the folder.
        if (context == TemplateContext::kPath) {
          m.raw_in_path = true;
          return format_at;
        }
        format = Format::kRaw;
      } else {
        return format_at;
      }
    }
    const auto slot = Resolve(name);
    if (!slot) return name_at;
    m.pieces.back().slot = slot;
    m.pieces.back().format = format;
    m.pieces.emplace_back();
    return std::nullopt;
  };
  for (std::size_t i = 0; i < text.size();) {
    if (!escaped && (text[i] == '{' || text[i] == '}')) {
      std::size_t k = i + 1;
      if (text[i] == '{') k += dependency_prefix(text.substr(k));
      if (text[i] == '{' && k < text.size() && name_start(text[k])) {
        while (k < text.size() && name_char(text[k])) ++k;
        const std::string_view name = text.substr(i + 1, k - i - 1);
        std::size_t format_start = std::string_view::npos;
        bool shape = true;
        if (k < text.size() && text[k] == ':') {
          format_start = ++k;
          while (k < text.size() && letter(text[k])) ++k;
          shape = k > format_start;
        }
        if (shape && k < text.size() && text[k] == '}') {
          const std::string_view format = format_start == std::string_view::npos
                                              ? std::string_view()
                                              : text.substr(format_start, k - format_start);
          if (const auto error = place(name, i + 1, format, format_start)) return fail(*error);
          i = k + 1;
          continue;
        }
      }
      m.pieces.back().literal += text[i];
      ++i;
    } else if (text.substr(i, 2) == "{{" || text.substr(i, 2) == "}}") {
      m.pieces.back().literal += text[i];
      i += 2;
    } else if (text[i] == '}') {
      return fail(i);
    } else if (text[i] == '{') {
      const std::size_t close = text.find('}', i);
      if (close == std::string_view::npos) return fail(i);
      const std::string_view content = text.substr(i + 1, close - i - 1);
      if (content.find('{') != std::string_view::npos) return fail(i);
      const std::size_t colon = content.find(':');
      const std::string_view name = content.substr(0, colon);
      if (name.empty()) return fail(i + 1);
      const std::size_t prefix = dependency_prefix(name);
      for (std::size_t k = prefix; k < name.size(); ++k) {
        if (!(k == prefix ? name_start(name[k]) : name_char(name[k]))) return fail(i + 1 + k);
      }
      const bool has_format = colon != std::string_view::npos;
      const std::string_view format = has_format ? content.substr(colon + 1) : std::string_view();
      if (const auto error =
              place(name, i + 1, format, has_format ? i + 1 + colon + 1 : std::string_view::npos)) {
        return fail(*error);
      }
      i = close + 1;
    } else {
      const bool refused =
          ((context == TemplateContext::kUrl || context == TemplateContext::kPath) &&
           IsControl(text[i])) ||
          (context == TemplateContext::kHeader && IsControl(text[i]) && text[i] != '\t');
      if (refused) return fail(i);
      m.pieces.back().literal += text[i];
      ++i;
    }
  }
  return m;
}

// `text` with every byte that `kept` refuses written %XX (upper-case hex).
std::string EncodeAllBut(std::string_view text, bool (*kept)(char)) {
  std::string out;
  for (const char c : text) {
    if (kept(c)) {
      out += c;
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
      out += hex;
    }
  }
  return out;
}

std::string PercentEncode(std::string_view text) { return EncodeAllBut(text, IsUnreserved); }

// A byte a file path's value keeps: all but '/', '%' and control characters.
bool PathKept(char c) { return !IsControl(c) && c != '/' && c != '%'; }

std::string PathEncode(std::string_view text) { return EncodeAllBut(text, PathKept); }

// RFC 4648 base64, standard alphabet, padded.
std::string Base64(std::string_view bytes) {
  static constexpr char kDigits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t group = 0;
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    for (std::size_t k = 0; k < 3; ++k) {
      group = group << 8 | (k < n ? static_cast<unsigned char>(bytes[i + k]) : 0u);
    }
    for (std::size_t k = 0; k < 4; ++k) {
      out += k <= n ? kDigits[(group >> (18 - 6 * k)) & 63] : '=';
    }
  }
  return out;
}

// A JSON text (valid, as a json column holds it) without the blanks outside its strings, and
// DEL in a string as \u007f. Cut at the strings: the text between them loses its blanks, a
// string (to the first quote after it that no odd run of backslashes escapes) stays.
std::optional<std::string> CompactJson(std::string_view text) {
  std::string out;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t open = std::min(text.find('"', at), text.size());
    for (const char c : text.substr(at, open - at)) {
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') out += c;
    }
    if (open == text.size()) break;
    std::size_t close = open + 1;
    for (;; ++close) {
      close = text.find('"', close);
      if (close == std::string_view::npos) return std::nullopt;
      std::size_t backslashes = 0;
      while (text[close - 1 - backslashes] == '\\') ++backslashes;
      if (backslashes % 2 == 0) break;
    }
    for (const char c : text.substr(open, close + 1 - open)) {
      if (c == '\x7f') {
        out += "\\u007f";
      } else {
        out += c;
      }
    }
    at = close + 1;
  }
  if (HasControl(out, false)) return std::nullopt;
  return out;
}

// The JSON literal of a value, or nullopt when there is none.
std::optional<std::string> ModelJson(const TemplateValue& v) {
  switch (v.type) {
    case ColumnType::kBytes:
      return "\"" + Base64(v.text) + "\"";
    case ColumnType::kJson:
      return CompactJson(v.text);
    case ColumnType::kString:
    case ColumnType::kDuration: {
      std::string literal =
          boost::json::serialize(boost::json::value(boost::json::string_view(v.text)));
      // Boost.JSON's parser checks UTF-8: what it cannot read back was not UTF-8.
      boost::json::error_code ec;
      (void)boost::json::parse(literal, ec);
      if (ec) return std::nullopt;
      std::string out;
      for (const char c : literal) out += c == '\x7f' ? std::string("\\u007f") : std::string(1, c);
      return out;
    }
    case ColumnType::kBool:
      if (v.text == "true" || v.text == "false") return std::string(v.text);
      return std::nullopt;
    default: {
      static const std::regex kNumber(R"(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?)");
      if (std::regex_match(v.text.begin(), v.text.end(), kNumber)) return std::string(v.text);
      return std::nullopt;
    }
  }
}

std::optional<std::string> ModelValue(const TemplateValue& v, Format format,
                                      TemplateContext context) {
  if (format == Format::kJson) {
    auto literal = ModelJson(v);
    if (literal && context == TemplateContext::kUrl) return PercentEncode(*literal);
    if (literal && context == TemplateContext::kPath) return PathEncode(*literal);
    return literal;
  }
  switch (context) {
    case TemplateContext::kUrl:
      if (format == Format::kPlain) return PercentEncode(v.text);
      if (HasControl(v.text, false)) return std::nullopt;
      return std::string(v.text);
    case TemplateContext::kHeader:
      if (HasControl(v.text, true)) return std::nullopt;
      return std::string(v.text);
    case TemplateContext::kPath:
      if (format == Format::kRaw) return std::nullopt;  // refused by Parse
      return PathEncode(v.text);
    case TemplateContext::kBody:
      return std::string(v.text);
    case TemplateContext::kText: {
      std::string out(v.text);
      for (char& c : out) {
        if (IsControl(c)) c = '?';
      }
      return out;
    }
  }
  return std::nullopt;
}

// --- checks -------------------------------------------------------------------------------

// A URL whose text or expansion may have a "." or ".." path segment: Parse removes the text's
// own and ExpandTo encodes those a value makes (template_test.cpp tests both), which the
// model leaves out, so the checks that compare with the model skip it.
bool MayHaveDotSegment(std::string_view url) { return url.find("/.") != std::string_view::npos; }

std::variant<Template, Template::Error> Parse(std::string_view text, TemplateContext context) {
  return Template::Parse(text, context, Resolve);
}

// ExpandTo after a prefix; checks the prefix survives and a failure explains itself.
std::optional<std::string> Expand(const Template& tmpl, const std::vector<TemplateValue>& values) {
  static const std::string kPrefix = "prefix:";
  std::string out = kPrefix, error;
  const bool ok = tmpl.ExpandTo(
      out, [&](std::size_t slot) { return values.at(slot); }, error);
  if (out.compare(0, kPrefix.size(), kPrefix) != 0) Fail("ExpandTo changed what out held", out);
  if (!ok) {
    if (out != kPrefix) Fail("a failed ExpandTo left output", out);
    if (error.empty() || HasControl(error, false)) Fail("bad expansion error message", error);
    return std::nullopt;
  }
  return out.substr(kPrefix.size());
}

void CheckSyntax(std::string_view text, TemplateContext context) {
  const auto parsed = Parse(text, context);
  const ModelTemplate model = ModelParse(text, context);
  if (const auto* error = std::get_if<Template::Error>(&parsed)) {
    if (error->message.empty() || HasControl(error->message, false)) {
      Fail("bad parse error message", error->message);
    }
    if (!model.error) Fail("Parse refused what the model accepts", error->message);
    if (model.raw_in_path && error->message.find(" in a file path") == std::string::npos) {
      Fail("a raw placeholder's error in a file path does not say so", error->message);
    }
    if (*model.error != error->offset) {
      Fail("Parse error at another offset than the model's",
           std::to_string(error->offset) + " vs " + std::to_string(*model.error) + ": " +
               error->message);
    }
    return;
  }
  if (model.error) Fail("Parse accepted what the model refuses", std::to_string(*model.error));
  if (context == TemplateContext::kUrl && MayHaveDotSegment(text)) return;
  const Template& tmpl = std::get<Template>(parsed);
  if (tmpl.source() != text || tmpl.context() != context) Fail("source or context lost");
  if (tmpl.has_placeholders() != (model.pieces.size() > 1)) Fail("has_placeholders is wrong");
}

// A file path's names (the text between its '/'), as the template writes them: each one's
// literal text, and whether a placeholder is in it.
struct PathName {
  std::string literal;
  bool has_value = false;
};
std::vector<PathName> PathNames(const ModelTemplate& model) {
  std::vector<PathName> names(1);
  for (const Piece& piece : model.pieces) {
    for (const char c : piece.literal) {
      if (c == '/') {
        names.emplace_back();
      } else {
        names.back().literal += c;
      }
    }
    if (piece.slot) names.back().has_value = true;
  }
  return names;
}

// The model's expansion: the literal text and each value as ModelValue writes it; in a file
// path, a name with a value in it that is "." or ".." has its dots written %2E (values have no
// '/', so the names are the template's).
std::optional<std::string> ModelExpand(const ModelTemplate& model, TemplateContext context,
                                       const std::vector<TemplateValue>& values) {
  const bool path = context == TemplateContext::kPath;
  std::string out, name;
  bool has_value = false;
  const auto end_name = [&] {
    if (path && has_value && (name == "." || name == "..")) {
      name = name.size() == 1 ? "%2E" : "%2E%2E";
    }
    out += name;
    name.clear();
    has_value = false;
  };
  for (const Piece& piece : model.pieces) {
    for (const char c : piece.literal) {
      if (path && c == '/') {
        end_name();
        out += '/';
      } else {
        name += c;
      }
    }
    if (!piece.slot) continue;
    const auto value = ModelValue(values[*piece.slot], piece.format, context);
    if (!value) return std::nullopt;
    name += *value;
    has_value = true;
  }
  end_name();
  return out;
}

// Directly on a file path's expansion, apart from the model: split on '/', it has the
// template's names one for one (a value brings no '/'); a name without a value is its literal
// text, and a name with one is never "." or "..".
void CheckPathNames(const ModelTemplate& model, std::string_view got) {
  const std::vector<PathName> names = PathNames(model);
  std::vector<std::string_view> parts;
  for (std::size_t from = 0;;) {
    const std::size_t slash = got.find('/', from);
    parts.push_back(got.substr(from, slash - from));
    if (slash == std::string_view::npos) break;
    from = slash + 1;
  }
  if (parts.size() != names.size()) {
    Fail("a file path's values changed its folders",
         std::string(got) + " has " + std::to_string(parts.size()) + " names, the template " +
             std::to_string(names.size()));
  }
  for (std::size_t k = 0; k < names.size(); ++k) {
    if (!names[k].has_value && parts[k] != names[k].literal) {
      Fail("a file path's literal name changed", std::string(got));
    }
    if (names[k].has_value && (parts[k] == "." || parts[k] == "..")) {
      Fail("values made a file path's name \".\" or \"..\"", std::string(got));
    }
  }
}

void CheckExpansion(std::string_view text, TemplateContext context,
                    const std::vector<TemplateValue>& values) {
  const auto parsed = Parse(text, context);
  if (!std::holds_alternative<Template>(parsed)) return;
  const ModelTemplate model = ModelParse(text, context);
  std::optional<std::string> want = ModelExpand(model, context, values);
  const auto got = Expand(std::get<Template>(parsed), values);
  const bool url = context == TemplateContext::kUrl;
  if (url && MayHaveDotSegment(text)) return;
  if (url && got && want && MayHaveDotSegment(*want)) want = got;
  if (got.has_value() != want.has_value()) {
    Fail(got ? "ExpandTo succeeded where the model fails"
             : "ExpandTo failed where the model succeeds",
         got.value_or(""));
  }
  if (got && *got != *want) Fail("ExpandTo differs from the model", *got + " vs " + *want);
  if (got && context == TemplateContext::kHeader && HasControl(*got, true)) {
    Fail("a header with a control character", *got);  // the text cannot have one either
  }
  if (got && context == TemplateContext::kUrl && HasControl(*got, false)) {
    Fail("a URL with a control character", *got);
  }
  if (got && context == TemplateContext::kPath) {
    if (HasControl(*got, false)) Fail("a file path with a control character", *got);
    CheckPathNames(model, *got);
  }
}

std::string PercentDecode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// The expansion of {NAME<format>} in a file path, whose value rendered for that format (the
// text for plain, the JSON literal for json) is `rendered`. With literal text beside it
// (x{NAME}x), so that no dot rule applies: no '/', no control byte, and a '%' only starts the
// %XX (upper-case hex) of a byte that had to be encoded ('/', '%', a control byte); it decodes
// back to `rendered`, so every such byte is encoded and no other. Alone ({NAME}), it is that
// text again but for a "." or "..", whose dots are written %2E.
void CheckPathValue(const std::string& name, const std::string& format, std::string_view rendered,
                    const std::vector<TemplateValue>& values) {
  const std::string placeholder = "{" + name + format + "}";
  const auto expand = [&](const std::string& text) {
    const auto parsed = Parse(text, TemplateContext::kPath);
    if (!std::holds_alternative<Template>(parsed)) Fail("a file path's placeholder does not parse");
    const auto got = Expand(std::get<Template>(parsed), values);
    if (!got) Fail("a file path's value failed", text);
    return *got;
  };
  const std::string beside = expand("x" + placeholder + "x");
  if (beside.size() < 2 || beside.front() != 'x' || beside.back() != 'x') {
    Fail("a file path's literal text changed", beside);
  }
  const std::string_view got = std::string_view(beside).substr(1, beside.size() - 2);
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string decoded;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i] == '/') Fail("a file path's value has a '/'", beside);
    if (IsControl(got[i])) Fail("a file path's value has a control byte", beside);
    if (got[i] != '%') {
      decoded += got[i];
      continue;
    }
    if (i + 2 >= got.size() || hex(got[i + 1]) < 0 || hex(got[i + 2]) < 0) {
      Fail("a file path's value has a '%' that starts no %XX", beside);
    }
    const char byte = static_cast<char>(hex(got[i + 1]) * 16 + hex(got[i + 2]));
    if (!IsControl(byte) && byte != '/' && byte != '%') {
      Fail("a file path's value encodes a byte it may keep", beside);
    }
    decoded += byte;
    i += 2;
  }
  if (decoded != rendered) Fail("a file path's value does not decode back", beside);

  const std::string alone = expand(placeholder);
  const std::string_view want = got == "." ? "%2E" : got == ".." ? "%2E%2E" : got;
  if (alone != want) Fail("a file path's value alone is not its dots encoded", alone);
}

void CheckValueAlone(std::size_t slot, const std::vector<TemplateValue>& values) {
  const TemplateValue& v = values[slot];
  const std::string name(kNames[slot]);
  const auto one = [&](const std::string& format, TemplateContext context) {
    const auto parsed = Parse("{" + name + format + "}", context);
    if (!std::holds_alternative<Template>(parsed)) Fail("a lone placeholder does not parse");
    return Expand(std::get<Template>(parsed), values);
  };
  const auto only_encoded = [](std::string_view out) {
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (IsUnreserved(out[i])) continue;
      if (out[i] != '%' || i + 2 >= out.size() ||
          !std::isxdigit(static_cast<unsigned char>(out[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(out[i + 2]))) {
        return false;
      }
      i += 2;
    }
    return true;
  };

  // A plain value in a URL: never fails, only unreserved and %XX, decodes back.
  const auto url = one("", TemplateContext::kUrl);
  if (!url) Fail("a plain value failed in a URL");
  if (!only_encoded(*url)) Fail("a URL value has a byte that is not unreserved or %XX", *url);
  if (PercentDecode(*url) != v.text) Fail("a URL value does not decode back", *url);
  std::size_t reserved = 0;
  for (const char c : v.text) reserved += !IsUnreserved(c);
  if (url->size() != v.text.size() + 2 * reserved) Fail("a URL value encodes too much", *url);

  const auto json = one(":json", TemplateContext::kBody);
  if (json) {
    if (HasControl(*json, false)) Fail("a JSON literal with a control character", *json);
    boost::json::error_code ec;
    const boost::json::value parsed = boost::json::parse(*json, ec);
    if (ec) Fail("a JSON literal that does not parse", *json);
    const bool is_string = v.type == ColumnType::kString || v.type == ColumnType::kDuration;
    if (is_string && (!parsed.is_string() || parsed.as_string() != v.text)) {
      Fail("a JSON string that does not read back", *json);
    }
    if (v.type == ColumnType::kBytes) {
      std::string bytes, error;
      if (!parsed.is_string() ||
          !orchestrator::ReadColumnValue(ColumnType::kBytes, parsed.as_string(), bytes, error) ||
          bytes != v.text) {
        Fail("a bytes value's JSON string does not read back", *json);
      }
    } else if (v.type == ColumnType::kJson) {
      // Compared as Boost.JSON writes them: a number such as 0e+3000 reads as NaN, which is
      // not equal to itself.
      if (boost::json::serialize(parsed) != boost::json::serialize(boost::json::parse(v.text))) {
        Fail("a json value's literal differs", *json);
      }
    } else if (!is_string && *json != v.text) {
      Fail("a bare JSON literal is not the text", *json);
    }
    const auto json_url = one(":json", TemplateContext::kUrl);
    if (!json_url || !only_encoded(*json_url) || PercentDecode(*json_url) != *json) {
      Fail("a JSON literal in a URL is not the literal percent-encoded", json_url.value_or(""));
    }
    const auto json_text = one(":json", TemplateContext::kText);
    if (json_text != json) Fail("a JSON literal in an emit line differs", json_text.value_or(""));
  }

  // In a file path: plain never fails, json where the literal exists, raw is refused when
  // parsed, at its format.
  CheckPathValue(name, "", v.text, values);
  if (json) CheckPathValue(name, ":json", *json, values);
  if (!json && one(":json", TemplateContext::kPath)) Fail("a json value failed but in a file path");
  const auto raw_path = Parse("{" + name + ":raw}", TemplateContext::kPath);
  const auto* raw_error = std::get_if<Template::Error>(&raw_path);
  if (!raw_error || raw_error->offset != name.size() + 2 ||
      raw_error->message.find(" in a file path") == std::string::npos) {
    Fail("a raw placeholder in a file path is not refused at its format");
  }

  for (const char* format : {"", ":raw"}) {
    const auto header = one(format, TemplateContext::kHeader);
    if (header.has_value() == HasControl(v.text, true)) Fail("header value check is wrong");
    if (header && (HasControl(*header, true) || *header != v.text)) {
      Fail("a header value is not the value verbatim", *header);
    }
    const auto line = one(format, TemplateContext::kText);
    if (!line || HasControl(*line, false) || line->size() != v.text.size()) {
      Fail("an emit-line value has a control character", line.value_or(""));
    }
    if (one(format, TemplateContext::kBody) != std::optional<std::string>(v.text)) {
      Fail("a body value is not the value verbatim");
    }
  }
}

// Every brace doubled: no placeholders, and the expansion is the text. Unless the text has no
// "{": then the doubled text has no "{{", so no escapes either, and expands to itself.
void CheckDoubledBraces(std::string_view text, TemplateContext context) {
  std::string doubled;
  for (const char c : text) {
    doubled += c;
    if (c == '{' || c == '}') doubled += c;
  }
  const auto parsed = Parse(doubled, context);
  const bool may_refuse =
      ((context == TemplateContext::kUrl || context == TemplateContext::kPath) &&
       HasControl(text, false)) ||
      (context == TemplateContext::kHeader && HasControl(text, true));
  if (!std::holds_alternative<Template>(parsed)) {
    if (may_refuse) return;
    Fail("a text with doubled braces does not parse", std::get<Template::Error>(parsed).message);
  }
  if (may_refuse) Fail("a text with a control character parsed as a URL, file path or header");
  if (context == TemplateContext::kUrl && MayHaveDotSegment(text)) return;
  const Template& tmpl = std::get<Template>(parsed);
  if (tmpl.has_placeholders()) Fail("doubled braces made a placeholder");
  const auto got = Expand(tmpl, {});
  const bool escaped = doubled.find("{{") != std::string::npos;
  if (got != std::optional<std::string>(escaped ? std::string(text) : doubled)) {
    Fail("doubled braces do not expand to the text", got.value_or(""));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  g_input = input;
  if (input.size() < 1 + kSlots) return 0;
  const auto context =
      (data[0] & 4) != 0 ? TemplateContext::kPath : static_cast<TemplateContext>(data[0] & 3);
  std::vector<std::string_view> parts;
  std::string_view rest = input.substr(1 + kSlots);
  for (;;) {
    const std::size_t end = rest.find('\xff');
    parts.push_back(rest.substr(0, end));
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  const std::string_view text = parts[0];
  std::vector<TemplateValue> values;
  // A TemplateValue is canonical, as ReadColumnValue writes it (template.h): a text that the
  // reader would refuse for its type (an f64 of 1e+1111...) never reaches a template, so it
  // goes in as a string instead.
  std::string canonical[kSlots];
  for (std::size_t slot = 0; slot < kSlots; ++slot) {
    // At most kMaxValue bytes: the model's number check is a std::regex, which recurses
    // per character.
    const std::string_view value =
        (slot + 1 < parts.size() ? parts[slot + 1] : std::string_view()).substr(0, kMaxValue);
    const std::uint8_t pick = data[1 + slot];
    ColumnType type = static_cast<ColumnType>(pick < 0x80 ? pick % 7 : 7 + pick % 4);
    std::string error;
    if (!ReadColumnValue(type, value, canonical[slot], error)) {
      type = ColumnType::kString;
      canonical[slot] = std::string(value);
    }
    values.push_back(TemplateValue{type, canonical[slot]});
  }

  CheckSyntax(text, context);
  CheckExpansion(text, context, values);
  CheckDoubledBraces(text, context);
  for (std::size_t slot = 0; slot < kSlots; ++slot) CheckValueAlone(slot, values);
  return 0;
}
