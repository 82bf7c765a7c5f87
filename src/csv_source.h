// Internal: what the CSV readers feed fast-cpp-csv-parser with, and how they read its rows.
#ifndef ORCHESTRATOR_SRC_CSV_SOURCE_H_
#define ORCHESTRATOR_SRC_CSV_SOURCE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The parser's 2016 snapshot needs <limits> for CSV_IO_NO_THREAD (fixed upstream in 4426871),
// and GCC's -O2 warns about its strncpy of file names (silenced upstream in 1165be5).
#include <limits>
#define CSV_IO_NO_THREAD  // read synchronously: we need the whole input before running anyway
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-truncation"
#include <libfccp/csv.h>
#pragma GCC diagnostic pop

#include "orchestrator/input_error.h"
#include "orchestrator/input_file.h"
#include "orchestrator/text.h"

namespace orchestrator {

/// The parser configuration every reader uses: RFC 4180 quotes, blanks trimmed around
/// fields, blank lines skipped.
using CsvTrim = io::trim_chars<' ', '\t'>;
using CsvQuote = io::double_quote_escape<',', '"'>;
using CsvComment = io::empty_line_comment;

/// A field of a row as a reader checks it: its text (trimmed and unquoted; null for a column
/// the header does not have) and the 1-based byte column where that text starts in its line,
/// after the field's blanks and opening quote, for FILE:LINE:COLUMN.
struct CsvCell {
  const char* text = nullptr;
  std::size_t column = 0;
};

/// The column of `cell`'s text past the blanks Trim strips (a quoted field keeps those inside
/// its quotes), where a message that shows the value trimmed (DescribeBadTaskId) points.
inline std::size_t TrimmedColumn(CsvCell cell) {
  const std::string_view text(cell.text);
  const std::string_view trimmed = Trim(text);
  return cell.column +
         (trimmed.empty() ? 0 : static_cast<std::size_t>(trimmed.data() - text.data()));
}

/// The parser's rows for a set of columns known only once the header is read (io::CSVReader
/// fixes the number of columns at compile time and hides where a field starts in its line). Built
/// from the parser's own line reader and field splitter, so quotes, blanks, blank lines, the BOM
/// and line numbers behave alike. Throws the parser's io::error exceptions (TranslateCsvError
/// them).
class CsvRows {
 public:
  CsvRows(const std::string& file, std::unique_ptr<io::ByteSourceBase> source);

  /// Reads the header's column names (trimmed and unquoted); false for an input with none.
  bool ReadHeader(std::vector<std::string>& names);
  /// Reads the next row, as many fields as the header has; false at the end of the input.
  bool ReadRow();
  /// Field `field` of the row just read, trimmed and unquoted.
  const char* Field(std::size_t field) const { return fields_[field]; }
  /// Field `field` of the row just read with its column.
  CsvCell Cell(std::size_t field) const {
    return {fields_[field], static_cast<std::size_t>(fields_[field] - row_) + 1};
  }
  /// The physical line of the header or row just read.
  std::size_t line() const { return lines_.get_file_line(); }

 private:
  char* NextLine();

  io::LineReader lines_;
  std::vector<int> order_;     // 0, 1, 2...: where parse_line puts each field
  std::vector<char*> fields_;  // per field of the header: its text in the row just read
  const char* row_ = nullptr;  // the start of the row's line, which the fields point into
};

/// Feeds the parser from a file descriptor and checks what the parser would let through:
/// a NUL byte (it would silently cut the field short), a carriage return not followed by a
/// line feed (a CR-only file would read as one long line) and a line longer than
/// kMaxLineLength. It also ends the input with a line feed, because the parser's path for a
/// missing final newline reads out of bounds (fixed upstream in 5a3443e).
///
/// On a problem it records the first one, hands over only the lines before it and then
/// reports the end of the input, so that the parser still reports problems on earlier
/// lines first. Call EarlierOf / ThrowIfFailed after parsing.
class CheckedByteSource : public io::ByteSourceBase {
 public:
  /// Reads at most `limit` bytes of `file` when given (the resume reader stops before a torn
  /// last line that way). Throws Interrupted when the file's interrupt_fd() becomes readable.
  explicit CheckedByteSource(const InputFile& file,
                             std::optional<std::uint64_t> limit = std::nullopt);

  int read(char* buffer, int size) override;

  /// A source for the parser that reads through this one. The parser frees its source
  /// whenever it likes (after the first read, for a small input), so it gets this and the
  /// caller keeps the checks and their verdict.
  std::unique_ptr<io::ByteSourceBase> Lend();

  /// The problem to report: this source's, if it comes no later than `parse_error`.
  const InputError& EarlierOf(const InputError& parse_error) const;
  void ThrowIfFailed() const;

  /// The physical line of the next byte: after a limited read that ended on a line feed,
  /// the number of the line that was left out.
  std::size_t next_line() const { return line_; }

  /// The first line that is not blank (the header), as read: without a BOM or line end, its
  /// first kHeaderKept bytes only, and "" until that line has ended. header_line() is its line.
  const std::string& header_text() const { return header_text_; }
  std::size_t header_line() const { return header_line_; }
  /// Whether header_text() was cut at kHeaderKept bytes.
  bool header_cut() const { return header_cut_; }
  static constexpr std::size_t kHeaderKept = 200;

 private:
  void Fail(std::string message);
  int Check(char* buffer, int size);
  void WaitUntilReadable() const;
  void KeepHeaderByte(char c);
  void EndHeaderLine();

  int fd_;
  int interrupt_fd_;
  std::string name_;
  std::optional<std::uint64_t> remaining_;
  std::optional<InputError> error_;
  std::size_t line_ = 1;         // physical line of the next byte
  std::size_t line_length_ = 0;  // bytes of the current line so far
  bool at_line_start_ = true;    // the last byte handed over was '\n' (or none yet)
  bool after_cr_ = false;        // the last byte checked was '\r'
  bool end_of_input_ = false;
  bool header_done_ = false;  // header_text_ holds the header line
  bool header_blank_ = true;  // the line so far is blanks only (a line the parser skips)
  bool header_cut_ = false;
  std::string header_text_;  // while !header_done_: the current line's first bytes
  std::size_t header_line_ = 0;
};

/// A header line as messages show it, unquoted: what a terminal must not be given as \xNN
/// (AppendTerminalSafe), cut to `max_length` bytes with "..." (also when `cut` already).
std::string ShowHeaderLine(std::string_view text, bool cut, std::size_t max_length = 100);

/// `not a result CSV: its header is task_id,task_type; a result CSV starts
/// task_id,final_status,error_info`, the header shown by ShowHeaderLine.
std::string NotAResultCsvMessage(std::string_view header, bool cut);

/// Translates a parser exception into an InputError on the right line of `file`.
/// `current_line` is the parser's line when it threw (header errors carry no line).
InputError TranslateCsvError(const io::error::base& error, const std::string& file,
                             std::size_t current_line);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_SRC_CSV_SOURCE_H_
