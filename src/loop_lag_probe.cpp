#include "orchestrator/loop_lag_probe.h"

#include <utility>

namespace orchestrator {

LoopLagProbe::LoopLagProbe(boost::asio::io_context& io, std::chrono::milliseconds every,
                           Report report)
    : timer_(io), every_(every), report_(std::move(report)) {}

void LoopLagProbe::Start() {
  if (running_) return;
  running_ = true;
  Arm();
}

void LoopLagProbe::Stop() {
  running_ = false;
  timer_.cancel();
}

void LoopLagProbe::Arm() {
  timer_.expires_after(every_);
  timer_.async_wait([this](const boost::system::error_code& error) {
    if (error || !running_) return;
    const auto late = std::chrono::steady_clock::now() - timer_.expiry();
    Arm();  // before the report, which may Stop()
    report_(std::chrono::duration_cast<std::chrono::milliseconds>(late));
  });
}

}  // namespace orchestrator
