#include "csv_source.h"

#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "orchestrator/interrupts.h"
#include "orchestrator/task_reader.h"
#include "orchestrator/text.h"

namespace orchestrator {
namespace {

constexpr const char* kLoneCarriageReturn =
    "carriage return not followed by a line feed (only LF and CRLF line ends are read)";

}  // namespace

CheckedByteSource::CheckedByteSource(const InputFile& file, std::optional<std::uint64_t> limit)
    : fd_(file.fd()), interrupt_fd_(file.interrupt_fd()), name_(file.name()), remaining_(limit) {}

// Waits for input, or for the end of it, and gives up when a signal came first.
void CheckedByteSource::WaitUntilReadable() const {
  pollfd fds[2] = {{fd_, POLLIN, 0}, {interrupt_fd_, POLLIN, 0}};
  while (true) {
    const int ready = ::poll(fds, interrupt_fd_ >= 0 ? 2 : 1, -1);
    if (ready < 0 && errno == EINTR) continue;
    if (interrupt_fd_ >= 0 && fds[1].revents != 0) throw Interrupted();
    return;  // readable, at its end, or an error that the read will report
  }
}

int CheckedByteSource::read(char* buffer, int size) {
  if (error_ || size <= 0) return 0;
  if (end_of_input_) {
    if (at_line_start_) return 0;
    EndHeaderLine();
    buffer[0] = '\n';  // the final line feed the input lacked
    at_line_start_ = true;
    ++line_;
    return 1;
  }

  // The parser takes a short read for the end of the input, so fill the buffer completely.
  std::size_t wanted = static_cast<std::size_t>(size);
  if (remaining_ && *remaining_ < wanted) wanted = static_cast<std::size_t>(*remaining_);
  std::size_t filled = 0;
  int read_errno = 0;
  while (filled < wanted) {
    WaitUntilReadable();
    const ssize_t n = ::read(fd_, buffer + filled, wanted - filled);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) read_errno = errno;
    if (n <= 0) break;
    filled += static_cast<std::size_t>(n);
  }
  if (remaining_) *remaining_ -= filled;
  if (filled < static_cast<std::size_t>(size)) end_of_input_ = true;

  int handed = Check(buffer, static_cast<int>(filled));
  if (!error_ && read_errno != 0) Fail(std::string("read error: ") + std::strerror(read_errno));
  if (!error_ && end_of_input_ && after_cr_) Fail(kLoneCarriageReturn);  // the input's last byte
  if (error_) return handed;
  if (end_of_input_ && !at_line_start_ && handed < size) {
    EndHeaderLine();
    buffer[handed++] = '\n';
    at_line_start_ = true;
    ++line_;
  }
  return handed;
}

int CheckedByteSource::Check(char* buffer, int size) {
  int complete = 0;  // bytes up to and including the last line feed seen in this buffer
  for (int i = 0; i < size; ++i) {
    const char c = buffer[i];
    if (after_cr_ && c != '\n') {
      Fail(kLoneCarriageReturn);
      return complete;
    }
    after_cr_ = c == '\r';
    if (!header_done_) KeepHeaderByte(c);
    if (c == '\n') {
      ++line_;
      line_length_ = 0;
      complete = i + 1;
    } else if (c == '\0') {
      Fail("NUL byte in the input (is this a text file?)");
      return complete;
    } else if (c != '\r' && ++line_length_ > kMaxLineLength) {  // a CRLF's CR is no content
      Fail(fmt::format("line longer than {} bytes", kMaxLineLength));
      return complete;
    }
  }
  if (size > 0) at_line_start_ = buffer[size - 1] == '\n';
  return size;
}

// Keeps the bytes of the current line until one that is not blank has ended: the header.
void CheckedByteSource::KeepHeaderByte(char c) {
  if (c == '\n') {
    EndHeaderLine();
    return;
  }
  if (c == '\r') return;  // a CRLF's CR (a lone one fails the input)
  if (c != ' ' && c != '\t') header_blank_ = false;
  if (header_text_.size() < kHeaderKept) {
    header_text_ += c;
  } else {
    header_cut_ = true;
  }
}

void CheckedByteSource::EndHeaderLine() {
  if (header_done_) return;
  constexpr std::string_view kBom = "\xef\xbb\xbf";
  if (line_ == 1 && header_text_.starts_with(kBom)) {
    header_text_.erase(0, kBom.size());
    header_blank_ = header_text_.find_first_not_of(" \t") == std::string::npos;
  }
  if (header_blank_) {
    header_text_.clear();
    header_cut_ = false;
    return;
  }
  header_done_ = true;
  header_line_ = line_;
}

std::unique_ptr<io::ByteSourceBase> CheckedByteSource::Lend() {
  class Borrowed : public io::ByteSourceBase {
   public:
    explicit Borrowed(CheckedByteSource& source) : source_(source) {}
    int read(char* buffer, int size) override { return source_.read(buffer, size); }

   private:
    CheckedByteSource& source_;
  };
  return std::make_unique<Borrowed>(*this);
}

void CheckedByteSource::Fail(std::string message) {
  if (!error_) error_.emplace(name_, line_, std::move(message));
}

const InputError& CheckedByteSource::EarlierOf(const InputError& parse_error) const {
  if (error_ && error_->line() <= parse_error.line()) return *error_;
  return parse_error;
}

void CheckedByteSource::ThrowIfFailed() const {
  if (error_) throw *error_;
}

CsvRows::CsvRows(const std::string& file, std::unique_ptr<io::ByteSourceBase> source)
    : lines_(file, std::move(source)) {}

char* CsvRows::NextLine() {
  char* line = nullptr;
  do {
    line = lines_.next_line();
  } while (line != nullptr && CsvComment::is_comment(line));
  return line;
}

bool CsvRows::ReadHeader(std::vector<std::string>& names) {
  names.clear();
  char* line = NextLine();
  if (line == nullptr) return false;
  // What io::detail::parse_header_line does to each name.
  while (line != nullptr) {
    char* begin = nullptr;
    char* end = nullptr;
    io::detail::chop_next_column<CsvQuote>(line, begin, end);
    CsvTrim::trim(begin, end);
    CsvQuote::unescape(begin, end);
    names.emplace_back(begin, end);
  }
  // Every field is kept: which ones a row needs may be known only once it is split.
  order_.resize(names.size());
  for (std::size_t k = 0; k < names.size(); ++k) order_[k] = static_cast<int>(k);
  fields_.assign(names.size(), nullptr);
  return true;
}

bool CsvRows::ReadRow() {
  char* line = NextLine();
  if (line == nullptr) return false;
  row_ = line;
  io::detail::parse_line<CsvTrim, CsvQuote>(line, fields_.data(), order_);
  return true;
}

std::string ShowHeaderLine(std::string_view text, bool cut, std::size_t max_length) {
  std::size_t size = std::min(text.size(), max_length);
  // Not inside a UTF-8 sequence (which has at most 3 bytes after its first).
  for (int back = 0; back < 3 && size > 0 && size < text.size() &&
                     (static_cast<unsigned char>(text[size]) & 0xc0) == 0x80;
       ++back) {
    --size;
  }
  std::string shown = TerminalSafe(text.substr(0, size), UnsafeShownAs::kHexEscapes);
  if (cut || size < text.size()) shown += "...";
  return shown;
}

std::string NotAResultCsvMessage(std::string_view header, bool cut) {
  return fmt::format("not a result CSV: its header is {}; a result CSV starts {}",
                     ShowHeaderLine(header, cut), "task_id,final_status,error_info");
}

InputError TranslateCsvError(const io::error::base& error, const std::string& file,
                             std::size_t current_line) {
  std::size_t line = current_line;
  if (const auto* with_line = dynamic_cast<const io::error::with_file_line*>(&error);
      with_line != nullptr && with_line->file_line > 0) {
    line = static_cast<std::size_t>(with_line->file_line);
  }
  std::string message;
  if (dynamic_cast<const io::error::too_few_columns*>(&error) != nullptr) {
    message = "fewer fields than the header has";
  } else if (dynamic_cast<const io::error::too_many_columns*>(&error) != nullptr) {
    message = "more fields than the header has";
  } else if (dynamic_cast<const io::error::escaped_string_not_closed*>(&error) != nullptr) {
    message =
        "quoted field not closed on this line (line breaks inside quoted fields are not "
        "supported)";
  } else if (const auto* duplicated =
                 dynamic_cast<const io::error::duplicated_column_in_header*>(&error);
             duplicated != nullptr) {
    message = fmt::format("column {} appears twice in the header",
                          QuoteForMessage(duplicated->column_name));
  } else if (dynamic_cast<const io::error::line_length_limit_exceeded*>(&error) != nullptr) {
    message = fmt::format("line longer than {} bytes", kMaxLineLength);
  } else {
    message = error.what();
  }
  return InputError(file, line, std::move(message));
}

}  // namespace orchestrator
