#include "orchestrator/capture_store.h"

#include <cstring>
#include <string_view>
#include <utility>

namespace orchestrator {
namespace {

constexpr std::size_t kLengthSize = sizeof(std::uint32_t);

std::uint32_t LengthAt(const std::string& arena, std::uint64_t at) {
  std::uint32_t length = 0;
  std::memcpy(&length, arena.data() + at, kLengthSize);
  return length;
}

void AppendBlock(std::string& arena, std::string_view packed) {
  const auto length = static_cast<std::uint32_t>(packed.size());
  char bytes[kLengthSize];
  std::memcpy(bytes, &length, kLengthSize);
  arena.append(bytes, kLengthSize);
  arena.append(packed);
}

}  // namespace

CaptureStore::CaptureStore(std::size_t tasks) : at_(tasks, kNone) {}

CapturedValues CaptureStore::ValuesAt(std::uint64_t at) const {
  return CapturedValues::FromPacked(
      std::string_view(arena_.data() + at + kLengthSize, LengthAt(arena_, at)));
}

void CaptureStore::Add(TaskIndex task, const CapturedValues& values) {
  if (values.empty()) return;
  std::uint64_t& at = at_[task];
  CapturedValues all;
  if (at != kNone) {
    all = ValuesAt(at);
    live_ -= kLengthSize + LengthAt(arena_, at);
  }
  values.ForEach(
      [&](std::size_t column, CapturedValue value) { all.Set(column, value.text, value.as); });
  // The task's old block, if any, is left behind as garbage until the next Compact.
  at = arena_.size();
  AppendBlock(arena_, all.packed());
  live_ += kLengthSize + all.packed().size();
  if (arena_.size() > 2 * live_ + (std::size_t{1} << 20)) Compact();
}

std::optional<std::string_view> CaptureStore::Find(TaskIndex task, std::size_t column) const {
  if (at_.empty() || at_[task] == kNone) return std::nullopt;
  const std::uint64_t at = at_[task];
  return CapturedValues::FindIn(
      std::string_view(arena_.data() + at + kLengthSize, LengthAt(arena_, at)), column);
}

CapturedValues CaptureStore::Take(TaskIndex task) {
  if (at_.empty() || at_[task] == kNone) return {};
  const std::uint64_t at = std::exchange(at_[task], kNone);
  CapturedValues values = ValuesAt(at);
  live_ -= kLengthSize + values.packed().size();
  if (live_ == 0) {
    arena_.clear();  // every block is taken: start over at the front
  } else if (arena_.size() > 2 * live_ + (std::size_t{1} << 20)) {
    Compact();
  }
  return values;
}

// Moves the live blocks to a new arena, in task order; O(tasks + live bytes), and it runs
// only once the garbage outweighs the live bytes, so each byte moves a bounded number of times.
void CaptureStore::Compact() {
  std::string compacted;
  compacted.reserve(live_ + live_ / 2);
  for (std::uint64_t& at : at_) {
    if (at == kNone) continue;
    const std::uint32_t length = LengthAt(arena_, at);
    const std::uint64_t moved = compacted.size();
    compacted.append(arena_, at, kLengthSize + length);
    at = moved;
  }
  arena_ = std::move(compacted);
}

}  // namespace orchestrator
