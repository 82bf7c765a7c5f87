#include "orchestrator/fd_budget.h"

#include <sys/resource.h>

namespace orchestrator {
namespace {

constexpr std::uint64_t kReservedDescriptors = 32;
constexpr std::uint64_t kDescriptorsPerFetch = 5;
// Past one thread, every worker has its own event loop (epoll, eventfd, timerfd) and curl
// multi handle (a wake-up socket pair), and the collector keeps its loop: 5 a thread, less
// the 2 the single-threaded run's multi handle already had. Counted in /proc/PID/fd: 20, 28
// and 38 descriptors with 1, 2 and 4 threads and 8 connections.
constexpr std::uint64_t kDescriptorsPerThread = 5;
constexpr std::uint64_t kDescriptorsSharedWithOneThread = 2;

}  // namespace

std::uint64_t RaiseOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur != limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? UINT64_MAX : limit.rlim_cur;
}

std::size_t MaxFetchesFor(std::uint64_t open_files, std::size_t threads, bool saving_bodies) {
  const std::uint64_t reserved =
      kReservedDescriptors +
      (threads > 1 ? kDescriptorsPerThread * threads - kDescriptorsSharedWithOneThread : 0);
  if (open_files <= reserved) return 0;
  const std::uint64_t per_fetch = kDescriptorsPerFetch + (saving_bodies ? 1 : 0);
  return static_cast<std::size_t>((open_files - reserved) / per_fetch);
}

}  // namespace orchestrator
