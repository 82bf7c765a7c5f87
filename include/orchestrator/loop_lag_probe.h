// How late an event loop runs: a timer that notes how long after its time it fired.
#ifndef ORCHESTRATOR_LOOP_LAG_PROBE_H_
#define ORCHESTRATOR_LOOP_LAG_PROBE_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>

namespace orchestrator {

/// Every `every`, calls `report` with how late the loop ran the timer: about 0 on a loop
/// that keeps up, the length of the work queued ahead of it on one that does not. Runs on
/// `io`'s thread; Stop() before the loop should run out of work (a running probe keeps it
/// busy).
class LoopLagProbe {
 public:
  using Report = std::function<void(std::chrono::milliseconds lag)>;

  LoopLagProbe(boost::asio::io_context& io, std::chrono::milliseconds every, Report report);
  LoopLagProbe(const LoopLagProbe&) = delete;
  LoopLagProbe& operator=(const LoopLagProbe&) = delete;

  void Start();
  void Stop();

 private:
  void Arm();

  boost::asio::steady_timer timer_;
  std::chrono::milliseconds every_;
  Report report_;
  bool running_ = false;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_LOOP_LAG_PROBE_H_
