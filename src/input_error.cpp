#include "orchestrator/input_error.h"

#include <fmt/format.h>

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
  std::string quoted = "\"";
  std::size_t shown = 0;
  for (const char c : text) {
    if (shown == max_length) {
      quoted += "...";
      break;
    }
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      quoted += fmt::format("\\x{:02x}", byte);
    } else if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += c;
    } else {
      quoted += c;
    }
    ++shown;
  }
  quoted += '"';
  return quoted;
}

}  // namespace orchestrator
