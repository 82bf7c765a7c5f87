#include "orchestrator/output_stream.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "orchestrator/text.h"

namespace orchestrator {
namespace {

constexpr std::size_t kBufferLimit = 64 * 1024;

}  // namespace

OutputStream::Pace OutputStream::PaceFor(int fd) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) return Pace::kOwnThread;
  // A file, /dev/null or /dev/full takes a write at once or fails it at once: written on the
  // caller's thread, a failure is seen where it happens (the header's, before anything runs).
  if (S_ISREG(info.st_mode) || (S_ISCHR(info.st_mode) && ::isatty(fd) != 1)) return Pace::kCaller;
  return Pace::kOwnThread;
}

OutputStream::OutputStream(int fd, std::string name, FlushPolicy policy, Pace pace)
    : fd_(fd), name_(std::move(name)), policy_(policy) {
  if (pace == Pace::kOwnThread) writer_ = std::make_unique<WriterThread>(fd);
}

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
  if (!failed() && !buffer_.empty()) {
    if (writer_) {
      writer_->Push(buffer_);
    } else {
      error_ = WriteAll(fd_, buffer_.data(), buffer_.size(), bytes_written_);
    }
  }
  buffer_.clear();
  return !failed();
}

bool OutputStream::WaitUntilWritten(int interrupt_fd) {
  Flush();
  return !writer_ || writer_->WaitUntilWritten(interrupt_fd);
}

}  // namespace orchestrator
