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
    if (loads.size() == 3) boost::asio::post(io, [] { Compute(milliseconds(60)); });
    if (loads.size() == 6) probe_ptr->Stop();
  });
  probe_ptr = &probe;
  boost::asio::post(io, [&] { probe.Start(); });
  io.run();
  ASSERT_EQ(loads.size(), 6u);
  // Ticks 1 to 3 idle (the timer alone); tick 4 waited behind 60 ms of computing.
  for (int idle : {0, 1, 2}) {
    EXPECT_LT(loads[idle].busy, 0.2) << "tick " << idle + 1;
    EXPECT_LT(loads[idle].lag, milliseconds(40)) << "tick " << idle + 1;
  }
  EXPECT_GE(loads[3].lag, milliseconds(40));
  // At least 60 ms of CPU in a tick of 60 ms and more: busy, even on a machine whose other
  // load stretches the tick to twice the CPU time.
  EXPECT_GT(loads[3].busy, 0.4);
  EXPECT_LE(loads[3].busy, 1.0);
}

}  // namespace
}  // namespace orchestrator
