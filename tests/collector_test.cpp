// The collector: every task gets its row however the run is stopped.
#include "orchestrator/collector.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>
#include "orchestrator/run_plan.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "fakes.h"

namespace orchestrator {
namespace {

using std::chrono::milliseconds;

// An in-memory file for a result stream, read back as text.
class MemoryFile {
 public:
  MemoryFile() : fd_(::memfd_create("results", MFD_CLOEXEC)) {}
  ~MemoryFile() { ::close(fd_); }
  int fd() const { return fd_; }
  std::string Text() const {
    std::string text(static_cast<std::size_t>(::lseek(fd_, 0, SEEK_END)), '\0');
    EXPECT_EQ(::pread(fd_, text.data(), text.size(), 0), static_cast<ssize_t>(text.size()));
    return text;
  }

 private:
  int fd_;
};

// The rows of a result CSV by task_id, each counted.
std::map<std::string, std::vector<std::string>> RowsOf(const std::string& csv) {
  std::map<std::string, std::vector<std::string>> rows;
  std::size_t start = csv.find('\n');  // after the header
  while (start != std::string::npos && start + 1 < csv.size()) {
    const std::size_t end = csv.find('\n', start + 1);
    const std::string line = csv.substr(start + 1, end - start - 1);
    rows[line.substr(0, line.find(','))].push_back(line.substr(line.find(',') + 1));
    start = end;
  }
  return rows;
}

class CollectorTest : public ::testing::Test {
 protected:
  // A run of `tasks` tasks over `workers` workers, each waiting `delay` after its fetch.
  void Prepare(std::size_t tasks, std::size_t workers, Duration delay, bool own_threads = true) {
    TaskList list;
    list.type_names = {"t"};
    for (std::size_t i = 0; i < tasks; ++i) list.tasks.push_back({i + 1, 0});
    list.rows = tasks;
    task_count_ = tasks;
    blueprint_ = DefaultBlueprint(GetOf("http://127.0.0.1:9/ok"), delay);
    reporter_.WriteHeader();
    reporter_.Flush();
    collector_ = std::make_unique<Collector>(io_, reporter_, list.type_names, signals_,
                                             /*watched_output=*/-1);
    std::vector<TaskList> shares = SplitTasks(std::move(list), workers);
    for (std::size_t k = 0; k < workers; ++k) {
      auto worker =
          std::make_unique<Worker>(std::move(shares[k]), blueprint_,
                                   Worker::Options{.runner = {.max_fetches = 4, .seed = k},
                                                   .http = InstantEngines(fetches_),
                                                   .own_thread = own_threads},
                                   io_, collector_->Deliverer());
      workers_.push_back(worker.get());
      collector_->Add(std::move(worker));
    }
  }

  RunEnd Run() {
    const RunEnd end = collector_->Run();
    reporter_.Flush();
    collector_.reset();
    return end;
  }

  // Every task has exactly one row on `file`, and it says `cancelled`.
  void ExpectEveryTaskCancelledOnce(const MemoryFile& file) {
    const auto rows = RowsOf(file.Text());
    EXPECT_EQ(rows.size(), task_count_);
    for (const auto& [id, found] : rows) {
      ASSERT_EQ(found.size(), 1u) << id;
      EXPECT_EQ(found[0], "Failed,cancelled") << id;
    }
  }

  std::atomic<std::size_t> fetches_{0};  // by every worker's engine
  SignalWatch signals_;
  boost::asio::io_context io_{1};
  MemoryFile file_;
  OutputStream results_{file_.fd(), "results", OutputStream::FlushPolicy::kWhenAsked};
  Reporter reporter_{{&results_}, nullptr, nullptr};
  Blueprint blueprint_;
  std::unique_ptr<Collector> collector_;
  std::vector<Worker*> workers_;  // owned by the collector
  std::size_t task_count_ = 0;
};

// The lost-rows bug: once the signal was handled, the collector's loop had nothing of its own
// to wait for and returned before the workers' cancelled rows arrived. Nothing here keeps
// the loop busy but the collector itself.
TEST_F(CollectorTest, ASignalStopsTheRunAndEveryWorkersRowsArrive) {
  Prepare(200, 2, Duration(60'000));
  std::thread signaller([] {
    std::this_thread::sleep_for(milliseconds(300));
    ::kill(::getpid(), SIGTERM);
  });
  const auto started = std::chrono::steady_clock::now();
  const RunEnd end = Run();
  signaller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  EXPECT_EQ(end.signal, SIGTERM);
  EXPECT_TRUE(end.internal_error.empty());
  ExpectEveryTaskCancelledOnce(file_);
}

TEST_F(CollectorTest, AStreamThatFailedBeforeTheStartStopsTheRunAtOnce) {
  const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(full, 0);
  OutputStream stdout_like(full, "stdout", OutputStream::FlushPolicy::kWhenAsked);
  MemoryFile other;
  OutputStream other_stream(other.fd(), "other", OutputStream::FlushPolicy::kWhenAsked);
  Reporter reporter({&stdout_like, &other_stream}, nullptr, nullptr);
  reporter.WriteHeader();
  reporter.Flush();
  ASSERT_NE(reporter.failed_stream(), nullptr);

  TaskList list;
  list.type_names = {"t"};
  for (TaskId id = 1; id <= 50; ++id) list.tasks.push_back({id, 0});
  list.rows = 50;
  task_count_ = 50;
  blueprint_ = DefaultBlueprint(GetOf("http://127.0.0.1:9/ok"), Duration(60'000));
  Collector collector(io_, reporter, list.type_names, signals_, -1);
  collector.Add(std::make_unique<Worker>(
      std::move(list), blueprint_,
      Worker::Options{.runner = {}, .http = InstantEngines(fetches_), .own_thread = true}, io_,
      collector.Deliverer()));
  const auto started = std::chrono::steady_clock::now();
  const RunEnd end = collector.Run();
  reporter.Flush();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(end.signal, 0);
  EXPECT_EQ(fetches_, 0u) << "nothing ran";
  ExpectEveryTaskCancelledOnce(other);
  ::close(full);
}

TEST_F(CollectorTest, AnExceptionOnAWorkersThreadStopsTheRunAndEveryTaskIsReported) {
  Prepare(100, 2, Duration(60'000));
  boost::asio::steady_timer soon(io_, milliseconds(200));
  soon.async_wait([this](boost::system::error_code) {
    boost::asio::post(workers_[0]->io(), [] { throw std::runtime_error("a bug"); });
  });
  const RunEnd end = Run();
  EXPECT_EQ(end.internal_error, "a bug");
  ExpectEveryTaskCancelledOnce(file_);
}

TEST_F(CollectorTest, AnExceptionOnTheCollectorsLoopStopsTheRunAndEveryTaskIsReported) {
  Prepare(100, 1, Duration(60'000), /*own_threads=*/false);
  boost::asio::steady_timer soon(io_, milliseconds(200));
  soon.async_wait([](boost::system::error_code) { throw std::runtime_error("a bug here"); });
  const RunEnd end = Run();
  EXPECT_EQ(end.internal_error, "a bug here");
  ExpectEveryTaskCancelledOnce(file_);
}

}  // namespace
}  // namespace orchestrator
