// The scheduler's own cost (issue #11): the runner's CPU per task for a chain of 100,000
// against 100,000 tasks without dependencies, one fetch slot each, with a fake HTTP client
// that completes each fetch at once (from the loop in Run) and a fake clock, so that no
// network, server or event loop is in the figure. Five turns, each the two side by side.
// Build against a Release build of the library, from the repository's root:
//   cmake -S . -B /tmp/bench-build -DCMAKE_BUILD_TYPE=Release && cmake --build /tmp/bench-build
//   g++ -std=c++20 -O2 -Iinclude -I/tmp/bench-build/generated bench/scheduler_cost.cpp
//     /tmp/bench-build/liborchestrator_core.a -lcurl -lfmt -lboost_json -o /tmp/scheduler_cost
//   (one command, on one line)
//   /tmp/scheduler_cost
#include <chrono>
#include <cstdio>
#include <ctime>
#include <deque>
#include <functional>
#include "orchestrator/runner.h"
using namespace orchestrator;
struct Http : HttpClient {
  std::deque<Callback> pending;
  void Fetch(FetchRequest, Callback done) override { pending.push_back(std::move(done)); }
  void CancelAll() override { pending.clear(); }
};
struct FakeClock : Clock {
  TimePoint Now() const override { return TimePoint(); }
  std::chrono::system_clock::time_point WallNow() const override { return {}; }
  void WakeAt(TimePoint, std::function<void()>) override {}
  void CancelWake() override {}
};
struct Sink : RunSink {
  std::size_t rows = 0;
  void Event(const Task&, std::string_view, std::string_view, std::string_view) override {}
  void Result(const Task&, const Outcome&) override { ++rows; }
  void WebhookGaveUp(const Task&, std::string_view, std::string_view) override {}
};
double Cpu() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}
double Run(std::size_t n, bool chain, std::size_t slots) {
  TaskList tasks;
  tasks.type_names = {"t"};
  for (std::size_t i = 0; i < n; ++i) tasks.tasks.push_back({i + 1, 0});
  if (chain) {
    std::vector<TaskGraph::Edge> edges;
    for (TaskIndex i = 0; i + 1 < n; ++i) edges.push_back({i, i + 1, Dependency::kSuccess});
    tasks.graph = TaskGraph::FromEdges(n, std::move(edges));
  }
  const Blueprint blueprint = DefaultBlueprint(GetOf("http://test/get"), Duration(0));
  Http http;
  FakeClock clock;
  Sink sink;
  const double start = Cpu();
  Runner runner(tasks, blueprint, RunnerOptions{.max_fetches = slots}, http, clock, sink);
  runner.Start([] {});
  while (!http.pending.empty()) {
    auto done = std::move(http.pending.front());
    http.pending.pop_front();
    done(FetchResult{});
  }
  const double cpu = Cpu() - start;
  if (sink.rows != n) std::printf("rows %zu of %zu!\n", sink.rows, n);
  return cpu;
}
int main() {
  const std::size_t n = 100000;
  for (int turn = 0; turn < 5; ++turn) {
    const double flat = Run(n, false, 1), chain = Run(n, true, 1);
    std::printf(
        "turn %d: flat %.3f s, chain %.3f s: %.2f us/task flat, %.2f us/task chain, difference "
        "%.2f us\n",
        turn, flat, chain, flat / n * 1e6, chain / n * 1e6, (chain - flat) / n * 1e6);
  }
}
