#include "orchestrator/interrupts.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>

namespace orchestrator {
namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};

// Async-signal-safe: the second signal means "now", so no flushing, no destructors.
extern "C" void ExitAtOnce(int number) { ::_exit(128 + number); }

}  // namespace

struct SignalWatch::State {
  explicit State(boost::asio::io_context& io) : signals(io) {}
  boost::asio::signal_set signals;
  std::function<void(int)> on_signal;
};

SignalWatch::SignalWatch(boost::asio::io_context& io, std::function<void(int)> on_signal)
    : state_(std::make_unique<State>(io)) {
  state_->on_signal = std::move(on_signal);
  for (int number : kSignals) state_->signals.add(number);
  state_->signals.async_wait(
      [state = state_.get()](const boost::system::error_code& error, int number) {
        if (error) return;
        // From now on a signal does not wait for the loop.
        boost::system::error_code ignored;
        state->signals.clear(ignored);
        struct sigaction action {};
        action.sa_handler = ExitAtOnce;
        sigemptyset(&action.sa_mask);
        for (int other : kSignals) ::sigaction(other, &action, nullptr);
        state->on_signal(number);
      });
}

SignalWatch::~SignalWatch() { Stop(); }

void SignalWatch::Stop() {
  boost::system::error_code ignored;
  state_->signals.cancel(ignored);
  state_->signals.clear(ignored);
}

struct ClosedReaderWatch::State {
  explicit State(boost::asio::io_context& io) : descriptor(io) {}
  boost::asio::posix::stream_descriptor descriptor;
  std::function<void()> on_closed;
};

ClosedReaderWatch::ClosedReaderWatch(boost::asio::io_context& io, int fd,
                                     std::function<void()> on_closed)
    : state_(std::make_unique<State>(io)) {
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !(S_ISFIFO(info.st_mode) || S_ISSOCK(info.st_mode))) return;
  // A duplicate, so that Asio never touches the flags or the lifetime of `fd` itself. epoll
  // reports EPOLLERR on the writing end of a pipe once no reader is left.
  const int watched = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (watched < 0) return;
  boost::system::error_code error;
  state_->descriptor.assign(watched, error);
  if (error) {
    ::close(watched);
    return;
  }
  state_->on_closed = std::move(on_closed);
  state_->descriptor.async_wait(boost::asio::posix::descriptor_base::wait_error,
                                [state = state_.get()](const boost::system::error_code& error) {
                                  if (!error) state->on_closed();
                                });
}

ClosedReaderWatch::~ClosedReaderWatch() = default;

void ClosedReaderWatch::Stop() {
  boost::system::error_code ignored;
  state_->descriptor.cancel(ignored);
}

void IgnoreSigpipe() { std::signal(SIGPIPE, SIG_IGN); }

}  // namespace orchestrator
