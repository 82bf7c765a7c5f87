#include "orchestrator/loop_load_probe.h"

#include <time.h>

#include <algorithm>
#include <utility>

namespace orchestrator {
namespace {

// CPU time the calling thread has used (Linux's per-thread clock; no std::chrono clock
// measures it).
std::chrono::nanoseconds ThreadCpuTime() {
  timespec now{};
  if (::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now) != 0) return std::chrono::nanoseconds(0);
  return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
}

}  // namespace

LoopLoadProbe::LoopLoadProbe(boost::asio::io_context& io, std::chrono::milliseconds every,
                             Report report)
    : timer_(io), every_(every), report_(std::move(report)) {}

void LoopLoadProbe::Start() {
  if (running_) return;
  running_ = true;
  tick_start_ = std::chrono::steady_clock::now();
  cpu_at_tick_start_ = ThreadCpuTime();
  Arm();
}

void LoopLoadProbe::Stop() {
  running_ = false;
  timer_.cancel();
}

void LoopLoadProbe::Arm() {
  timer_.expires_after(every_);
  timer_.async_wait([this](const boost::system::error_code& error) {
    if (error || !running_) return;
    const auto now = std::chrono::steady_clock::now();
    const std::chrono::nanoseconds cpu = ThreadCpuTime();
    LoopLoad load;
    load.lag = std::chrono::duration_cast<std::chrono::milliseconds>(now - timer_.expiry());
    if (const auto tick = now - tick_start_; tick.count() > 0) {
      load.busy = std::clamp(std::chrono::duration<double>(cpu - cpu_at_tick_start_) /
                                 std::chrono::duration<double>(tick),
                             0.0, 1.0);
    }
    tick_start_ = now;
    cpu_at_tick_start_ = cpu;
    Arm();  // before the report, which may Stop()
    report_(load);
  });
}

}  // namespace orchestrator
