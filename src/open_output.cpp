#include "orchestrator/open_output.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace orchestrator {
namespace {

// How often a FIFO without a reader is tried again.
constexpr int kRetryMilliseconds = 20;

}  // namespace

int OpenOutput(const std::string& path, int flags, mode_t mode, int interrupt_fd) {
  while (true) {
    // O_NONBLOCK: open of a FIFO with no reader fails with ENXIO rather than waiting.
    const int fd = ::open(path.c_str(), flags | O_NONBLOCK, mode);
    if (fd >= 0) {
      const int status = ::fcntl(fd, F_GETFL);
      if (status < 0 || ::fcntl(fd, F_SETFL, status & ~O_NONBLOCK) < 0) {
        const int error = errno;
        ::close(fd);
        errno = error;
        return -1;
      }
      return fd;
    }
    if (errno == EINTR) continue;
    if (errno != ENXIO) return -1;
    pollfd signal{.fd = interrupt_fd, .events = POLLIN, .revents = 0};
    const int ready = ::poll(&signal, interrupt_fd >= 0 ? 1 : 0, kRetryMilliseconds);
    if (ready > 0) throw InterruptedWhileOpening(path);
  }
}

}  // namespace orchestrator
