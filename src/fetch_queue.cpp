#include "orchestrator/fetch_queue.h"

#include <algorithm>

namespace orchestrator {

FetchQueue::FetchQueue(std::vector<RateLimiter*> lane_rates) : lanes_(1 + lane_rates.size()) {
  for (std::size_t k = 0; k < lane_rates.size(); ++k) lanes_[k + 1].rate = lane_rates[k];
}

void FetchQueue::PushBack(TaskIndex task, std::size_t lane) {
  lanes_[lane].entries.push_back({next_back_++, task});
  ++size_;
}

void FetchQueue::PushFront(TaskIndex task, std::size_t lane) {
  lanes_[lane].entries.push_front({next_front_--, task});
  ++size_;
}

std::optional<TaskIndex> FetchQueue::Pop(Clock::TimePoint now,
                                         std::optional<Clock::TimePoint>& wake) {
  // A lane's rate is shared with other threads: a start it seemed to allow may be taken
  // before this one claims it, and then the lanes are looked at again.
  while (true) {
    wake.reset();
    Lane* first = nullptr;
    for (Lane& lane : lanes_) {
      if (lane.entries.empty()) continue;
      if (lane.rate != nullptr) {
        if (const Clock::TimePoint next = lane.rate->NextStart(now); next > now) {
          wake = wake ? std::min(*wake, next) : next;
          continue;
        }
      }
      if (first == nullptr || lane.entries.front().order < first->entries.front().order) {
        first = &lane;
      }
    }
    if (first == nullptr) return std::nullopt;
    if (first->rate != nullptr && !first->rate->TryStart(now)) continue;
    const TaskIndex task = first->entries.front().task;
    first->entries.pop_front();
    --size_;
    return task;
  }
}

void FetchQueue::EraseIf(const std::function<bool(TaskIndex)>& erase) {
  for (Lane& lane : lanes_) {
    size_ -= std::erase_if(lane.entries, [&](const Entry& entry) { return erase(entry.task); });
  }
}

void FetchQueue::Clear() {
  for (Lane& lane : lanes_) lane.entries.clear();
  size_ = 0;
}

}  // namespace orchestrator
