// Typed input columns: the values a blueprint says each row of its task_type carries.
#ifndef ORCHESTRATOR_COLUMN_H_
#define ORCHESTRATOR_COLUMN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orchestrator {

/// The types a blueprint file may give a column (`columns = { size = "u32" }`). Later types
/// come last, so that the numbers of the first seven stay what they were (the template
/// fuzzer's inputs pick a type by its number).
enum class ColumnType : std::uint8_t {
  kString,
  kU32,
  kU64,
  kI64,
  kF64,
  kBool,
  kDuration,
  kI32,
  kF32,
  kBytes,
  kJson
};

/// The type a blueprint file names: "string", "u32", "u64", "i32", "i64", "f32", "f64", "bool",
/// "duration", "bytes", "json".
std::optional<ColumnType> ColumnTypeNamed(std::string_view name);
/// The name of `type`, as a blueprint file writes it.
std::string_view NameOf(ColumnType type);
/// All the names ColumnTypeNamed knows, for messages: "string, u32, u64, ...".
std::string_view ColumnTypeNames();

/// Reads `text`, a field as the CSV reader hands it over (unquoted, blanks around it
/// dropped), as a value of `type`. On success writes its canonical form to `value` and
/// returns true:
///   - integers (u32, u64, i32, i64) in plain decimal (no sign "+", no leading zeros, "-0" is
///     "0");
///   - f64 and f32 as the shortest decimal that reads back as the same double or float
///     (std::to_chars); finite values only, as JSON has no inf or nan;
///   - bool as true or false, a duration and a string as given;
///   - bytes decoded: `text` is base64 (RFC 4648 section 4: the standard alphabet A-Z a-z 0-9
///     + /, with its "=" padding and the bits of the last digit that belong to no byte 0;
///     nothing else, not even a line break), and `value` gets the
///     bytes it stands for, which may be any bytes (NUL included). Templates write them as
///     they are or percent-encoded, and encode them again only for {NAME:json};
///   - json as given, after Boost.JSON read it as one JSON value (RFC 8259: any value, arrays
///     and objects included, UTF-8 in its strings, at most 32 levels deep). Blanks between its
///     tokens stay: {NAME:raw} writes the text as written, {NAME:json} drops them.
/// On failure writes a message for people to `error` (`"12x" is not a u32`,
/// `"ab$c" is not bytes (base64: "$" at byte 3)`) and returns false.
bool ReadColumnValue(ColumnType type, std::string_view text, std::string& value,
                     std::string& error);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_COLUMN_H_
