// Templates of a blueprint file: URLs, headers, bodies and emit lines filled in from the
// task's row (`https://api/{region}/items?size={size}`, `{{"id": {task_id:json}}}`).
#ifndef ORCHESTRATOR_TEMPLATE_H_
#define ORCHESTRATOR_TEMPLATE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "orchestrator/column.h"

namespace orchestrator {

/// Where the expansion goes; it decides how a value is written (see Template).
enum class TemplateContext : std::uint8_t { kUrl, kHeader, kBody, kText, kPath };

/// The value of one placeholder for one task, canonical as ReadColumnValue writes it (a kBytes
/// value holds the decoded bytes, a kJson value the JSON text as written). task_id is a kU64,
/// task_type a kString.
struct TemplateValue {
  ColumnType type;
  std::string_view text;
};

/// A parsed template.
///
/// Syntax. `{NAME}`, `{NAME:json}` and `{NAME:raw}` are placeholders. NAME is
/// `[A-Za-z_][A-Za-z0-9_-]*`: a '-' is allowed inside, as TOML's bare keys and CSV headers have
/// it (`user-id`); a '.' is not (TOML reads `a.b` as a nested key), but for a NAME that starts
/// with `dep.` or `deps.` (a dependency's value: `{dep.price}`). No blanks inside the braces.
///
/// As curl users write them: in a template with no `{{` anywhere, nothing is escaped. A `{`
/// that opens a placeholder's shape (a name, then `:` and letters or nothing, then `}`) is a
/// placeholder; every other brace is literal, so `{"a":{"b":{task_id}}}` is a JSON object
/// with the id in it. Only these errors can happen there: a placeholder's unknown format
/// (`{x:yaml}`) or unknown name, and control characters in a URL's or header's text.
///
/// With escapes: in a template with `{{` somewhere, `{{` is a literal `{` and `}}` a literal
/// `}` (as in Python's str.format: `{{"id": {task_id:json}}}` is a JSON object), and a `{`
/// starts a placeholder that runs to the next `}`: every template written before the rule above
/// means what it meant. Errors, each at the byte offset of the problem in the source:
///   - a `{` with no `}` after it, or with another `{` before it: `"{" not closed (write {{ for
///     a literal brace)`, at the `{`;
///   - a `}` that closes nothing and is not doubled: at the `}`;
///   - `{}` or `{:json}`: empty name, at the name's place;
///   - a character a name cannot have (`{ "a": 1 }`, `{1x}`): at that character;
///   - a format other than json and raw (`{x:yaml}`, `{x:}`): at the format;
///   - a name `resolve` does not know: `unknown name "regoin" in {regoin}`, at the name;
///   - in kUrl, kPath and kHeader, a control character (below 0x20, or 0x7f) in the literal
///     text, except a tab in kHeader: at that character;
///   - in kPath, a raw placeholder: at its format.
///
/// Values, by context and format (plain `{NAME}`, `{NAME:raw}`, `{NAME:json}`). The text of a
/// value below is its TemplateValue::text: a kBytes value's decoded bytes, a kJson value's JSON
/// text as written in the CSV.
///   - kUrl: plain is percent-encoded (every byte but RFC 3986's unreserved A-Z a-z 0-9 - . _ ~
///     becomes %XX, upper-case hex), so `a b&c` cannot change the URL's shape; raw is verbatim;
///     json is the JSON literal, percent-encoded. A path segment that a plain or json value
///     makes "." or ".." (`/{x}/` with x `..`, `/.{x}/` with x `.`) has its dots written %2E,
///     so that no value can move the request up the path. A raw value with a control
///     character (tab included) fails: it would be a broken URL or an injected line.
/// In kUrl, the "." and ".." segments of the template's own path are removed when it is
/// parsed (RFC 3986 5.2.4: `http://h/a/../b/{x}` is `http://h/b/{x}`), when the text says
/// where its path is: it starts with `scheme://` and has no raw placeholder before the path
/// ends. source() is then the text without them.
///   - kHeader: plain and raw verbatim, json the literal. A plain or raw value with a control
///     character other than tab (CR, LF, NUL...) fails: no header injection.
///   - kBody: plain and raw verbatim (any bytes), json the literal.
///   - kPath (a file a fetch saves its body to): plain and json have '/', '%' and control
///     characters percent-encoded (%2F...), so a value is never more than a part of one file
///     name; a name with a placeholder in it that comes out "." or ".." has its dots written
///     %2E, as in a URL, the template's own dots in it too (`..{x}` with x empty is `%2E%2E`);
///     a name without a placeholder is kept as written (`../`, see --save-anywhere). raw is
///     an error when parsed: a value's slashes would choose the folder. Control characters in
///     the text are an error, as in a URL.
///   - kText (a line on stderr): plain and raw with each control character replaced by '?';
///     json the literal.
/// The JSON literal: a kString or kDuration value is a JSON string, escaped by Boost.JSON, with
/// DEL written as \u007f so that a literal never holds a control character; the value must be
/// UTF-8 (RFC 3629), since JSON text is, or the expansion fails. kU32, kU64, kI32, kI64, kF32
/// and kF64 are the text as given, which must be a JSON number (it is, when canonical); kBool
/// is `true` or `false`, and must be one of them. kBytes is a JSON string of the bytes in
/// base64 (RFC 4648, standard alphabet, padded: OpenSSL's EVP_EncodeBlock), so
/// `{NAME:json}` gives back the CSV's text. kJson is the text without the blanks between its
/// tokens (space, tab, CR, LF outside strings) and with DEL in a string written \u007f;
/// nothing else changes (numbers keep their digits: re-serializing would turn 1.0 into 1E0);
/// the text is not parsed again, but a control character that a JSON value cannot hold fails
/// the expansion. A value that breaks these rules fails the expansion with a message naming the
/// placeholder; the caller fails that task.
class Template {
 public:
  /// A placeholder's NAME to its slot, the index `value` is later called with; nullopt for a
  /// name the task's type does not declare.
  using Resolve = std::function<std::optional<std::size_t>(std::string_view name)>;
  struct Error {
    std::size_t offset;   ///< byte offset in the source text
    std::string message;  ///< for people, no control characters; without the offset
  };

  /// The empty template (kText): expands to nothing.
  Template() = default;

  /// `known_names`, when given, are listed in the message for an unknown name.
  static std::variant<Template, Error> Parse(std::string_view text, TemplateContext context,
                                             const Resolve& resolve,
                                             std::span<const std::string> known_names = {});

  /// Appends the expansion to `out`, calling `value` once per placeholder. On a value that
  /// cannot go where it is, leaves `out` as it was, writes a message to `error` (`value of
  /// region has a line break; it cannot go in a header`) and returns false. Allocates nothing
  /// but what appending to `out` takes (and the message on failure).
  bool ExpandTo(std::string& out, const std::function<TemplateValue(std::size_t slot)>& value,
                std::string& error) const;

  bool has_placeholders() const { return !placeholders_.empty(); }
  /// Calls f(slot) for each placeholder, in order.
  template <typename F>
  void ForEachSlot(F&& f) const {
    for (const Placeholder& placeholder : placeholders_) f(placeholder.slot);
  }
  /// The text it was parsed from (a URL's without its dot segments).
  const std::string& source() const { return source_; }
  TemplateContext context() const { return context_; }

 private:
  enum class Format : std::uint8_t { kPlain, kRaw, kJson };
  struct Placeholder {
    std::size_t literal_end;  ///< literals_[previous literal_end, literal_end) comes first
    std::size_t slot;
    std::size_t name_offset;  ///< NAME in source_
    std::size_t name_size;
    Format format;
  };

  /// Parse, but without resolving a URL's dot segments.
  static std::variant<Template, Error> ParseAsWritten(std::string_view text,
                                                      TemplateContext context,
                                                      const Resolve& resolve,
                                                      std::span<const std::string> known_names);
  bool AppendValue(std::string& out, const Placeholder& placeholder, const TemplateValue& value,
                   std::string& error) const;

  std::string source_;
  TemplateContext context_ = TemplateContext::kText;
  std::string literals_;  ///< all literal text, braces undoubled, in order
  std::vector<Placeholder> placeholders_;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_TEMPLATE_H_
