#include "orchestrator/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

#include "orchestrator/input_error.h"

namespace orchestrator {
namespace {

// Set once, at the start of main, before any thread runs.
bool standard_input_closed = false;

}  // namespace

void OpenNullOnClosedStandardDescriptors() {
  for (const int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    if (fd == STDIN_FILENO) standard_input_closed = true;
    // The lowest free number: `fd` itself, since the ones below it are open by now. Not
    // close-on-exec, as a standard descriptor is not.
    const int null = ::open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY);
    if (null >= 0 && null != fd) {
      ::dup2(null, fd);
      ::close(null);
    }
  }
}

InputFile InputFile::Open(std::string_view path, int interrupt_fd) {
  if (path == "-") {
    if (standard_input_closed) throw InputError("no input", 0, "standard input is closed");
    return InputFile(STDIN_FILENO, "<stdin>", /*owned=*/false, interrupt_fd);
  }
  std::string name(path);
  // O_NONBLOCK: opening a FIFO must not block until a writer comes (no signal could end that
  // wait). The description is our own, and reads poll before they read.
  const int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    throw InputError(name, 0, std::string("cannot open: ") + std::strerror(errno));
  }
  InputFile file(fd, std::move(name), /*owned=*/true, interrupt_fd);
  struct stat info {};
  if (::fstat(fd, &info) == 0 && S_ISDIR(info.st_mode)) {
    throw InputError(file.name(), 0, "is a directory, not a CSV file");
  }
  return file;
}

InputFile::InputFile(int fd, std::string name, bool owned, int interrupt_fd)
    : fd_(fd), interrupt_fd_(interrupt_fd), name_(std::move(name)), owned_(owned) {}

InputFile::InputFile(InputFile&& other) noexcept
    : fd_(other.fd_),
      interrupt_fd_(other.interrupt_fd_),
      name_(std::move(other.name_)),
      owned_(other.owned_) {
  other.owned_ = false;
}

InputFile::~InputFile() {
  if (owned_) ::close(fd_);
}

}  // namespace orchestrator
