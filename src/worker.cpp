#include "orchestrator/worker.h"

#include <sched.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <functional>
#include <numeric>
#include <queue>
#include <utility>

namespace orchestrator {

namespace {

// Which list each task goes to when tasks depend on each other: whole weakly connected
// components, so that no dependency crosses workers, largest first onto the least loaded
// list (the lowest such list on a tie), which spreads the tasks about as evenly as the
// components allow.
std::vector<std::uint32_t> DealComponents(const TaskGraph& graph, std::size_t count) {
  std::uint32_t components = 0;
  std::vector<std::uint32_t> deal = graph.Components(&components);
  std::vector<std::size_t> size(components);
  for (const std::uint32_t c : deal) ++size[c];
  std::vector<std::uint32_t> order(components);
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return size[a] > size[b]; });
  using Load = std::pair<std::size_t, std::uint32_t>;  // tasks so far, list
  std::priority_queue<Load, std::vector<Load>, std::greater<>> lightest;
  for (std::size_t k = 0; k < count; ++k) lightest.push({0, static_cast<std::uint32_t>(k)});
  std::vector<std::uint32_t> list_of_component(components);
  for (const std::uint32_t c : order) {
    auto [load, list] = lightest.top();
    lightest.pop();
    list_of_component[c] = list;
    lightest.push({load + size[c], list});
  }
  for (std::uint32_t& d : deal) d = list_of_component[d];
  return deal;
}

}  // namespace

std::vector<TaskList> SplitTasks(TaskList tasks, std::size_t count) {
  std::vector<TaskList> lists;
  if (count <= 1) {
    lists.push_back(std::move(tasks));  // not `return {...}`: an initializer list copies
    return lists;
  }
  lists.resize(count);
  const bool dependencies = !tasks.graph.empty();
  // Without dependencies, task i goes to list i % count.
  const std::vector<std::uint32_t> list_of =
      dependencies ? DealComponents(tasks.graph, count) : std::vector<std::uint32_t>();
  for (std::size_t k = 0; k < count; ++k) {
    lists[k].type_names = tasks.type_names;
    if (!dependencies) lists[k].tasks.reserve(ShareOf(tasks.tasks.size(), count, k));
  }
  // A task's column values go with it to its list's own table.
  std::vector<std::string_view> values;
  std::vector<TaskIndex> index_in_list(dependencies ? tasks.tasks.size() : 0);
  for (std::size_t i = 0; i < tasks.tasks.size(); ++i) {
    TaskList& list = lists[dependencies ? list_of[i] : i % count];
    Task task = tasks.tasks[i];
    if (task.values != kNoValues) {
      values.clear();
      for (std::size_t v = 0; v < tasks.values.ValueCount(task.values); ++v) {
        values.push_back(tasks.values.Value(task.values, v));
      }
      // Each list holds a part of what the whole table held, so it fits.
      task.values = list.values.AddRow(values);
    }
    if (dependencies) index_in_list[i] = static_cast<TaskIndex>(list.tasks.size());
    list.tasks.push_back(task);
  }
  if (dependencies) {
    // Each list's own graph, in its own numbering: a parent and its children share a list.
    std::vector<std::vector<TaskGraph::Edge>> edges(count);
    for (std::size_t parent = 0; parent < tasks.tasks.size(); ++parent) {
      const auto p = static_cast<TaskIndex>(parent);
      tasks.graph.ForEachChild(p, [&](const Dependent& d) {
        edges[list_of[parent]].push_back({index_in_list[parent], index_in_list[d.child], d.kind});
      });
    }
    tasks.graph = TaskGraph();
    for (std::size_t k = 0; k < count; ++k) {
      lists[k].graph = TaskGraph::FromEdges(lists[k].tasks.size(), std::move(edges[k]));
    }
  }
  for (std::size_t k = 0; k < count; ++k) {
    lists[k].rows = lists[k].tasks.size();
    lists[k].values.ShrinkToFit();
  }
  return lists;
}

std::size_t DefaultThreadCount() {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  // The CPUs this process may use (taskset, cgroups' cpusets), not all the machine has.
  if (::sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_COUNT(&cpus) > 0) {
    return static_cast<std::size_t>(CPU_COUNT(&cpus));
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

std::size_t ShareOf(std::size_t total, std::size_t count, std::size_t index) {
  return total / count + (index < total % count ? 1 : 0);
}

Worker::Worker(TaskList tasks, std::vector<const Blueprint*> blueprints, Options options,
               boost::asio::io_context& collector, Deliver deliver)
    : tasks_(std::move(tasks)),
      collector_(collector),
      // Hint 1: one thread runs it. Posts from the collector's thread stay safe: only the
      // BOOST_ASIO_CONCURRENCY_HINT_UNSAFE hints turn Asio's locking off.
      own_io_(options.own_thread ? std::make_unique<boost::asio::io_context>(1) : nullptr),
      io_(own_io_ ? *own_io_ : collector),
      http_(io_, std::move(options.http)),
      clock_(io_),
      runner_(tasks_, std::move(blueprints), std::move(options.runner), http_, clock_, *this),
      deliver_(std::move(deliver)) {}

Worker::Worker(TaskList tasks, const Blueprint& blueprint, Options options,
               boost::asio::io_context& collector, Deliver deliver)
    : Worker(std::move(tasks), std::vector<const Blueprint*>{&blueprint}, std::move(options),
             collector, std::move(deliver)) {}

Worker::~Worker() {
  if (thread_.joinable()) {
    own_io_->stop();
    thread_.join();
  }
}

void Worker::Start() {
  boost::asio::post(io_, [this] {
    runner_.Start([this] {
      SendBatch(/*last=*/true);
      if (own_io_) own_io_->stop();  // idle keep-alive sockets and timers keep it busy
    });
  });
  if (own_io_) thread_ = std::thread([this] { RunOwnLoop(); });
}

// No exception leaves the thread (it would call std::terminate): the collector hears of it
// in the last batch, and the tasks still owed a row get one if the runner can still say so.
void Worker::RunOwnLoop() {
  try {
    own_io_->run();
  } catch (const std::exception& error) {
    Fail(error.what());
  } catch (...) {
    Fail("an exception of unknown type");
  }
}

void Worker::Fail(std::string what) {
  own_io_->stop();
  if (sent_last_) return;
  error_ = std::move(what);
  try {
    runner_.Cancel();  // reports the unfinished tasks; the last batch goes out if it finishes
  } catch (...) {
  }
  if (!sent_last_) SendBatch(/*last=*/true);
}

void Worker::Cancel() {
  boost::asio::post(io_, [this] { runner_.Cancel(); });
}

void Worker::Halt(bool stop_running, std::string reason) {
  boost::asio::post(io_, [this, stop_running, reason = std::move(reason)] {
    runner_.Halt(stop_running, reason);
  });
}

void Worker::Event(const Task& task, std::string_view /*type_name*/, std::string_view step,
                   std::string_view line) {
  Add({.task = task,
       .step = step,
       .line = std::string(line),
       .outcome = std::nullopt,
       .webhook = {}});
}

void Worker::Result(const Task& task, const Outcome& outcome) {
  Add({.task = task, .step = {}, .line = {}, .outcome = outcome, .webhook = {}});
}

void Worker::WebhookGaveUp(const Task& task, std::string_view webhook, std::string_view reason) {
  Add({.task = task,
       .step = {},
       .line = std::string(reason),
       .outcome = std::nullopt,
       .webhook = std::string(webhook)});
}

// The records of one burst of events go out together, once the burst is handled: one
// hand-over (and one wake-up of the collector) per burst rather than per record.
void Worker::Add(WorkerRecord record) {
  if (batch_.empty()) boost::asio::post(io_, [this] { SendBatch(/*last=*/false); });
  batch_.push_back(std::move(record));
}

void Worker::SendBatch(bool last) {
  if (sent_last_ || (batch_.empty() && !last)) return;
  sent_last_ = last;
  boost::asio::post(collector_, [this, batch = WorkerBatch{.records = std::exchange(batch_, {}),
                                                           .last = last,
                                                           .error = last ? error_ : ""}]() mutable {
    deliver_(std::move(batch));
  });
}

}  // namespace orchestrator
