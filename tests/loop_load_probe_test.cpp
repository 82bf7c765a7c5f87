// The probe of a loop's load: lag and CPU share, measured on a real io_context.
#include "orchestrator/loop_load_probe.h"

#include <gtest/gtest.h>
#include <time.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <vector>

namespace orchestrator {
namespace {

using std::chrono::milliseconds;

std::chrono::nanoseconds ThreadCpu() {
  timespec now{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
}

// Computes on the loop's thread until it has used `cpu` of CPU time.
void Compute(milliseconds cpu) {
  const auto until = ThreadCpu() + cpu;
  volatile unsigned sink = 0;
  while (ThreadCpu() < until) {
    for (unsigned i = 0; i < 10'000; ++i) sink = sink + i;
  }
}

TEST(LoopLoadProbeTest, ALoopThatComputesIsLateAndBusyAnIdleOneIsNeither) {
  boost::asio::io_context io;
  std::vector<LoopLoad> loads;
  LoopLoadProbe* probe_ptr = nullptr;
  LoopLoadProbe probe(io, milliseconds(10), [&](LoopLoad load) {
    loads.push_back(load);
    if (loads.size() == 3) boost::asio::post(io, [] { Compute(milliseconds(200)); });
    if (loads.size() == 6) probe_ptr->Stop();
  });
  probe_ptr = &probe;
  boost::asio::post(io, [&] { probe.Start(); });
  io.run();
  ASSERT_EQ(loads.size(), 6u);
  // Ticks 1 to 3 idle (the timer alone); tick 4 waited behind 200 ms of computing. The
  // bounds leave room for a machine busy with other work, whose scheduler may hold an idle
  // loop back for tens of milliseconds.
  for (int idle : {0, 1, 2}) {
    EXPECT_LT(loads[idle].busy, 0.2) << "tick " << idle + 1;
    EXPECT_LT(loads[idle].lag, milliseconds(100)) << "tick " << idle + 1;
  }
  EXPECT_GE(loads[3].lag, milliseconds(150));
  // Tick 4 held at least 200 ms of CPU, and lasted about its 10 ms plus its lag. How long
  // the lag is depends on what else the machine runs (under a parallel ctest, 60 ms of CPU
  // once took 160 ms), so the share is checked against the tick's length: the share times
  // that length must come to the CPU time spent, give or take a quarter.
  const auto tick = std::chrono::duration<double, std::milli>(milliseconds(10) + loads[3].lag);
  EXPECT_GE(loads[3].busy * tick.count(), 150.0)
      << "busy " << loads[3].busy << " over a tick of " << tick.count() << " ms";
  EXPECT_LE(loads[3].busy, 1.0);
}

}  // namespace
}  // namespace orchestrator
