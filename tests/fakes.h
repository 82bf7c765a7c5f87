// Fakes of the runner's engine and clock, for tests that must not touch the network or wait
// on the clock: FakeHttpClient and FakeClock move only when the test moves them, and
// InstantHttpClient answers every fetch at once on a real loop, for workers and collectors.
#ifndef ORCHESTRATOR_TESTS_FAKES_H_
#define ORCHESTRATOR_TESTS_FAKES_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "orchestrator/clock.h"
#include "orchestrator/http_client.h"

namespace orchestrator {

// Records fetches and completes them when the test says so.
class FakeHttpClient : public HttpClient {
 public:
  struct Pending {
    FetchRequest request;
    Callback done;
  };

  void Fetch(FetchRequest request, Callback done) override {
    pending.push_back({std::move(request), std::move(done)});
    ++started;
    max_in_flight = std::max(max_in_flight, pending.size());
  }
  void CancelAll() override {
    pending.clear();
    ++cancels;
  }

  // Completes the fetch at `position` (0 = oldest) with `result`.
  void Complete(std::size_t position, const FetchResult& result) {
    ASSERT_LT(position, pending.size());
    Pending fetch = std::move(pending[position]);
    pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(position));
    fetch.done(result);
  }
  // Completes the fetches pending now (not those they lead to) with `result`.
  void CompleteCurrent(const FetchResult& result) {
    for (std::size_t n = pending.size(); n > 0; --n) Complete(0, result);
  }

  std::deque<Pending> pending;
  std::size_t started = 0;
  std::size_t max_in_flight = 0;
  int cancels = 0;
};

// Time that moves only when the test moves it.
class FakeClock : public Clock {
 public:
  TimePoint Now() const override { return now; }
  std::chrono::system_clock::time_point WallNow() const override {
    // 2026-12-02T09:00:00Z when `now` is its starting hour.
    return std::chrono::system_clock::time_point(std::chrono::seconds(1'796'202'000)) +
           std::chrono::duration_cast<std::chrono::system_clock::duration>(
               now - TimePoint(std::chrono::hours(1)));
  }
  void WakeAt(TimePoint when, std::function<void()> wake) override {
    wake_at = when;
    wake_ = std::move(wake);
    ++arms;
  }
  void CancelWake() override {
    wake_at.reset();
    wake_ = nullptr;
  }
  // Moves time forward, firing the wake-up at its own time along the way.
  void Advance(Duration duration) {
    const TimePoint target = now + duration;
    while (wake_at && *wake_at <= target) {
      now = std::max(now, *wake_at);
      wake_at.reset();
      std::exchange(wake_, nullptr)();
    }
    now = target;
  }

  TimePoint now{std::chrono::hours(1)};
  std::optional<TimePoint> wake_at;
  int arms = 0;

 private:
  std::function<void()> wake_;
};

// Answers every fetch with `result` on its loop, at once (never from inside Fetch), as a
// server that always says the same would; counts the fetches in `fetches`, which the
// engines of a test's workers share.
class InstantHttpClient final : public HttpClient {
 public:
  InstantHttpClient(boost::asio::io_context& io, FetchResult result,
                    std::atomic<std::size_t>& fetches)
      : io_(io), result_(std::move(result)), fetches_(fetches) {}

  void Fetch(FetchRequest /*request*/, Callback done) override {
    ++fetches_;
    boost::asio::post(io_, [this, generation = generation_, done = std::move(done)] {
      if (generation == generation_) done(result_);  // else cancelled since
    });
  }
  void CancelAll() override { ++generation_; }

 private:
  boost::asio::io_context& io_;
  FetchResult result_;
  std::atomic<std::size_t>& fetches_;
  std::uint64_t generation_ = 0;
};

// What makes an InstantHttpClient on each worker's loop (Worker::Options::http). `fetches`
// must outlive the workers.
inline std::function<std::unique_ptr<HttpClient>(boost::asio::io_context&)> InstantEngines(
    std::atomic<std::size_t>& fetches, FetchResult result = {.failure = FetchFailure::kNone,
                                                             .http_status = 200,
                                                             .message = {},
                                                             .retry_after = {},
                                                             .response = {}}) {
  return [&fetches, result](boost::asio::io_context& io) -> std::unique_ptr<HttpClient> {
    return std::make_unique<InstantHttpClient>(io, result, fetches);
  };
}

}  // namespace orchestrator

#endif  // ORCHESTRATOR_TESTS_FAKES_H_
