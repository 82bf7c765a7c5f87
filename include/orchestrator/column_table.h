// The typed column values of the tasks that carry some, in one arena.
#ifndef ORCHESTRATOR_COLUMN_TABLE_H_
#define ORCHESTRATOR_COLUMN_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace orchestrator {

/// Rows of text values (a task's column values in canonical form, in its blueprint's column
/// order), stored back to back in one buffer: no std::string, vector or map per row.
///
/// Memory: a row costs 4 bytes (its start) plus, for each value, its length and a length
/// prefix of 1 byte (values under 128 bytes; 2 bytes under 16 KiB, 3 under 2 MiB). A task
/// with `region = "eu-west"` and `size = "12"` takes 4 + 8 + 3 = 15 bytes. Capacity left by
/// growing is given back by ShrinkToFit.
///
/// Limits: all values together take at most 4 GiB - 1 bytes (offsets are 32-bit), and there
/// are at most 2^32 - 2 rows. AddRow says when a row does not fit; nothing here throws but
/// std::bad_alloc.
class ColumnTable {
 public:
  /// "This task has no row": what AddRow returns when the table is full.
  static constexpr std::uint32_t kNoRow = std::numeric_limits<std::uint32_t>::max();
  /// The most bytes the values and their length prefixes may take together.
  static constexpr std::size_t kMaxBytes = std::numeric_limits<std::uint32_t>::max();

  ColumnTable() = default;
  /// A table limited to `max_bytes` (at most kMaxBytes), for tests of the limit.
  explicit ColumnTable(std::size_t max_bytes);

  /// Appends a row and returns its index (0, 1, 2, ...), or kNoRow when it would pass a limit
  /// (the table is then unchanged).
  std::uint32_t AddRow(std::span<const std::string_view> values);
  std::uint32_t AddRow(std::initializer_list<std::string_view> values) {
    return AddRow(std::span<const std::string_view>(values.begin(), values.size()));
  }

  /// Value `k` of `row`; `row` < rows() and `k` < ValueCount(row). Costs a walk over the
  /// row's first k length prefixes (rows are short).
  std::string_view Value(std::uint32_t row, std::size_t k) const;
  /// How many values `row` holds.
  std::size_t ValueCount(std::uint32_t row) const;
  std::size_t rows() const { return starts_.size(); }
  std::size_t max_bytes() const { return max_bytes_; }

  /// Keeps only the rows `keep` names, in that order: row keep[i] becomes row i. Each row may
  /// be named once. Strictly increasing indices (rows kept in the order they were added, as
  /// when duplicate tasks are dropped) are moved down in place; any other order copies.
  void KeepRows(std::span<const std::uint32_t> keep);

  /// Gives back the capacity that growing left unused.
  void ShrinkToFit();
  /// Heap bytes held, capacity included.
  std::size_t MemoryBytes() const;

 private:
  std::size_t RowEnd(std::uint32_t row) const;

  std::string bytes_;                  // each value: LEB128 length, then its bytes
  std::vector<std::uint32_t> starts_;  // offset in bytes_ of each row's first value
  std::size_t max_bytes_ = kMaxBytes;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_COLUMN_TABLE_H_
