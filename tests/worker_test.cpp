// Workers: tasks dealt out to threads, results collected on one loop, cancellation.
#include "orchestrator/worker.h"

#include <gtest/gtest.h>

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
    EXPECT_EQ(list.rows, list.tasks.size());
  }
  // A task keeps its type index, so it names the same type in every list.
  EXPECT_EQ(lists[1].TypeName(lists[1].tasks[0]), "other");
}

// Each list's edges as (parent id, child id, kind).
std::set<std::tuple<TaskId, TaskId, Dependency>> EdgesById(const TaskList& list) {
  std::set<std::tuple<TaskId, TaskId, Dependency>> edges;
  for (TaskIndex p = 0; p < list.tasks.size(); ++p) {
    list.graph.ForEachChild(p, [&](const Dependent& d) {
      edges.emplace(list.tasks[p].id, list.tasks[d.child].id, d.kind);
    });
  }
  return edges;
}

TEST(SplitTasksTest, WithDependenciesDealsWholeComponentsLargestFirstOntoTheLightest) {
  TaskList tasks = Tasks(10);  // ids 1000..1009, at indices 0..9
  // Components: {0, 3, 5, 9} (4 tasks), {2, 6, 7} (3), {1, 4} (2), {8} (1).
  constexpr Dependency kS = Dependency::kSuccess;
  constexpr Dependency kF = Dependency::kFinish;
  tasks.graph = TaskGraph::FromEdges(
      10, {{9, 0, kS}, {3, 5, kF}, {0, 3, kS}, {2, 6, kS}, {7, 6, kF}, {4, 1, kS}});
  const std::vector<TaskList> lists = SplitTasks(std::move(tasks), 2);
  ASSERT_EQ(lists.size(), 2u);
  // 4 tasks to list 0, 3 to list 1, 2 to list 1 (3 < 4), 1 to list 0 (4 < 5); input order.
  EXPECT_EQ(Ids(lists[0]), (std::vector<TaskId>{1000, 1003, 1005, 1008, 1009}));
  EXPECT_EQ(Ids(lists[1]), (std::vector<TaskId>{1001, 1002, 1004, 1006, 1007}));
  using E = std::tuple<TaskId, TaskId, Dependency>;
  EXPECT_EQ(EdgesById(lists[0]),
            (std::set<E>{{1009, 1000, kS}, {1003, 1005, kF}, {1000, 1003, kS}}));
  EXPECT_EQ(EdgesById(lists[1]),
            (std::set<E>{{1002, 1006, kS}, {1007, 1006, kF}, {1004, 1001, kS}}));
  for (const TaskList& list : lists) {
    EXPECT_EQ(list.graph.task_count(), list.tasks.size());
    EXPECT_EQ(list.rows, list.tasks.size());
    EXPECT_EQ(list.type_names, (std::vector<std::string>{"process_data", "other"}));
  }
  EXPECT_EQ(lists[0].graph.ParentCount(2), 1u);  // 1005, after 1003
  EXPECT_EQ(lists[1].TypeName(lists[1].tasks[0]), "other");
}

TEST(SplitTasksTest, OneComponentGoesWholeToOneList) {
  TaskList tasks = Tasks(4);
  tasks.graph = TaskGraph::FromEdges(
      4,
      {{0, 1, Dependency::kSuccess}, {1, 2, Dependency::kSuccess}, {2, 3, Dependency::kSuccess}});
  const std::vector<TaskList> lists = SplitTasks(std::move(tasks), 3);
  ASSERT_EQ(lists.size(), 3u);
  EXPECT_EQ(Ids(lists[0]), (std::vector<TaskId>{1000, 1001, 1002, 1003}));
  EXPECT_EQ(lists[0].graph.edge_count(), 3u);
  EXPECT_TRUE(lists[1].tasks.empty());
  EXPECT_TRUE(lists[2].tasks.empty());
  EXPECT_TRUE(lists[1].graph.empty());
}

TEST(SplitTasksTest, OneWorkerGetsTheListAsItIs) {
  const std::vector<TaskList> lists = SplitTasks(Tasks(5), 1);
  ASSERT_EQ(lists.size(), 1u);
  EXPECT_EQ(Ids(lists[0]), Ids(Tasks(5)));
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
                          .http = {.max_connections = fetches,
                                   .max_body = std::nullopt,
                                   .user_agent = "orchestrator-test",
                                   .ca_file = {},
                                   .insecure = false,
                                   .http_version = HttpVersion::kDefault},
                          .own_thread = own_threads},
          io_, [this, count](WorkerBatch batch) {
            if (!batch.error.empty()) got_.errors.push_back(batch.error);
            for (WorkerRecord& record : batch.records) {
              if (record.outcome) {
                got_.results[record.task.id].push_back(std::move(*record.outcome));
              } else {
                EXPECT_EQ(record.step, "emit_event");
                ++got_.events[record.task.id];
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
    EXPECT_EQ(outcomes[0].status, FinalStatus::kCompleted) << outcomes[0].error_info;
    EXPECT_EQ(got_.events[id], 1) << id;
  }
  EXPECT_EQ(server_.requests(), 300u);
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
    EXPECT_EQ(outcomes[0].error_info, kCancelledReason) << id;
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
    EXPECT_EQ(outcomes[0].error_info, kCancelledReason) << id;
  }
}

}  // namespace
}  // namespace orchestrator
