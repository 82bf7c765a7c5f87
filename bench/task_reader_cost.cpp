// The tasks reader's own cost: ReadTasks on a tasks CSV file, without kinds (the plain
// reader) and with a catch-all kind of no columns (the reader of typed columns), each turn
// timed in CPU time (std::clock: the process's, steadier than the wall clock on a busy
// machine). Nothing runs: reading alone. Make the input with e.g.
//   (echo task_id,task_type; seq 1 1000000 | sed 's/$/,fetch_data/') > /tmp/tasks-1m.csv
// Build against the library, from the repository's root:
//   g++ -std=c++20 -O2 -Iinclude -Ibuild/generated bench/task_reader_cost.cpp
//     build/liborchestrator_core.a -lcurl -lfmt -lboost_json -lssl -lcrypto -o
//     /tmp/task_reader_cost
//   (one command, on one line)
//   /tmp/task_reader_cost /tmp/tasks-1m.csv 3
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

#include "orchestrator/task_reader.h"
using namespace orchestrator;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: task_reader_cost TASKS_CSV [TURNS]\n");
    return 2;
  }
  const int turns = argc > 2 ? std::atoi(argv[2]) : 3;
  TaskKindTable kinds("bench");
  kinds.Add("*", {});
  std::vector<double> plain, typed;
  std::size_t tasks = 0;
  for (int turn = 0; turn < turns; ++turn) {
    for (auto [times, with_kinds] : {std::pair{&plain, false}, std::pair{&typed, true}}) {
      const std::clock_t start = std::clock();
      const TaskList list = ReadTasks(InputFile::Open(argv[1]), with_kinds ? &kinds : nullptr);
      times->push_back(1000.0 * static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC);
      tasks = list.tasks.size();
    }
  }
  const auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("%zu tasks, %d turns: plain median %.1f ms CPU, with kinds median %.1f ms CPU\n",
              tasks, turns, median(plain), median(typed));
  for (int turn = 0; turn < turns; ++turn) {
    std::printf("  turn %d: plain %.1f ms, with kinds %.1f ms\n", turn + 1,
                plain[static_cast<std::size_t>(turn)], typed[static_cast<std::size_t>(turn)]);
  }
}
