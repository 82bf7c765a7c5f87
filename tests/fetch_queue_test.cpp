#include "orchestrator/fetch_queue.h"

#include <gtest/gtest.h>

namespace orchestrator {
namespace {

using std::chrono::milliseconds;

TEST(FetchQueueTest, OneLaneIsAFifoWithRetriesInFront) {
  FetchQueue queue;
  const Clock::TimePoint now{};
  std::optional<Clock::TimePoint> wake;
  queue.PushBack(1, 0);
  queue.PushBack(2, 0);
  queue.PushFront(9, 0);
  EXPECT_EQ(queue.size(), 3u);
  EXPECT_EQ(queue.Pop(now, wake), 9u);
  EXPECT_EQ(queue.Pop(now, wake), 1u);
  EXPECT_EQ(queue.Pop(now, wake), 2u);
  EXPECT_EQ(queue.Pop(now, wake), std::nullopt);
  EXPECT_FALSE(wake);
}

// A lane held back by its rate does not hold up the other lanes; across lanes, first come
// first served.
TEST(FetchQueueTest, ALaneWaitingForItsRateLetsTheOthersPass) {
  RateLimiter ten(10.0);
  FetchQueue queue({&ten});  // lane 1: 10 a second
  Clock::TimePoint now{std::chrono::hours(1)};
  std::optional<Clock::TimePoint> wake;
  queue.PushBack(1, 1);
  queue.PushBack(2, 1);
  queue.PushBack(3, 0);
  queue.PushBack(4, 0);
  EXPECT_EQ(queue.Pop(now, wake), 1u) << "it came first";
  EXPECT_EQ(queue.Pop(now, wake), 3u) << "2 waits 100 ms for its lane's rate";
  EXPECT_EQ(queue.Pop(now, wake), 4u);
  EXPECT_EQ(queue.Pop(now, wake), std::nullopt);
  EXPECT_EQ(wake, now + milliseconds(100));
  now += milliseconds(100);
  EXPECT_EQ(queue.Pop(now, wake), 2u);
  EXPECT_TRUE(queue.empty());
}

TEST(FetchQueueTest, EraseIfAndClear) {
  RateLimiter one(1.0);
  FetchQueue queue({&one});
  for (TaskIndex task = 0; task < 6; ++task) queue.PushBack(task, task % 2);
  queue.EraseIf([](TaskIndex task) { return task >= 3; });
  EXPECT_EQ(queue.size(), 3u);
  queue.Clear();
  EXPECT_TRUE(queue.empty());
}

}  // namespace
}  // namespace orchestrator
