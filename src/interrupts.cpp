#include "orchestrator/interrupts.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <csignal>
#include <stdexcept>
#include <system_error>

namespace orchestrator {
namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};

// What the signal handler talks to. A handler can only reach process-wide state; these are
// lock-free atomics, so reading and writing them in a handler is async-signal-safe.
std::atomic<int> first_signal{0};
std::atomic<int> signal_pipe{-1};
static_assert(std::atomic<int>::is_always_lock_free);

struct sigaction saved_actions[std::size(kSignals)];

extern "C" void OnSignal(int number) {
  int expected = 0;
  if (!first_signal.compare_exchange_strong(expected, number)) {
    ::_exit(128 + number);  // the second signal means "now": no flushing, no destructors
  }
  const int saved_errno = errno;
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
