// An output's own pace: a thread that writes what it is handed to one descriptor, so that a
// reader who takes it slowly, or not at all, holds up nobody else.
#ifndef ORCHESTRATOR_WRITER_THREAD_H_
#define ORCHESTRATOR_WRITER_THREAD_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

namespace orchestrator {

/// Writes `size` bytes at `data` to `fd` with write(2): again after a short write or EINTR,
/// and after waiting for POLLOUT when someone made the descriptor non-blocking (it may be
/// shared). Adds what it wrote to `written`. Returns 0, or the errno of the write that
/// failed.
int WriteAll(int fd, const char* data, std::size_t size, std::uint64_t& written);

/// Writes what it is handed (Push) to a descriptor, in order, on a thread of its own: a pipe
/// whose reader stalls (`| sleep 60`), a paused terminal or a FIFO read slowly delays this
/// thread only. What is handed over and not yet written waits in memory, as much as it is.
///
/// It writes to a duplicate of the descriptor, its own: a thread left writing at the end
/// (below) can never write into a file opened later under the same number.
class WriterThread {
 public:
  /// Does not take `fd`; throws std::system_error if it cannot be duplicated.
  explicit WriterThread(int fd);
  /// Ends the thread once everything is written. A thread still stuck in write(2) (a reader
  /// that never reads, and the wait for it given up: WaitUntilWritten) is left to end with
  /// the process; it holds its own state and descriptor, nothing of this object's.
  ~WriterThread();
  WriterThread(const WriterThread&) = delete;
  WriterThread& operator=(const WriterThread&) = delete;

  /// Hands `text` over, to be written after what was handed over before. Never blocks on the
  /// reader. Dropped once a write has failed.
  void Push(std::string_view text);

  /// Waits until all that was handed over is written, or a write failed: true. False when
  /// `interrupt_fd` (SignalWatch::fd; -1: none) became readable first.
  bool WaitUntilWritten(int interrupt_fd) const;

  /// The errno of the first write that failed, or 0.
  int error() const;
  std::uint64_t bytes_written() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_WRITER_THREAD_H_
