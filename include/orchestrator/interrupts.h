// What ends a run early from outside: signals, and a reader that went away.
#ifndef ORCHESTRATOR_INTERRUPTS_H_
#define ORCHESTRATOR_INTERRUPTS_H_

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string_view>

namespace boost::asio {
class io_context;
}

namespace orchestrator {

/// Catches SIGINT, SIGTERM and SIGHUP from construction on, before any event loop runs, so
/// that a run still reading its input can be stopped too.
///
/// The first signal is recorded (received()) and makes fd() readable: the task reader polls
/// it beside its input, the collector's loop waits on it. A signal within kSameInterruption
/// of the first is the same interruption delivered twice (the terminal's Ctrl-C and the
/// SIGINT that `timeout` or `make` forwards) and changes nothing. A signal after that ends
/// the process at once with status 128 + its number, whatever the process is doing (stuck
/// writing to a full pipe, say): the signal handler calls _exit. The handler reads the
/// monotonic clock and writes one byte to a pipe, nothing else, so it is async-signal-safe.
/// At most one SignalWatch exists at a time (a signal handler has only process-wide state
/// to talk to); the destructor restores the earlier handlers.
class SignalWatch {
 public:
  static constexpr std::chrono::seconds kSameInterruption{1};

  SignalWatch();
  ~SignalWatch();
  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;

  /// Readable once a signal has arrived. Owned by this object.
  int fd() const { return read_fd_; }
  /// The number of the first signal, or 0.
  int received() const;

 private:
  int read_fd_ = -1;
  int write_fd_ = -1;
};

/// "SIGINT", "SIGTERM", "SIGHUP" or "a signal".
std::string_view SignalName(int number);

/// Thrown by an input read that a signal interrupted (see InputFile::interrupt_fd()); the
/// SignalWatch knows which signal it was.
class Interrupted : public std::exception {
 public:
  const char* what() const noexcept override { return "interrupted by a signal"; }
};

/// Calls `on_signal(number)` on `io`'s loop when `watch` has caught its first signal.
class SignalWait {
 public:
  SignalWait(boost::asio::io_context& io, const SignalWatch& watch,
             std::function<void(int)> on_signal);
  ~SignalWait();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// Notices that the reading end of a pipe or socket (stdout under `| head -1`) has gone away,
/// without waiting for the next write to fail. Does nothing for other kinds of descriptor.
///
/// It never changes `fd`'s flags: the open file description of a pipe is shared with the
/// shell and every other process writing to it, and an event loop would make it
/// non-blocking for all of them. So `fd` goes into an epoll instance of its own, which the
/// loop waits on instead.
class ClosedReaderWatch {
 public:
  ClosedReaderWatch(boost::asio::io_context& io, int fd, std::function<void()> on_closed);
  ~ClosedReaderWatch();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// Ignores SIGPIPE for the whole process: curl runs with CURLOPT_NOSIGNAL, and a closed
/// stdout must be an EPIPE we can report, not a silent death.
void IgnoreSigpipe();

}  // namespace orchestrator

#endif  // ORCHESTRATOR_INTERRUPTS_H_
