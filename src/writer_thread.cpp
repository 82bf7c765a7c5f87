#include "orchestrator/writer_thread.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

namespace orchestrator {

int WriteAll(int fd, const char* data, std::size_t size, std::uint64_t& written) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, data + done, size - done);
    if (n >= 0) {
      done += static_cast<std::size_t>(n);
      written += static_cast<std::uint64_t>(n);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      pollfd writable{fd, POLLOUT, 0};
      ::poll(&writable, 1, -1);
    } else if (errno != EINTR) {
      return errno;
    }
  }
  return 0;
}

// What the thread and the object share. The thread holds it too, so that a thread left stuck
// in write(2) at the end outlives the object safely.
struct WriterThread::State {
  int fd = -1;       // our own duplicate
  int written = -1;  // an eventfd, readable when all that was handed over is written
  std::mutex mutex;
  std::condition_variable work;
  std::string pending;   // handed over, not taken by the thread yet
  bool writing = false;  // the thread is writing what it took
  bool closing = false;
  std::atomic<int> error{0};
  std::atomic<std::uint64_t> bytes_written{0};

  ~State() {
    if (fd >= 0) ::close(fd);
    if (written >= 0) ::close(written);
  }

  bool AllWritten() const { return (pending.empty() && !writing) || error.load() != 0; }

  void TellWritten() const {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t ignored = ::write(written, &one, sizeof one);
  }

  void Loop() {
    std::string taken;
    while (true) {
      {
        std::unique_lock lock(mutex);
        writing = false;
        if (AllWritten()) TellWritten();
        work.wait(lock, [this] { return closing || !pending.empty(); });
        if (pending.empty()) return;  // closing, and nothing left
        taken.clear();
        std::swap(taken, pending);
        writing = true;
      }
      if (error.load() != 0) continue;  // failed before: what was handed over is dropped
      std::uint64_t count = 0;
      const int failed = WriteAll(fd, taken.data(), taken.size(), count);
      bytes_written.fetch_add(count);
      if (failed != 0) error.store(failed);
    }
  }
};

WriterThread::WriterThread(int fd) : state_(std::make_shared<State>()) {
  state_->fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (state_->fd < 0) throw std::system_error(errno, std::generic_category(), "dup");
  state_->written = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (state_->written < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  thread_ = std::thread([state = state_] { state->Loop(); });
}

WriterThread::~WriterThread() {
  bool all_written = false;
  {
    const std::lock_guard lock(state_->mutex);
    state_->closing = true;
    all_written = state_->AllWritten();
  }
  state_->work.notify_one();
  // An idle thread ends at once. One still writing is waited for only when nothing is left
  // to write, so that a stalled reader cannot keep the process from ending: it ends when its
  // write does, or with the process.
  if (all_written) {
    thread_.join();
  } else {
    thread_.detach();
  }
}

void WriterThread::Push(std::string_view text) {
  if (text.empty() || state_->error.load() != 0) return;
  {
    const std::lock_guard lock(state_->mutex);
    state_->pending += text;
  }
  state_->work.notify_one();
}

bool WriterThread::WaitUntilWritten(int interrupt_fd) const {
  while (true) {
    {
      const std::lock_guard lock(state_->mutex);
      if (state_->AllWritten()) return true;
    }
    pollfd fds[2] = {{state_->written, POLLIN, 0}, {interrupt_fd, POLLIN, 0}};
    if (::poll(fds, interrupt_fd >= 0 ? 2 : 1, -1) < 0) continue;  // EINTR: look again
    if (interrupt_fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) return false;
    std::uint64_t count = 0;
    [[maybe_unused]] const ssize_t ignored = ::read(state_->written, &count, sizeof count);
  }
}

int WriterThread::error() const { return state_->error.load(); }

std::uint64_t WriterThread::bytes_written() const { return state_->bytes_written.load(); }

}  // namespace orchestrator
