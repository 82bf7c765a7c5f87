// Workers: tasks dealt out to threads, results collected on one loop, cancellation.
#include "orchestrator/worker.h"

#include <gtest/gtest.h>

#include "orchestrator/run_plan.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "orchestrator/curl_http_client.h"
#include "test_server.h"

namespace orchestrator {
namespace {

using testing::TestServer;

TaskList Tasks(std::size_t count) {
  TaskList list;
  list.type_names = {"process_data", "other"};
  for (std::size_t i = 0; i < count; ++i) {
    list.tasks.push_back({.id = 1000 + i, .type = static_cast<std::uint32_t>(i % 2)});
  }
  list.rows = count;
  return list;
}

std::vector<TaskId> Ids(const TaskList& list) {
  std::vector<TaskId> ids;
  for (const Task& task : list.tasks) ids.push_back(task.id);
  return ids;
}

TEST(SplitTasksTest, DealsTasksOutInTurnAndKeepsEveryTypeName) {
  const std::vector<TaskList> lists = SplitTasks(Tasks(7), 3);
  ASSERT_EQ(lists.size(), 3u);
  EXPECT_EQ(Ids(lists[0]), (std::vector<TaskId>{1000, 1003, 1006}));
  EXPECT_EQ(Ids(lists[1]), (std::vector<TaskId>{1001, 1004}));
  EXPECT_EQ(Ids(lists[2]), (std::vector<TaskId>{1002, 1005}));
  for (const TaskList& list : lists) {
    EXPECT_EQ(list.type_names, (std::vector<std::string>{"process_data", "other"}));
    EXPECT_EQ(list.rows, 0u) << "rows read: the whole input's, not a dealt list's";
  }
  // A task keeps its type index, so it names the same type in every list.
  EXPECT_EQ(lists[1].TypeName(lists[1].tasks[0]), "other");
}

TEST(SplitTasksTest, WithDependenciesEveryListSharesTheWholeGraphAndKnowsItsPlace) {
  TaskList tasks = Tasks(7);  // ids 1000..1006
  // No chain (PlaceTasks): 0 has two children, 6 two parents.
  tasks.graph = TaskGraph::FromEdges(7, {{0, 1, Dependency::kSuccess},
                                         {0, 2, Dependency::kFinish},
                                         {3, 6, Dependency::kSuccess},
                                         {4, 6, Dependency::kSuccess}});
  const std::size_t graph_bytes = tasks.graph.MemoryBytes();
  const std::vector<TaskList> lists = SplitTasks(std::move(tasks), 3);
  ASSERT_EQ(lists.size(), 3u);
  // Dealt in turn, dependencies or not: 1000 1003 1006 | 1001 1004 | 1002 1005.
  EXPECT_EQ(Ids(lists[0]), (std::vector<TaskId>{1000, 1003, 1006}));
  EXPECT_EQ(Ids(lists[1]), (std::vector<TaskId>{1001, 1004}));
  EXPECT_EQ(Ids(lists[2]), (std::vector<TaskId>{1002, 1005}));
  for (std::uint32_t k = 0; k < 3; ++k) {
    const TaskList& list = lists[k];
    EXPECT_EQ(list.deal.list, k);
    EXPECT_EQ(list.deal.lists, 3u);
    EXPECT_EQ(list.graph.task_count(), 7u) << "the whole input's graph";
    EXPECT_EQ(list.graph.edge_count(), 4u);
    EXPECT_EQ(list.deal.placement, nullptr) << "dealt in turn";
    EXPECT_EQ(list.graph.MemoryBytes(), graph_bytes);
    for (TaskIndex own = 0; own < list.tasks.size(); ++own) {
      const TaskIndex whole = list.deal.WholeIndex(own);
      EXPECT_EQ(list.tasks[own].id, 1000 + whole);
      EXPECT_EQ(list.deal.ListOf(whole), k);
      EXPECT_EQ(list.deal.OwnIndex(whole), own);
    }
  }
  // 1006 (list 0, own index 2) has two parents, 1003 and 1004.
  EXPECT_EQ(lists[0].graph.ParentCount(lists[0].deal.WholeIndex(2)), 2u);
}

TEST(SplitTasksTest, AChainStaysOnOneList) {
  TaskList tasks = Tasks(6);  // ids 1000..1005
  // 1001 -> 1003 -> 1005, and 1000, 1002, 1004 on their own.
  tasks.graph =
      TaskGraph::FromEdges(6, {{1, 3, Dependency::kSuccess}, {3, 5, Dependency::kSuccess}});
  const std::vector<TaskList> lists = SplitTasks(std::move(tasks), 2);
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_EQ(Ids(lists[0]), (std::vector<TaskId>{1001, 1003, 1005}));
  EXPECT_EQ(Ids(lists[1]), (std::vector<TaskId>{1000, 1002, 1004}));
  for (std::uint32_t k = 0; k < 2; ++k) {
    ASSERT_NE(lists[k].deal.placement, nullptr);
    for (TaskIndex own = 0; own < lists[k].tasks.size(); ++own) {
      EXPECT_EQ(lists[k].tasks[own].id, 1000 + lists[k].deal.WholeIndex(own));
    }
  }
}

TEST(SplitTasksTest, OneWorkerGetsTheListAsItIs) {
  const std::vector<TaskList> lists = SplitTasks(Tasks(5), 1);
  ASSERT_EQ(lists.size(), 1u);
  EXPECT_EQ(Ids(lists[0]), Ids(Tasks(5)));
  EXPECT_EQ(lists[0].deal.lists, 1u);
}

TEST(ShareOfTest, SharesAddUpAndDifferByAtMostOne) {
  for (const std::size_t total : {0u, 1u, 5u, 64u, 1001u}) {
    for (const std::size_t count : {1u, 2u, 3u, 7u}) {
      std::size_t sum = 0, smallest = total, largest = 0;
      for (std::size_t k = 0; k < count; ++k) {
        const std::size_t share = ShareOf(total, count, k);
        sum += share;
        smallest = std::min(smallest, share);
        largest = std::max(largest, share);
      }
      EXPECT_EQ(sum, total) << total << " over " << count;
      EXPECT_LE(largest - smallest, 1u) << total << " over " << count;
    }
  }
}

// Runs `tasks` on `count` workers against `url` and collects what reaches the collector.
class WorkerTest : public ::testing::Test {
 protected:
  struct Collected {
    std::map<TaskId, std::vector<Outcome>> results;
    std::vector<TaskId> order;  // of the results
    std::map<TaskId, int> events;
    std::size_t last_batches = 0;
    std::vector<std::string> errors;
  };

  void StartWorkers(TaskList tasks, std::size_t count, std::size_t max_fetches,
                    const std::string& url, Duration delay, bool own_threads = true) {
    blueprint_ = DefaultBlueprint(GetOf(url), delay);
    std::vector<TaskList> shares = SplitTasks(std::move(tasks), count);
    for (std::size_t k = 0; k < count; ++k) {
      const std::size_t fetches = ShareOf(max_fetches, count, k);
      workers_.push_back(std::make_unique<Worker>(
          std::move(shares[k]), blueprint_,
          Worker::Options{.runner = {.max_fetches = fetches, .seed = k},
                          .http = CurlEngines({.max_connections = fetches,
                                               .max_body = std::nullopt,
                                               .user_agent = "orchestrator-test",
                                               .ca_file = {},
                                               .insecure = false,
                                               .http_version = HttpVersion::kDefault,
                                               .save_refused = {}}),
                          .own_thread = own_threads},
          io_, [this, count](WorkerBatch batch) {
            if (!batch.error.empty()) got_.errors.push_back(batch.error);
            for (WorkerRecord& record : batch.records) {
              if (auto* row = std::get_if<RowRecord>(&record)) {
                got_.results[row->task.id].push_back(std::move(row->outcome));
                got_.order.push_back(row->task.id);
              } else {
                const auto* emit = std::get_if<EmitRecord>(&record);
                ASSERT_NE(emit, nullptr) << "no webhooks here";
                EXPECT_EQ(emit->step, "emit_event");
                ++got_.events[emit->task.id];
              }
            }
            // As the collector does: the news of parents to the workers of their children.
            for (std::size_t list = 0; list < batch.parents_ended.size(); ++list) {
              if (!batch.parents_ended[list].empty()) {
                workers_[list]->ParentsEnded(std::move(batch.parents_ended[list]));
              }
            }
            if (batch.last && ++got_.last_batches == count) io_.stop();
          }));
    }
    for (const auto& worker : workers_) worker->Start();
  }

  // Runs the collector's loop until every worker sent its last batch (or 30 s passed).
  void RunCollector() {
    boost::asio::steady_timer limit(io_, std::chrono::seconds(30));
    limit.async_wait([this](boost::system::error_code error) {
      if (!error) io_.stop();
    });
    io_.run();
    workers_.clear();
  }

  CurlLibrary curl_;
  TestServer server_;
  boost::asio::io_context io_;
  Blueprint blueprint_;
  std::vector<std::unique_ptr<Worker>> workers_;
  Collected got_;
};

TEST_F(WorkerTest, EveryTaskOfEveryWorkerReachesTheCollectorOnce) {
  StartWorkers(Tasks(300), 3, 6, server_.Url("/ok"), Duration(0));
  RunCollector();
  EXPECT_EQ(got_.last_batches, 3u);
  ASSERT_EQ(got_.results.size(), 300u);
  for (const auto& [id, outcomes] : got_.results) {
    ASSERT_EQ(outcomes.size(), 1u) << id;
    EXPECT_EQ(outcomes[0].status(), FinalStatus::kCompleted) << outcomes[0].error_info;
    EXPECT_EQ(got_.events[id], 1) << id;
  }
  EXPECT_EQ(server_.requests(), 300u);
}

TEST_F(WorkerTest, DependenciesCrossWorkersAndEveryChildEndsAfterItsParents) {
  // Each task after the two dealt just before it, on the other two workers (no chain, so
  // dealt in turn); and a fan-in, 1090 after the first 30.
  TaskList tasks = Tasks(91);  // 1000..1090
  std::vector<TaskGraph::Edge> edges;
  for (TaskIndex i = 2; i < 90; ++i) {
    edges.push_back({i - 2, i, Dependency::kSuccess});
    edges.push_back({i - 1, i, Dependency::kFinish});
  }
  for (TaskIndex i = 0; i < 30; ++i) edges.push_back({i, 90, Dependency::kFinish});
  tasks.graph = TaskGraph::FromEdges(91, edges);
  StartWorkers(std::move(tasks), 3, 6, server_.Url("/ok"), Duration(0));
  RunCollector();
  EXPECT_EQ(got_.last_batches, 3u);
  ASSERT_EQ(got_.results.size(), 91u);
  for (const auto& [id, outcomes] : got_.results) {
    ASSERT_EQ(outcomes.size(), 1u) << id;
    EXPECT_EQ(outcomes[0].status(), FinalStatus::kCompleted) << id << outcomes[0].error_info;
  }
  std::map<TaskId, std::size_t> position;
  for (std::size_t k = 0; k < got_.order.size(); ++k) position[got_.order[k]] = k;
  for (const TaskGraph::Edge& edge : edges) {
    EXPECT_LT(position[1000 + edge.parent], position[1000 + edge.child])
        << 1000 + edge.parent << " before " << 1000 + edge.child;
  }
  EXPECT_EQ(server_.requests(), 91u);
}

TEST_F(WorkerTest, WorkersTogetherStayWithinTheFetchSlots) {
  StartWorkers(Tasks(60), 3, 6, server_.Url("/delay/30"), Duration(0));
  RunCollector();
  EXPECT_EQ(got_.results.size(), 60u);
  EXPECT_LE(server_.max_in_flight(), 6u);
  EXPECT_GE(server_.max_in_flight(), 4u);  // the workers did run side by side
}

TEST_F(WorkerTest, OneWorkerCanShareTheCollectorsLoop) {
  StartWorkers(Tasks(50), 1, 4, server_.Url("/ok"), Duration(0), /*own_threads=*/false);
  RunCollector();
  EXPECT_EQ(got_.last_batches, 1u);
  EXPECT_EQ(got_.results.size(), 50u);
}

TEST_F(WorkerTest, CancelReachesEveryWorkerAndEveryTaskIsReported) {
  // The fetches are quick; by the time Cancel comes every task waits in its long delay.
  StartWorkers(Tasks(200), 2, 4, server_.Url("/ok"), Duration(60'000));
  boost::asio::steady_timer soon(io_, std::chrono::milliseconds(200));
  soon.async_wait([this](boost::system::error_code) {
    for (const auto& worker : workers_) worker->Cancel();
    for (const auto& worker : workers_) worker->Cancel();  // twice is harmless
  });
  const auto started = std::chrono::steady_clock::now();
  RunCollector();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  EXPECT_EQ(got_.last_batches, 2u);
  ASSERT_EQ(got_.results.size(), 200u);
  for (const auto& [id, outcomes] : got_.results) {
    ASSERT_EQ(outcomes.size(), 1u) << id;
    EXPECT_EQ(outcomes[0].error_info, "cancelled") << id;
  }
  EXPECT_TRUE(got_.events.empty());
}

TEST_F(WorkerTest, AnExceptionInAWorkersLoopCancelsItsTasksAndReachesTheCollector) {
  StartWorkers(Tasks(40), 2, 4, server_.Url("/ok"), Duration(60'000));
  boost::asio::steady_timer soon(io_, std::chrono::milliseconds(200));
  soon.async_wait([this](boost::system::error_code) {
    // A bug in the first worker's loop, on its own thread.
    boost::asio::post(workers_[0]->io(), [] { throw std::runtime_error("a bug"); });
  });
  boost::asio::steady_timer later(io_, std::chrono::milliseconds(1000));
  later.async_wait([this](boost::system::error_code) {
    for (const auto& worker : workers_) worker->Cancel();  // as the collector then does
  });
  RunCollector();
  EXPECT_EQ(got_.errors, std::vector<std::string>{"a bug"});
  EXPECT_EQ(got_.last_batches, 2u);
  ASSERT_EQ(got_.results.size(), 40u);
  for (const auto& [id, outcomes] : got_.results) {
    ASSERT_EQ(outcomes.size(), 1u) << id;
    EXPECT_EQ(outcomes[0].error_info, "cancelled") << id;
  }
}

}  // namespace
}  // namespace orchestrator
