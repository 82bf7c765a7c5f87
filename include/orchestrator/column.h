// Typed input columns: the values a blueprint says each row of its task_type carries.
#ifndef ORCHESTRATOR_COLUMN_H_
#define ORCHESTRATOR_COLUMN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orchestrator {

/// The types a blueprint file may give a column (`columns = { size = "u32" }`).
enum class ColumnType : std::uint8_t { kString, kU32, kU64, kI64, kF64, kBool, kDuration };

/// The type a blueprint file names: "string", "u32", "u64", "i64", "f64", "bool", "duration".
std::optional<ColumnType> ColumnTypeNamed(std::string_view name);
/// The name of `type`, as a blueprint file writes it.
std::string_view NameOf(ColumnType type);

/// Reads `text`, a field as the CSV reader hands it over (unquoted, blanks around it
/// dropped), as a value of `type`. On success writes its canonical form to `value` and
/// returns true: integers in plain decimal (no sign "+", no leading zeros), f64 as the
/// shortest decimal that reads back the same (finite values only: JSON has no inf or nan),
/// bool as true or false, a duration and a string as given. On failure writes a message
/// for people to `error` (`"12x" is not a u32`) and returns false.
bool ReadColumnValue(ColumnType type, std::string_view text, std::string& value,
                     std::string& error);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_COLUMN_H_
