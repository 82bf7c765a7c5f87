// How loaded an event loop is: a timer that notes how late it fired and how much CPU its
// thread used since it last fired.
#ifndef ORCHESTRATOR_LOOP_LOAD_PROBE_H_
#define ORCHESTRATOR_LOOP_LOAD_PROBE_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>

#include "orchestrator/loop_load.h"

namespace orchestrator {

/// Every `every`, calls `report` with the loop's load over the tick just ended (LoopLoad):
/// how late the loop ran the timer, and the share of the tick the thread running the loop
/// spent on a CPU. Runs on `io`'s thread, Start() included (the CPU time is that of the
/// calling thread); Stop() before the loop should run out of work (a running probe keeps it
/// busy).
class LoopLoadProbe {
 public:
  using Report = std::function<void(LoopLoad)>;

  LoopLoadProbe(boost::asio::io_context& io, std::chrono::milliseconds every, Report report);
  LoopLoadProbe(const LoopLoadProbe&) = delete;
  LoopLoadProbe& operator=(const LoopLoadProbe&) = delete;

  void Start();
  void Stop();

 private:
  void Arm();

  boost::asio::steady_timer timer_;
  std::chrono::milliseconds every_;
  Report report_;
  bool running_ = false;
  std::chrono::steady_clock::time_point tick_start_{};  // when the tick being measured began
  std::chrono::nanoseconds cpu_at_tick_start_{0};       // the thread's CPU time then
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_LOOP_LOAD_PROBE_H_
