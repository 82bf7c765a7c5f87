// What a task's captures gave: a few values, each for one column of the result.
#ifndef ORCHESTRATOR_CAPTURED_VALUES_H_
#define ORCHESTRATOR_CAPTURED_VALUES_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace orchestrator {

/// What a captured value's text is: text to write as a JSON string, or JSON text to write as
/// the JSON value it is (`status`, `size`, `time`, and `json:POINTER` of a number, an object, an
/// array, true, false or null, compact). A CSV cell holds the text either way.
enum class CapturedAs : std::uint8_t {
  kText,
  kJson,
};

/// One captured value: its text, and what that text is.
struct CapturedValue {
  std::string_view text;
  CapturedAs as = CapturedAs::kText;

  bool json() const { return as == CapturedAs::kJson; }
  friend bool operator==(const CapturedValue&, const CapturedValue&) = default;
};

/// The values one task captured, each with its capture column (an index into the run's
/// CaptureColumns). Packed in one string: a run may hold the captures of a million tasks that
/// wait in a delay, and an empty set allocates nothing. A column given twice keeps its last
/// value (a retried step, a later step's capture of the same name).
class CapturedValues {
 public:
  /// Adds or replaces the value of `column` (below kMaxColumns).
  void Set(std::size_t column, std::string_view value, CapturedAs as = CapturedAs::kText);
  /// The text of `column`'s value, if it was captured.
  std::optional<std::string_view> Find(std::size_t column) const { return FindIn(packed_, column); }
  /// The value of `column`, text and what it is, if it was captured.
  std::optional<CapturedValue> FindValue(std::size_t column) const {
    return FindValueIn(packed_, column);
  }
  /// The same in bytes that packed() gave (a CaptureStore's), without a copy.
  static std::optional<std::string_view> FindIn(std::string_view packed, std::size_t column);
  static std::optional<CapturedValue> FindValueIn(std::string_view packed, std::size_t column);
  /// Calls `visit(column, text)`, or `visit(column, CapturedValue)` when it takes that, for each
  /// value, in the order they were set.
  template <typename Visit>
  void ForEach(Visit&& visit) const {
    std::size_t at = 0;
    while (at < packed_.size()) {
      const Entry entry = EntryAt(packed_, at);
      if constexpr (std::is_invocable_v<Visit&, std::size_t, CapturedValue>) {
        visit(entry.column, entry.value);
      } else {
        visit(entry.column, entry.value.text);
      }
      at = entry.next;
    }
  }

  /// Columns are 31-bit: the top bit of a packed column field says CapturedAs::kJson.
  static constexpr std::size_t kMaxColumns = std::size_t{1} << 31;

  /// Its bytes, and a set made from them again: for those who keep many (CaptureStore).
  std::string_view packed() const { return packed_; }
  static CapturedValues FromPacked(std::string_view packed) {
    CapturedValues values;
    values.packed_ = packed;
    return values;
  }

  bool empty() const { return packed_.empty(); }
  /// The bytes it takes, for those who keep many.
  std::size_t bytes() const { return packed_.size(); }
  void clear() { packed_.clear(); }

  friend bool operator==(const CapturedValues&, const CapturedValues&) = default;

 private:
  // Each value: its column (4 bytes, the top bit set for CapturedAs::kJson), its length (4
  // bytes), its bytes.
  struct Entry {
    std::size_t column;
    CapturedValue value;
    std::size_t next;  // where the next entry starts
  };
  static Entry EntryAt(std::string_view packed, std::size_t at);

  std::string packed_;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_CAPTURED_VALUES_H_
