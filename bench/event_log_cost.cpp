// The cost of --events on the collector's thread, alone: EventLog formatting and writing the
// nine lines of a default-blueprint task (queued, started, three steps started and finished,
// finished), for 200,000 tasks, to FILE (default /dev/null). No network, workers or event
// loop in the figure. Build against a Release build of the library, from the repository's
// root:
//   cmake -S . -B /tmp/bench-build -DCMAKE_BUILD_TYPE=Release && cmake --build /tmp/bench-build
//   g++ -std=c++20 -O2 -Iinclude -I/tmp/bench-build/generated bench/event_log_cost.cpp
//     /tmp/bench-build/liborchestrator_core.a -lcurl -lfmt -lboost_json -o /tmp/event_log_cost
//   /tmp/event_log_cost [FILE]
#include <chrono>
#include <cstdio>
#include <vector>

#include "orchestrator/blueprint.h"
#include "orchestrator/event_log.h"
#include "orchestrator/outcome.h"

using namespace orchestrator;

int main(int argc, char** argv) {
  constexpr int kTasks = 200'000;
  const char* path = argc > 1 ? argv[1] : "/dev/null";
  const Blueprint blueprint = DefaultBlueprint(GetOf("http://127.0.0.1/get"), Duration(0));
  EventLog log(path, {"process_data"}, {&blueprint});
  std::vector<TaskEvent> batch;
  const auto start = std::chrono::steady_clock::now();
  log.OnRunStart(1);
  for (int i = 0; i < kTasks; ++i) {
    const Task task{.id = 14'799'178'230'035'213'023u + i, .type = 0};
    const auto at = std::chrono::steady_clock::now();
    batch.clear();
    batch.push_back({.task = task, .at = at, .kind = TaskEventKind::kQueued});
    batch.push_back({.task = task, .at = at, .kind = TaskEventKind::kStarted});
    for (std::uint8_t step = 0; step < 3; ++step) {
      const std::uint16_t attempt = step == 0 ? 1 : 0;
      batch.push_back({.task = task,
                       .at = at,
                       .kind = TaskEventKind::kStepStarted,
                       .step = step,
                       .attempt = attempt});
      batch.push_back({.task = task,
                       .at = at,
                       .micros = step == 0 ? 3200 : 0,
                       .kind = TaskEventKind::kStepFinished,
                       .step = step,
                       .attempt = attempt,
                       .http_status = static_cast<std::uint16_t>(step == 0 ? 200 : 0)});
    }
    // A worker's batch: the task's events and its row, told as of now.
    WorkerBatch worker_batch{
        .records = {RowRecord{.task = task, .outcome = Outcome::Completed(), .at = at}},
        .parents_ended = {},
        .last = i + 1 == kTasks,
        .task_events = batch,
        .list = 0,
        .stats = std::nullopt,
        .error = {},
        .told_until = at};
    log.OnBatch(worker_batch);
    if (i % 64 == 63 || worker_batch.last) log.AfterBatch();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%d tasks, %d lines: %.3f s, %.0f ns a line, %.2f us a task\n", kTasks, kTasks * 9,
              seconds, seconds * 1e9 / (kTasks * 9), seconds * 1e6 / kTasks);
}
