#include "orchestrator/collector.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>
#include <exception>
#include <stdexcept>
#include <utility>
#include <variant>

#include "orchestrator/overloaded.h"

namespace orchestrator {

Collector::Collector(boost::asio::io_context& io, Reporter& reporter,
                     std::vector<std::string> type_names, const SignalWatch& signals,
                     int watched_output, const HaltSwitch* halt)
    : io_(io),
      reporter_(reporter),
      type_names_(std::move(type_names)),
      signals_(signals),
      watched_output_(watched_output),
      halt_(halt),
      observers_{&reporter} {}

Collector::~Collector() { workers_.clear(); }

Worker::Deliver Collector::Deliverer() {
  return [this](WorkerBatch batch) { Deliver(std::move(batch)); };
}

void Collector::Add(std::unique_ptr<Worker> worker) {
  if (worker->list() != workers_.size()) {
    throw std::invalid_argument("workers are added in the order of their lists");
  }
  workers_.push_back(std::move(worker));
}

void Collector::Watch(RunWatcher& watcher, std::chrono::milliseconds every) {
  watches_.push_back({.watcher = &watcher,
                      .every = every,
                      .timer = std::make_unique<boost::asio::steady_timer>(io_)});
}

RunEnd Collector::Run() {
  workers_running_ = workers_.size();
  if (workers_running_ == 0) return end_;
  owed_.emplace(io_.get_executor());
  if (!watches_.empty()) {
    std::size_t tasks = 0;
    for (const auto& worker : workers_) tasks += worker->task_count();
    progress_.emplace(type_names_, workers_.size(), tasks, std::chrono::system_clock::now());
    observers_.push_back(&*progress_);
    for (std::size_t w = 0; w < watches_.size(); ++w) {
      watches_[w].watcher->Update(*progress_);
      ArmWatch(w);
    }
  }

  // Each of these stops the run; the rows of the stopped tasks still arrive, as cancelled.
  SignalWait signal_wait(io_, signals_, [this](int number) {
    end_.signal = number;
    StopAll();
  });
  ClosedReaderWatch reader(io_, watched_output_, [this] {
    end_.reader_gone = true;
    StopAll();
  });
  reporter_.set_on_output_error([this] { StopAll(); });
  // Rows written while handling one burst of records go out in one write, right after it.
  reporter_.set_on_pending([this] { boost::asio::post(io_, [this] { reporter_.Flush(); }); });
  // A result stream that failed already (the header could not be written) stops the run
  // before it starts: every task is reported cancelled, on the outputs that still work.
  if (reporter_.failed_stream() != nullptr) StopAll();

  for (RunObserver* observer : observers_) observer->OnRunStart(workers_.size());
  ArmHoldBack();
  for (const auto& worker : workers_) worker->Start();
  // A handler that throws leaves run(), which can go on after it: the exception is reported
  // and the run stopped, so that every task still gets its row. A second one gives up.
  while (true) {
    try {
      io_.run();
      break;
    } catch (const std::exception& error) {
      OnInternalError(error.what());
    } catch (...) {
      OnInternalError("an exception of unknown type");
    }
    if (io_.stopped()) break;
  }
  reporter_.set_on_pending(nullptr);
  reporter_.set_on_output_error(nullptr);
  hold_back_timer_.reset();
  return end_;
}

// What an observer holds back goes out even while no batch comes (every task waits in a
// long delay, say): each kHoldBackTick.
void Collector::ArmHoldBack() {
  constexpr auto kHoldBackTick = std::chrono::milliseconds(100);
  if (workers_running_ == 0) return;
  if (!hold_back_timer_) {
    const bool any = std::any_of(observers_.begin(), observers_.end(),
                                 [](const RunObserver* observer) { return observer->HoldsBack(); });
    if (!any) return;
    hold_back_timer_.emplace(io_);
  }
  hold_back_timer_->expires_after(kHoldBackTick);
  hold_back_timer_->async_wait([this](boost::system::error_code error) {
    if (error || workers_running_ == 0) return;
    for (RunObserver* observer : observers_) {
      if (observer->HoldsBack()) AfterBatch(*observer);
    }
    ArmHoldBack();
  });
}

void Collector::AfterBatch(RunObserver& observer) {
  std::optional<OutputFailure> failure = observer.AfterBatch();
  if (failure && !end_.output_failure) {
    // Like a failed --output: the run stops, and every task still gets its row.
    end_.output_failure = std::move(failure);
    StopAll();
  }
}

void Collector::ArmWatch(std::size_t index) {
  Watching& watch = watches_[index];
  if (watch.every.count() <= 0) return;  // the start and the end only
  watch.timer->expires_after(watch.every);
  watch.timer->async_wait([this, index](boost::system::error_code error) {
    if (error || !progress_ || workers_running_ == 0) return;
    watches_[index].watcher->Update(*progress_);
    ArmWatch(index);
  });
}

// Every task has its row: each watcher's last word.
void Collector::EndWatches() {
  if (!progress_) return;
  for (Watching& watch : watches_) watch.timer->cancel();
  for (Watching& watch : watches_) watch.watcher->Finish(*progress_);
}

void Collector::Deliver(WorkerBatch batch) {
  if (progress_ && batch.stats) progress_->WorkerStats(batch.list, std::move(*batch.stats));
  for (RunObserver* observer : observers_) observer->OnBatch(batch);
  for (const WorkerRecord& record : batch.records) {
    std::visit(Overloaded{[this](const EmitRecord& emit) {
                            for (RunObserver* observer : observers_) {
                              observer->OnEmit(emit.task, type_names_[emit.task.type], emit.step,
                                               emit.line);
                            }
                          },
                          [this](const RowRecord& row) {
                            for (RunObserver* observer : observers_) {
                              observer->OnRow(row.task, row.outcome);
                            }
                            if (row.outcome.cause == OutcomeCause::kHalted) ++end_.not_started;
                          },
                          [this](const WebhookGaveUpRecord& given_up) {
                            for (RunObserver* observer : observers_) {
                              observer->OnWebhookGaveUp(given_up.task, given_up.webhook,
                                                        given_up.reason);
                            }
                          }},
               record);
  }
  HaltIfTripped();
  // After the rows: a child starts once its parents' rows are written.
  for (std::size_t list = 0; list < batch.parents_ended.size(); ++list) {
    if (!batch.parents_ended[list].empty()) {
      workers_[list]->ParentsEnded(std::move(batch.parents_ended[list]));
    }
  }
  for (RunObserver* observer : observers_) AfterBatch(*observer);
  if (!batch.error.empty()) OnInternalError(std::move(batch.error));
  if (batch.last && --workers_running_ == 0) {
    owed_.reset();
    if (hold_back_timer_) hold_back_timer_->cancel();
    EndWatches();
    // Idle keep-alive sockets of a worker that shares this loop would keep it running.
    io_.stop();
  }
}

// --halt: the switch tripped in a worker, which halted its own tasks; the others hear of it
// here too, in case nothing of theirs starts soon to make them look.
void Collector::HaltIfTripped() {
  if (halt_ == nullptr || !halt_->tripped() || end_.halted_after) return;
  if (end_.signal != 0 || !end_.internal_error.empty() || end_.reader_gone) return;
  end_.halted_after = halt_->failures();
  for (const auto& worker : workers_) worker->Halt(halt_->stops_running(), halt_->failures());
}

void Collector::StopAll() {
  for (const auto& worker : workers_) worker->Cancel();
}

void Collector::OnInternalError(std::string what) {
  if (!end_.internal_error.empty()) {
    io_.stop();  // a second failure: the loop cannot be trusted to finish the run
    return;
  }
  end_.internal_error = std::move(what);
  StopAll();
}

}  // namespace orchestrator
