#include "orchestrator/input_error.h"

#include <fmt/format.h>

#include <algorithm>

#include "orchestrator/text.h"

namespace orchestrator {
namespace {

std::string Compose(const std::string& file, std::size_t line, std::size_t column,
                    const std::string& message) {
  if (line == 0) return fmt::format("{}: {}", file, message);
  if (column == 0) return fmt::format("{}:{}: {}", file, line, message);
  return fmt::format("{}:{}:{}: {}", file, line, column, message);
}

}  // namespace

InputError::InputError(std::string file, std::size_t line, std::string message)
    : InputError(std::move(file), line, 0, std::move(message)) {}

InputError::InputError(std::string file, std::size_t line, std::size_t column, std::string message)
    : std::runtime_error(Compose(file, line, column, message)),
      file_(std::move(file)),
      line_(line),
      column_(column),
      message_(std::move(message)) {}

std::string QuoteForMessage(std::string_view text, std::size_t max_length) {
  std::size_t size = std::min(text.size(), max_length);
  // Not inside a UTF-8 sequence (which has at most 3 bytes after its first).
  for (int back = 0; back < 3 && size > 0 && size < text.size() &&
                     (static_cast<unsigned char>(text[size]) & 0xc0) == 0x80;
       ++back) {
    --size;
  }
  const std::string_view shown = text.substr(0, size);
  std::string escaped;
  for (const char c : shown) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  std::string quoted = "\"";
  AppendTerminalSafe(quoted, escaped, UnsafeShownAs::kHexEscapes);
  if (shown.size() < text.size()) quoted += "...";
  quoted += '"';
  return quoted;
}

}  // namespace orchestrator
