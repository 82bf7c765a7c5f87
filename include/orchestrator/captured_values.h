// What a task's captures gave: a few values, each for one column of the result.
#ifndef ORCHESTRATOR_CAPTURED_VALUES_H_
#define ORCHESTRATOR_CAPTURED_VALUES_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orchestrator {

/// The values one task captured, each with its capture column (an index into the run's
/// CaptureColumns). Packed in one string: a run may hold the captures of a million tasks that
/// wait in a delay, and an empty set allocates nothing. A column given twice keeps its last
/// value (a retried step, a later step's capture of the same name).
class CapturedValues {
 public:
  /// Adds or replaces the value of `column`.
  void Set(std::size_t column, std::string_view value);
  /// The value of `column`, if it was captured.
  std::optional<std::string_view> Find(std::size_t column) const { return FindIn(packed_, column); }
  /// The same in bytes that packed() gave (a CaptureStore's), without a copy.
  static std::optional<std::string_view> FindIn(std::string_view packed, std::size_t column);
  /// Calls `visit(column, value)` for each value, in the order they were set.
  template <typename Visit>
  void ForEach(Visit&& visit) const {
    std::size_t at = 0;
    while (at < packed_.size()) {
      const Entry entry = EntryAt(packed_, at);
      visit(entry.column, entry.value);
      at = entry.next;
    }
  }

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
  // Each value: its column (4 bytes), its length (4 bytes), its bytes.
  struct Entry {
    std::size_t column;
    std::string_view value;
    std::size_t next;  // where the next entry starts
  };
  static Entry EntryAt(std::string_view packed, std::size_t at);

  std::string packed_;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_CAPTURED_VALUES_H_
