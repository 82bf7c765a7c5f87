// Sizes in bytes on the command line and in messages.
#ifndef ORCHESTRATOR_BYTE_SIZE_H_
#define ORCHESTRATOR_BYTE_SIZE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orchestrator {

/// Parses a whole number of bytes with an optional binary unit: "4096", "512k", "10M",
/// "1G" (also "KiB", "MiB", "GiB", "B"; k = 1024). Returns nullopt for anything else: a
/// sign, a fraction, spaces, an unknown unit, or a value beyond 2^64 - 1.
std::optional<std::uint64_t> ParseByteSize(std::string_view text);

/// Formats for people: "512 bytes", "10 MiB", "1.5 GiB".
std::string FormatByteSize(std::uint64_t bytes);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_BYTE_SIZE_H_
