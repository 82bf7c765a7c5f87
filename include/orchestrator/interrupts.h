// What ends a run early from outside: signals, and a reader that went away.
#ifndef ORCHESTRATOR_INTERRUPTS_H_
#define ORCHESTRATOR_INTERRUPTS_H_

#include <functional>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace orchestrator {

/// Watches SIGINT, SIGTERM and SIGHUP. The first one calls `on_signal(number)` on the event
/// loop (signals that arrive before the loop runs are kept until it does). After that a
/// second one ends the process at once with status 128 + number, even if the loop is stuck.
class SignalWatch {
 public:
  SignalWatch(boost::asio::io_context& io, std::function<void(int)> on_signal);
  ~SignalWatch();
  /// Stops watching; signals get their default action again.
  void Stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// Notices that the reading end of a pipe or socket (stdout under `| head -1`) has gone away,
/// without waiting for the next write to fail. Does nothing for other kinds of descriptor.
class ClosedReaderWatch {
 public:
  ClosedReaderWatch(boost::asio::io_context& io, int fd, std::function<void()> on_closed);
  ~ClosedReaderWatch();
  void Stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// Ignores SIGPIPE for the whole process: curl runs with CURLOPT_NOSIGNAL, and a closed
/// stdout must be an EPIPE we can report, not a silent death.
void IgnoreSigpipe();

}  // namespace orchestrator

#endif  // ORCHESTRATOR_INTERRUPTS_H_
