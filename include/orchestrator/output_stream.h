// A buffered writer to a file descriptor that remembers its first error.
#ifndef ORCHESTRATOR_OUTPUT_STREAM_H_
#define ORCHESTRATOR_OUTPUT_STREAM_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "orchestrator/writer_thread.h"

namespace orchestrator {

/// Appends `text` (from the input: a task_type, a line) with each control character (C0, DEL,
/// C1), bidirectional control and byte that is not UTF-8 as '?' (AppendTerminalSafe), so that
/// it cannot write escape sequences to a terminal or reorder the line.
void AppendPrintable(std::string& out, std::string_view text);

/// Buffers text for a descriptor (stdout, stderr, a results file) and writes it with
/// write(2), so that errors are seen where they happen: EPIPE, ENOSPC and EIO become
/// failed() with the errno, and nothing is written after the first error.
///
/// With Pace::kOwnThread a flush hands the text to a WriterThread and returns at once: the
/// caller (the collector) goes on while the reader takes its time, and an error is seen once
/// the thread has met it.
class OutputStream {
 public:
  enum class Pace {
    kCaller,     ///< written on the caller's thread, as it flushes
    kOwnThread,  ///< written on a thread of the stream's own (WriterThread)
  };
  /// kOwnThread for what a reader can stall (a pipe, a terminal, a FIFO, a socket);
  /// kCaller for a regular file or a device that is not a terminal (/dev/null, /dev/full),
  /// which take what they are given, or fail, at once.
  static Pace PaceFor(int fd);

  enum class FlushPolicy {
    kEveryWrite,  ///< write(2) per Write: a crash loses at most the text being written
    kWhenAsked,   ///< write(2) on Flush, or when the buffer passes 64 KiB
  };

  /// Does not own `fd`. `name` is for messages ("stdout", a file name).
  OutputStream(int fd, std::string name, FlushPolicy policy, Pace pace = Pace::kCaller);
  OutputStream(const OutputStream&) = delete;
  OutputStream& operator=(const OutputStream&) = delete;

  void Write(std::string_view text);
  /// Writes out what is buffered (with kOwnThread: hands it over). Returns false if the
  /// stream has failed.
  bool Flush();

  /// Flushes, then waits until everything is written (true: at once with kCaller) or until
  /// `interrupt_fd` (-1: none) is readable (false). Whether it failed, failed() says.
  bool WaitUntilWritten(int interrupt_fd);

  /// With kWhenAsked: called when text is buffered and no flush has been asked for since the
  /// last one, so the owner can schedule a Flush once per burst of writes.
  /// A results file is written in bulk until it holds the carried-over rows, then row by
  /// row.
  void set_policy(FlushPolicy policy) { policy_ = policy; }

  void set_on_pending(std::function<void()> on_pending) { on_pending_ = std::move(on_pending); }

  /// A line kept below everything the stream writes (a terminal's status line), written now
  /// in place of the one before: every later flush first erases it, writes its text, and
  /// draws it again, in one write(2). Without a newline; `line` must have none either. An
  /// empty line erases it for good. For a terminal only: it writes "\r" and "ESC [K".
  void SetBottomLine(std::string line);

  /// Marks the stream failed with `error` (an errno) from outside, as when the file behind
  /// it could not be put in place: nothing is written after it.
  void Fail(int error) {
    if (error_ == 0) error_ = error;
  }

  bool failed() const { return error() != 0; }
  /// The errno of the first failed write.
  int error() const { return error_ != 0 || !writer_ ? error_ : writer_->error(); }
  const std::string& name() const { return name_; }
  std::uint64_t bytes_written() const {
    return writer_ ? writer_->bytes_written() : bytes_written_;
  }

 private:
  int fd_;
  std::string name_;
  FlushPolicy policy_;
  std::string buffer_;
  std::string bottom_line_;  // drawn below the text, when not empty
  bool redraw_ = false;      // the next flush draws the bottom line even without text
  std::function<void()> on_pending_;
  bool flush_pending_ = false;
  int error_ = 0;
  std::uint64_t bytes_written_ = 0;
  std::unique_ptr<WriterThread> writer_;  // with Pace::kOwnThread
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_OUTPUT_STREAM_H_
