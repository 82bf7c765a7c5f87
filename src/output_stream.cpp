#include "orchestrator/output_stream.h"

#include <poll.h>
#include <unistd.h>
#include <cerrno>

#include "orchestrator/text.h"

namespace orchestrator {
namespace {

constexpr std::size_t kBufferLimit = 64 * 1024;

}  // namespace

OutputStream::OutputStream(int fd, std::string name, FlushPolicy policy)
    : fd_(fd), name_(std::move(name)), policy_(policy) {}

void OutputStream::Write(std::string_view text) {
  if (failed()) return;
  buffer_ += text;
  if (policy_ == FlushPolicy::kEveryWrite || buffer_.size() >= kBufferLimit) {
    Flush();
  } else if (!flush_pending_ && on_pending_) {
    flush_pending_ = true;
    on_pending_();
  }
}

void AppendPrintable(std::string& out, std::string_view text) {
  AppendTerminalSafe(out, text, UnsafeShownAs::kQuestionMark);
}

namespace {
// Back to the start of the line, and erase to its end (ECMA-48 EL), as ninja does.
constexpr std::string_view kEraseLine = "\r\x1b[K";
}  // namespace

void OutputStream::SetBottomLine(std::string line) {
  if (bottom_line_.empty() && line.empty()) return;
  if (line.empty()) buffer_.insert(0, kEraseLine);  // the old line goes, and no other comes
  bottom_line_ = std::move(line);
  redraw_ = true;
  Flush();
}

bool OutputStream::Flush() {
  flush_pending_ = false;
  // Text above the bottom line: erase it, write the text, draw it again, in one write.
  if (!bottom_line_.empty() && (redraw_ || !buffer_.empty())) {
    buffer_.insert(0, kEraseLine);
    buffer_ += bottom_line_;
  }
  redraw_ = false;
  std::size_t done = 0;
  while (!failed() && done < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n >= 0) {
      done += static_cast<std::size_t>(n);
      bytes_written_ += static_cast<std::uint64_t>(n);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      // Someone made the descriptor non-blocking (it may be shared): wait until it drains.
      pollfd writable{fd_, POLLOUT, 0};
      ::poll(&writable, 1, -1);
    } else if (errno != EINTR) {
      error_ = errno;
    }
  }
  buffer_.clear();
  return !failed();
}

}  // namespace orchestrator
