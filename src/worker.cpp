#include "orchestrator/worker.h"

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <utility>

namespace orchestrator {
namespace {

// --events: the most TaskEvents a batch carries (160 KiB of them).
constexpr std::size_t kEventsABatch = 4096;

}  // namespace

Worker::Worker(TaskList tasks, std::vector<const Blueprint*> blueprints, Options options,
               boost::asio::io_context& collector, Deliver deliver)
    : tasks_(std::move(tasks)),
      collector_(collector),
      // Hint 1: one thread runs it. Posts from the collector's thread stay safe: only the
      // BOOST_ASIO_CONCURRENCY_HINT_UNSAFE hints turn Asio's locking off.
      own_io_(options.own_thread ? std::make_unique<boost::asio::io_context>(1) : nullptr),
      io_(own_io_ ? *own_io_ : collector),
      busy_(boost::asio::make_work_guard(io_)),
      http_(options.http(io_)),
      clock_(io_),
      runner_(tasks_, std::move(blueprints), std::move(options.runner), *http_, clock_, *this,
              this),
      deliver_(std::move(deliver)),
      parents_ended_(tasks_.graph.empty() ? 0 : tasks_.deal.lists),
      stats_every_(options.stats_every),
      stats_timer_(io_),
      load_probe_(io_, FetchWindow::kTick, [this](LoopLoad load) { runner_.OnLoopLoad(load); }) {
  if (options.events) runner_.set_event_sink(this);
  runner_.set_admission_sink(this);
}

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
    ArmStatsTimer();
    runner_.Start([this] {
      stats_timer_.cancel();
      load_probe_.Stop();
      SendBatch(/*last=*/true);
      busy_.reset();
      if (own_io_) own_io_->stop();  // idle keep-alive sockets and timers keep it busy
    });
    // From now: the start (every task queued at once) is no load of the loop's.
    if (!runner_.finished()) load_probe_.Start();
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

void Worker::ArmStatsTimer() {
  if (!stats_every_ || stats_every_->count() <= 0) return;
  stats_timer_.expires_after(*stats_every_);
  stats_timer_.async_wait([this](boost::system::error_code error) {
    if (error || sent_last_) return;
    stats_due_ = true;
    SendSoon();
    ArmStatsTimer();
  });
}

void Worker::Cancel() {
  boost::asio::post(io_, [this] { runner_.Cancel(); });
}

void Worker::Halt(bool stop_running, std::uint64_t failures) {
  boost::asio::post(io_, [this, stop_running, failures] { runner_.Halt(stop_running, failures); });
}

void Worker::ParentsEnded(ParentNews news) {
  boost::asio::post(io_, [this, news = std::move(news)]() mutable {
    runner_.ParentsEnded(news.ends, news.values);
  });
}

void Worker::ParentEnded(std::uint32_t list, const ParentEnd& news) {
  parents_ended_[list].ends.push_back(news);
  SendSoon();
}

void Worker::ParentCaptured(std::uint32_t list, ParentValues values) {
  parents_ended_[list].values.push_back(std::move(values));
  SendSoon();
}

// From any thread: the runner hears it on its own loop, at once when this is that loop.
void Worker::Admitted(TaskIndex task) {
  boost::asio::dispatch(io_, [this, task] { runner_.Admitted(task); });
}

void Worker::OnTaskEvent(const TaskEvent& event) {
  task_events_.push_back(event);
  // A long burst (every task queued at the start) goes out in pieces, which the collector
  // writes while the rest are made, rather than as one vector of a million events.
  if (task_events_.size() >= kEventsABatch) {
    SendBatch(/*last=*/false);
  } else {
    SendSoon();
  }
}

void Worker::Event(const Task& task, std::string_view /*type_name*/, std::string_view step,
                   std::string_view line) {
  Add(EmitRecord{.task = task, .step = step, .line = std::string(line)});
}

void Worker::Result(const Task& task, const Outcome& outcome) {
  Add(RowRecord{.task = task, .outcome = outcome, .at = clock_.Now()});
}

void Worker::WebhookGaveUp(const Task& task, std::string_view webhook, std::string_view reason) {
  Add(WebhookGaveUpRecord{
      .task = task, .webhook = std::string(webhook), .reason = std::string(reason)});
}

// The records of one burst of events go out together, once the burst is handled: one
// hand-over (and one wake-up of the collector) per burst rather than per record.
void Worker::Add(WorkerRecord record) {
  batch_.push_back(std::move(record));
  SendSoon();
}

void Worker::SendSoon() {
  if (send_posted_) return;
  send_posted_ = true;
  boost::asio::post(io_, [this] { SendBatch(/*last=*/false); });
}

void Worker::SendBatch(bool last) {
  send_posted_ = false;
  if (sent_last_) return;
  const bool news = std::any_of(parents_ended_.begin(), parents_ended_.end(),
                                [](const ParentNews& list) { return !list.empty(); });
  if (batch_.empty() && task_events_.empty() && !news && !stats_due_ && !last) return;
  sent_last_ = last;
  WorkerBatch batch{.records = std::exchange(batch_, {}),
                    .parents_ended = {},
                    .last = last,
                    .task_events = std::exchange(task_events_, {}),
                    .list = tasks_.deal.list,
                    .stats = std::nullopt,
                    .error = last ? error_ : "",
                    .told_until = clock_.Now()};
  if (stats_every_ && (stats_due_ || last)) batch.stats = runner_.stats();
  stats_due_ = false;
  if (news) {
    batch.parents_ended.resize(parents_ended_.size());
    for (std::size_t list = 0; list < parents_ended_.size(); ++list) {
      std::swap(batch.parents_ended[list], parents_ended_[list]);
    }
  }
  boost::asio::post(collector_,
                    [this, batch = std::move(batch)]() mutable { deliver_(std::move(batch)); });
}

}  // namespace orchestrator
