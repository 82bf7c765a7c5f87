// The one exception type of the tool: bad input, reported as FILE:LINE[:COLUMN]: what is wrong.
#ifndef ORCHESTRATOR_INPUT_ERROR_H_
#define ORCHESTRATOR_INPUT_ERROR_H_

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace orchestrator {

/// An input file that cannot be used. Thrown by the readers (the CSV parser we build on
/// reports through exceptions, so this edge does too) and caught in main, which exits 2.
class InputError : public std::runtime_error {
 public:
  /// `line` is the 1-based physical line, or 0 when the problem is not on one line.
  InputError(std::string file, std::size_t line, std::string message);
  /// FILE:LINE:COLUMN, for files whose reader knows the column (a blueprint file).
  InputError(std::string file, std::size_t line, std::size_t column, std::string message);

  const std::string& file() const { return file_; }
  std::size_t line() const { return line_; }
  std::size_t column() const { return column_; }  ///< 1-based, or 0 when not known
  const std::string& message() const { return message_; }

 private:
  std::string file_;
  std::size_t line_;
  std::size_t column_ = 0;
  std::string message_;
};

/// Quotes a piece of input for an error message: at most `max_length` bytes, `"` and `\` with a
/// backslash, and what a terminal must not be given (AppendTerminalSafe: controls, bidi
/// controls, bytes that are not UTF-8) as \xNN per byte, so that a hostile input cannot flood
/// or garble the terminal.
std::string QuoteForMessage(std::string_view text, std::size_t max_length = 40);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_INPUT_ERROR_H_
