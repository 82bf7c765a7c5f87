#include "orchestrator/asio_clock.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <utility>

namespace orchestrator {

struct AsioClock::Timer {
  explicit Timer(boost::asio::io_context& io) : timer(io) {}
  boost::asio::steady_timer timer;
};

namespace {

// `when` rounded up to the next multiple of AsioClock::kGrid since the clock's epoch.
Clock::TimePoint OnGrid(Clock::TimePoint when) {
  const auto grid = std::chrono::duration_cast<Clock::TimePoint::duration>(AsioClock::kGrid);
  const auto since_epoch = when.time_since_epoch();
  const auto rounded = (since_epoch + grid - Clock::TimePoint::duration(1)) / grid * grid;
  return Clock::TimePoint(rounded);
}

}  // namespace

AsioClock::AsioClock(boost::asio::io_context& io) : timer_(std::make_unique<Timer>(io)) {}

AsioClock::~AsioClock() = default;

Clock::TimePoint AsioClock::Now() const { return std::chrono::steady_clock::now(); }

std::chrono::system_clock::time_point AsioClock::WallNow() const {
  return std::chrono::system_clock::now();
}

void AsioClock::WakeAt(TimePoint when, std::function<void()> wake) {
  wake_ = std::move(wake);
  const std::uint64_t generation = ++generation_;
  timer_->timer.expires_at(OnGrid(when));
  // An expired wait may already be queued when the timer is re-armed; the generation check
  // drops it instead of waking early.
  timer_->timer.async_wait([this, generation](const boost::system::error_code& error) {
    if (error || generation != generation_) return;
    std::exchange(wake_, nullptr)();
  });
}

void AsioClock::CancelWake() {
  ++generation_;
  wake_ = nullptr;
  timer_->timer.cancel();
}

}  // namespace orchestrator
