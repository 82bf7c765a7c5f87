#include "orchestrator/captured_values.h"

#include <cstring>
#include <stdexcept>

namespace orchestrator {
namespace {

constexpr std::size_t kFieldSize = sizeof(std::uint32_t);
constexpr std::uint32_t kJsonBit = std::uint32_t{1} << 31;

void AppendU32(std::string& out, std::uint32_t value) {
  char bytes[kFieldSize];
  std::memcpy(bytes, &value, kFieldSize);
  out.append(bytes, kFieldSize);
}

std::uint32_t U32At(std::string_view packed, std::size_t at) {
  std::uint32_t value = 0;
  std::memcpy(&value, packed.data() + at, kFieldSize);
  return value;
}

}  // namespace

CapturedValues::Entry CapturedValues::EntryAt(std::string_view packed, std::size_t at) {
  const std::uint32_t field = U32At(packed, at);
  const std::size_t length = U32At(packed, at + kFieldSize);
  const std::size_t start = at + 2 * kFieldSize;
  return {field & ~kJsonBit,
          {packed.substr(start, length),
           (field & kJsonBit) != 0 ? CapturedAs::kJson : CapturedAs::kText},
          start + length};
}

void CapturedValues::Set(std::size_t column, std::string_view value, CapturedAs as) {
  if (value.size() > UINT32_MAX) throw std::length_error("a captured value of 4 GiB or more");
  if (column >= kMaxColumns) throw std::length_error("a capture column past 2^31");
  std::size_t at = 0;
  while (at < packed_.size()) {
    const Entry entry = EntryAt(packed_, at);
    if (entry.column == column) {
      packed_.erase(at, entry.next - at);
      break;
    }
    at = entry.next;
  }
  AppendU32(packed_, static_cast<std::uint32_t>(column) | (as == CapturedAs::kJson ? kJsonBit : 0));
  AppendU32(packed_, static_cast<std::uint32_t>(value.size()));
  packed_.append(value);
}

std::optional<std::string_view> CapturedValues::FindIn(std::string_view packed,
                                                       std::size_t column) {
  if (const std::optional<CapturedValue> value = FindValueIn(packed, column)) return value->text;
  return std::nullopt;
}

std::optional<CapturedValue> CapturedValues::FindValueIn(std::string_view packed,
                                                         std::size_t column) {
  std::size_t at = 0;
  while (at < packed.size()) {
    const Entry entry = EntryAt(packed, at);
    if (entry.column == column) return entry.value;
    at = entry.next;
  }
  return std::nullopt;
}

}  // namespace orchestrator
