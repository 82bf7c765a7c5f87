#include "orchestrator/interrupts.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <ctime>
#include <stdexcept>
#include <system_error>

namespace orchestrator {
namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};

// What the signal handler talks to. A handler can only reach process-wide state; these are
// lock-free atomics, so reading and writing them in a handler is async-signal-safe.
std::atomic<int> first_signal{0};
// When the first signal came, in nanoseconds of CLOCK_MONOTONIC; 0 until its handler has
// read the clock (a later signal on another thread may run before it has).
std::atomic<std::int64_t> first_signal_ns{0};
std::atomic<int> signal_pipe{-1};
static_assert(std::atomic<int>::is_always_lock_free);
static_assert(std::atomic<std::int64_t>::is_always_lock_free);

struct sigaction saved_actions[std::size(kSignals)];

// clock_gettime is async-signal-safe (POSIX.1-2008); std::chrono's clocks are not said to be.
std::int64_t MonotonicNanoseconds() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

extern "C" void OnSignal(int number) {
  const int saved_errno = errno;
  int expected = 0;
  if (!first_signal.compare_exchange_strong(expected, number)) {
    // The same interruption, delivered twice (the terminal's Ctrl-C and the one `timeout`
    // forwards), unless it comes a whole window after the first.
    const std::int64_t first_ns = first_signal_ns.load();
    if (first_ns == 0 || MonotonicNanoseconds() - first_ns <
                             std::chrono::nanoseconds(SignalWatch::kSameInterruption).count()) {
      errno = saved_errno;
      return;
    }
    ::_exit(128 + number);  // a later signal means "now": no flushing, no destructors
  }
  first_signal_ns.store(MonotonicNanoseconds());
  const char byte = 1;
  [[maybe_unused]] const ssize_t ignored = ::write(signal_pipe.load(), &byte, 1);
  errno = saved_errno;
}

}  // namespace

SignalWatch::SignalWatch() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  read_fd_ = fds[0];
  write_fd_ = fds[1];
  first_signal.store(0);
  first_signal_ns.store(0);
  signal_pipe.store(write_fd_);
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  for (int number : kSignals) sigaddset(&action.sa_mask, number);
  action.sa_flags = SA_RESTART;
  for (std::size_t i = 0; i < std::size(kSignals); ++i) {
    ::sigaction(kSignals[i], &action, &saved_actions[i]);
  }
}

SignalWatch::~SignalWatch() {
  for (std::size_t i = 0; i < std::size(kSignals); ++i) {
    ::sigaction(kSignals[i], &saved_actions[i], nullptr);
  }
  signal_pipe.store(-1);
  ::close(read_fd_);
  ::close(write_fd_);
}

int SignalWatch::received() const { return first_signal.load(); }

std::string_view SignalName(int number) {
  switch (number) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    case SIGHUP:
      return "SIGHUP";
    default:
      return "a signal";
  }
}

namespace {

// An Asio descriptor that waits on a descriptor of our own (a duplicate of the signal pipe,
// or our own epoll instance): Asio makes what it waits on non-blocking, which is only
// harmless on a descriptor nobody else shares.
struct OwnDescriptorWait {
  explicit OwnDescriptorWait(boost::asio::io_context& io) : descriptor(io) {}
  bool Assign(int fd) {
    boost::system::error_code error;
    descriptor.assign(fd, error);
    if (error) ::close(fd);
    return !error;
  }
  boost::asio::posix::stream_descriptor descriptor;
};

}  // namespace

struct SignalWait::State : OwnDescriptorWait {
  using OwnDescriptorWait::OwnDescriptorWait;
};

SignalWait::SignalWait(boost::asio::io_context& io, const SignalWatch& watch,
                       std::function<void(int)> on_signal)
    : state_(std::make_unique<State>(io)) {
  const int fd = ::fcntl(watch.fd(), F_DUPFD_CLOEXEC, 3);
  if (fd < 0 || !state_->Assign(fd)) {
    throw std::system_error(errno, std::generic_category(), "watching the signal pipe");
  }
  state_->descriptor.async_wait(
      boost::asio::posix::descriptor_base::wait_read,
      [&watch, on_signal = std::move(on_signal)](const boost::system::error_code& error) {
        if (!error) on_signal(watch.received());
      });
}

SignalWait::~SignalWait() = default;

struct ClosedReaderWatch::State : OwnDescriptorWait {
  using OwnDescriptorWait::OwnDescriptorWait;
};

ClosedReaderWatch::ClosedReaderWatch(boost::asio::io_context& io, int fd,
                                     std::function<void()> on_closed)
    : state_(std::make_unique<State>(io)) {
  const int epoll = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll < 0) return;
  // No events asked for: epoll always reports EPOLLERR, which the writing end of a pipe gets
  // once no reader is left, and EPOLLHUP. A regular file or a terminal cannot be added (EPERM)
  // and has no reader to lose.
  epoll_event event{};
  event.events = 0;
  if (::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) != 0) {
    ::close(epoll);
    return;
  }
  if (!state_->Assign(epoll)) return;
  state_->descriptor.async_wait(
      boost::asio::posix::descriptor_base::wait_read,
      [on_closed = std::move(on_closed)](const boost::system::error_code& error) {
        if (!error) on_closed();
      });
}

ClosedReaderWatch::~ClosedReaderWatch() = default;

void IgnoreSigpipe() { std::signal(SIGPIPE, SIG_IGN); }

}  // namespace orchestrator
