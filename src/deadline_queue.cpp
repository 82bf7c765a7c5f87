#include "orchestrator/deadline_queue.h"

#include <algorithm>

namespace orchestrator {
namespace {

// std::push_heap builds a max-heap; this order puts the earliest deadline on top.
constexpr auto kLater = [](const auto& a, const auto& b) { return a.due > b.due; };

}  // namespace

DeadlineQueue::DeadlineQueue(std::vector<Duration> lane_durations) {
  for (Duration duration : lane_durations) {
    const bool known = std::any_of(lanes_.begin(), lanes_.end(),
                                   [&](const Lane& lane) { return lane.duration == duration; });
    if (!known) lanes_.push_back({duration, {}});
  }
}

void DeadlineQueue::Push(TimePoint now, Duration after, TaskIndex task) {
  ++size_;
  for (Lane& lane : lanes_) {
    if (lane.duration == after) {
      lane.entries.push_back({now + after, task});
      return;
    }
  }
  heap_.push_back({now + after, task});
  std::push_heap(heap_.begin(), heap_.end(), kLater);
}

std::optional<DeadlineQueue::TimePoint> DeadlineQueue::Earliest() const {
  std::optional<TimePoint> earliest;
  if (!heap_.empty()) earliest = heap_.front().due;
  for (const Lane& lane : lanes_) {
    if (!lane.entries.empty() && (!earliest || lane.entries.front().due < *earliest)) {
      earliest = lane.entries.front().due;
    }
  }
  return earliest;
}

std::optional<TaskIndex> DeadlineQueue::PopDue(TimePoint now) {
  // Find the queue whose head is earliest: the heap (index -1) or one of the lanes.
  int source = -2;
  TimePoint best{};
  if (!heap_.empty()) {
    source = -1;
    best = heap_.front().due;
  }
  for (std::size_t i = 0; i < lanes_.size(); ++i) {
    const auto& entries = lanes_[i].entries;
    if (!entries.empty() && (source == -2 || entries.front().due < best)) {
      source = static_cast<int>(i);
      best = entries.front().due;
    }
  }
  if (source == -2 || best > now) return std::nullopt;

  --size_;
  if (source == -1) {
    std::pop_heap(heap_.begin(), heap_.end(), kLater);
    const TaskIndex task = heap_.back().task;
    heap_.pop_back();
    return task;
  }
  auto& entries = lanes_[static_cast<std::size_t>(source)].entries;
  const TaskIndex task = entries.front().task;
  entries.pop_front();
  return task;
}

void DeadlineQueue::Clear() {
  for (Lane& lane : lanes_) lane.entries.clear();
  heap_.clear();
  size_ = 0;
}

}  // namespace orchestrator
