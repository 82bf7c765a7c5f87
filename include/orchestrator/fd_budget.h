// How many connections the process's open-file limit allows.
#ifndef ORCHESTRATOR_FD_BUDGET_H_
#define ORCHESTRATOR_FD_BUDGET_H_

#include <cstddef>
#include <cstdint>

namespace orchestrator {

/// Raises the soft RLIMIT_NOFILE to the hard limit and returns the limit now in force.
std::uint64_t RaiseOpenFileLimit();

/// Fetches that can be in flight with `open_files` descriptors, 0 if not even one. Each
/// fetch may hold a connection, a second socket while Happy Eyeballs races IPv4 and IPv6,
/// the threaded resolver's socketpair, and an idle connection in curl's cache; the process
/// keeps some descriptors for itself (standard streams, epoll, timers, output file), and a
/// run on several threads 5 more a thread (each worker's epoll, timer and wake-up fds, and its
/// curl multi handle's wake-up socket pair). A fetch that saves its body (`save`) holds its
/// file open as well.
std::size_t MaxFetchesFor(std::uint64_t open_files, std::size_t threads = 1,
                          bool saving_bodies = false);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_FD_BUDGET_H_
