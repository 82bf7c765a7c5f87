#include "orchestrator/column_table.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <functional>

namespace orchestrator {
namespace {

std::size_t PrefixLength(std::size_t length) {
  std::size_t bytes = 1;
  while (length >= 0x80) {
    length >>= 7;
    ++bytes;
  }
  return bytes;
}

void AppendPrefix(std::string& out, std::size_t length) {
  while (length >= 0x80) {
    out += static_cast<char>(0x80 | (length & 0x7f));
    length >>= 7;
  }
  out += static_cast<char>(length);
}

// Reads the length prefix at `pos` and moves `pos` past it.
std::size_t ReadPrefix(const std::string& bytes, std::size_t& pos) {
  std::size_t length = 0;
  for (unsigned shift = 0;; shift += 7) {
    const auto byte = static_cast<unsigned char>(bytes[pos++]);
    length |= static_cast<std::size_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return length;
  }
}

}  // namespace

ColumnTable::ColumnTable(std::size_t max_bytes) : max_bytes_(std::min(max_bytes, kMaxBytes)) {}

std::uint32_t ColumnTable::AddRow(std::span<const std::string_view> values) {
  std::size_t needed = 0;
  for (const std::string_view value : values) needed += PrefixLength(value.size()) + value.size();
  // kNoRow itself is never a row's index.
  if (starts_.size() >= kNoRow - 1 || needed > max_bytes_ - bytes_.size()) return kNoRow;
  const auto row = static_cast<std::uint32_t>(starts_.size());
  starts_.push_back(static_cast<std::uint32_t>(bytes_.size()));
  for (const std::string_view value : values) {
    AppendPrefix(bytes_, value.size());
    bytes_ += value;
  }
  return row;
}

std::size_t ColumnTable::RowEnd(std::uint32_t row) const {
  return row + 1 < starts_.size() ? starts_[row + 1] : bytes_.size();
}

std::string_view ColumnTable::Value(std::uint32_t row, std::size_t k) const {
  assert(row < starts_.size());
  std::size_t pos = starts_[row];
  std::size_t length = ReadPrefix(bytes_, pos);
  for (; k > 0; --k) {
    pos += length;
    assert(pos < RowEnd(row));
    length = ReadPrefix(bytes_, pos);
  }
  return std::string_view(bytes_).substr(pos, length);
}

std::size_t ColumnTable::ValueCount(std::uint32_t row) const {
  assert(row < starts_.size());
  const std::size_t end = RowEnd(row);
  std::size_t count = 0;
  for (std::size_t pos = starts_[row]; pos < end; ++count) pos += ReadPrefix(bytes_, pos);
  return count;
}

void ColumnTable::KeepRows(std::span<const std::uint32_t> keep) {
  const bool increasing =
      std::adjacent_find(keep.begin(), keep.end(), std::greater_equal<>()) == keep.end();
  if (!increasing) {
    ColumnTable copy(max_bytes_);
    copy.starts_.reserve(keep.size());
    for (const std::uint32_t row : keep) {
      assert(row < starts_.size());
      copy.starts_.push_back(static_cast<std::uint32_t>(copy.bytes_.size()));
      copy.bytes_.append(bytes_, starts_[row], RowEnd(row) - starts_[row]);
    }
    *this = std::move(copy);
    return;
  }
  // Row keep[i] is at or after row i, so each move goes down over bytes already kept or
  // already moved.
  std::size_t end = 0;
  for (std::size_t i = 0; i < keep.size(); ++i) {
    const std::uint32_t row = keep[i];
    assert(row < starts_.size());
    const std::size_t start = starts_[row];
    const std::size_t length = RowEnd(row) - start;
    if (start != end) std::memmove(bytes_.data() + end, bytes_.data() + start, length);
    starts_[i] = static_cast<std::uint32_t>(end);
    end += length;
  }
  starts_.resize(keep.size());
  bytes_.resize(end);
}

void ColumnTable::ShrinkToFit() {
  bytes_.shrink_to_fit();
  starts_.shrink_to_fit();
}

std::size_t ColumnTable::MemoryBytes() const {
  // A std::string keeps short contents inside itself; its capacity then counts no heap.
  const std::size_t text = bytes_.capacity() > std::string().capacity() ? bytes_.capacity() + 1 : 0;
  return text + starts_.capacity() * sizeof(std::uint32_t);
}

}  // namespace orchestrator
