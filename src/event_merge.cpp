#include "orchestrator/event_merge.h"

#include <algorithm>
#include <variant>

namespace orchestrator {

EventMerge::EventMerge(std::size_t workers, std::chrono::steady_clock::duration window)
    : streams_(std::max<std::size_t>(1, workers)), window_(window) {}

void EventMerge::Add(const WorkerBatch& batch) {
  if (batch.list >= streams_.size()) streams_.resize(batch.list + 1);
  Stream& stream = streams_[batch.list];
  stream.events.insert(stream.events.end(), batch.task_events.begin(), batch.task_events.end());
  held_ += batch.task_events.size();
  for (const WorkerRecord& record : batch.records) {
    if (const auto* row = std::get_if<RowRecord>(&record)) {
      stream.rows.push_back({.task = row->task, .outcome = row->outcome, .at = row->at});
      ++held_;
    }
  }
  stream.told_until = std::max(stream.told_until, batch.told_until);
  stream.done = stream.done || batch.last;
}

void EventMerge::Release(Clock::TimePoint now, MergedEvents& out) {
  // What every worker still running has told of already; a worker silent for longer than
  // the window holds back no one.
  Clock::TimePoint horizon = Clock::TimePoint::max();
  for (const Stream& stream : streams_) {
    if (!stream.done) horizon = std::min(horizon, stream.told_until);
  }
  if (horizon != Clock::TimePoint::max()) horizon = std::max(horizon, now - window_);
  ReleaseUntil(horizon, out);
}

void EventMerge::ReleaseAll(MergedEvents& out) { ReleaseUntil(Clock::TimePoint::max(), out); }

// A merge of the streams' heads: each stream's events and rows are in time order already.
void EventMerge::ReleaseUntil(Clock::TimePoint horizon, MergedEvents& out) {
  while (held_ > 0) {
    Stream* earliest = nullptr;
    bool row = false;
    Clock::TimePoint at = horizon;
    for (Stream& stream : streams_) {
      // <= for events and < for rows: at a tie, events first, and the earlier stream first.
      if (!stream.events.empty() && stream.events.front().at <= at &&
          (earliest == nullptr || stream.events.front().at < at)) {
        earliest = &stream;
        row = false;
        at = stream.events.front().at;
      }
      if (!stream.rows.empty() && stream.rows.front().at <= at &&
          (earliest == nullptr || stream.rows.front().at < at)) {
        earliest = &stream;
        row = true;
        at = stream.rows.front().at;
      }
    }
    if (earliest == nullptr) return;
    --held_;
    if (row) {
      out.Finished(earliest->rows.front());
      earliest->rows.pop_front();
    } else {
      out.Event(earliest->events.front());
      earliest->events.pop_front();
    }
  }
}

}  // namespace orchestrator
