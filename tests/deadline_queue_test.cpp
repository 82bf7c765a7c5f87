#include "orchestrator/deadline_queue.h"

#include <gtest/gtest.h>

namespace orchestrator {
namespace {

using std::chrono::milliseconds;
const Clock::TimePoint kStart{std::chrono::hours(1)};

std::vector<TaskIndex> PopAllDue(DeadlineQueue& queue, Clock::TimePoint now) {
  std::vector<TaskIndex> popped;
  while (auto task = queue.PopDue(now)) popped.push_back(*task);
  return popped;
}

TEST(DeadlineQueueTest, PopsOnlyWhatIsDueInDeadlineOrder) {
  DeadlineQueue queue({Duration(5000)});
  queue.Push(kStart, Duration(5000), 1);
  queue.Push(kStart + milliseconds(10), Duration(5000), 2);
  queue.Push(kStart + milliseconds(20), Duration(300), 3);   // heap
  queue.Push(kStart + milliseconds(30), Duration(5200), 4);  // heap, due after 1 and 2
  EXPECT_EQ(queue.size(), 4u);
  EXPECT_EQ(queue.Earliest(), kStart + milliseconds(320));
  EXPECT_TRUE(PopAllDue(queue, kStart + milliseconds(319)).empty());
  EXPECT_EQ(PopAllDue(queue, kStart + milliseconds(320)), std::vector<TaskIndex>{3});
  EXPECT_EQ(queue.Earliest(), kStart + milliseconds(5000));
  EXPECT_EQ(PopAllDue(queue, kStart + milliseconds(6000)), (std::vector<TaskIndex>{1, 2, 4}));
  EXPECT_TRUE(queue.empty());
  EXPECT_FALSE(queue.Earliest().has_value());
}

TEST(DeadlineQueueTest, KeepsSeveralLanesApart) {
  DeadlineQueue queue({Duration(100), Duration(50)});
  queue.Push(kStart, Duration(100), 1);
  queue.Push(kStart, Duration(50), 2);
  queue.Push(kStart + milliseconds(10), Duration(50), 3);
  EXPECT_EQ(PopAllDue(queue, kStart + milliseconds(1000)), (std::vector<TaskIndex>{2, 3, 1}));
}

TEST(DeadlineQueueTest, HeapOrdersRandomDeadlines) {
  DeadlineQueue queue;
  const int delays[] = {70, 10, 50, 30, 90, 20, 80, 40, 60, 0};
  for (TaskIndex i = 0; i < 10; ++i) queue.Push(kStart, Duration(delays[i]), i);
  EXPECT_EQ(PopAllDue(queue, kStart + milliseconds(100)),
            (std::vector<TaskIndex>{9, 1, 5, 3, 7, 2, 8, 0, 6, 4}));
}

TEST(DeadlineQueueTest, ClearEmptiesEverything) {
  DeadlineQueue queue({Duration(10)});
  queue.Push(kStart, Duration(10), 1);
  queue.Push(kStart, Duration(11), 2);
  queue.Clear();
  EXPECT_TRUE(queue.empty());
  EXPECT_FALSE(queue.PopDue(kStart + std::chrono::hours(1)).has_value());
}

}  // namespace
}  // namespace orchestrator
