#include "orchestrator/result_file.h"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>

#include "orchestrator/input_error.h"
#include "orchestrator/open_output.h"

namespace orchestrator {
namespace {

[[noreturn]] void CannotCreate(const std::string& path, std::string_view contents, int error) {
  throw InputError(path, 0, fmt::format("cannot write {}: {}", contents, std::strerror(error)));
}

// Makes a rename in the directory holding `path` durable: the rename is an entry in that
// directory, which a crash can lose even when the file's own data was synced.
int SyncDirectoryOf(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  const std::string directory = slash == std::string::npos ? "."
                                : slash == 0               ? "/"
                                                           : path.substr(0, slash);
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  int error = ::fsync(fd) == 0 ? 0 : errno;
  // EINVAL: this filesystem cannot sync a directory; there is nothing more to be done.
  if (error == EINVAL) error = 0;
  ::close(fd);
  return error;
}

}  // namespace

int ResultFile::Write(std::string_view text) {
  while (!text.empty()) {
    const ssize_t written = ::write(fd_, text.data(), text.size());
    if (written < 0 && errno != EINTR) return errno;
    if (written > 0) text.remove_prefix(static_cast<std::size_t>(written));
  }
  return 0;
}

ResultFile ResultFile::Create(const std::string& path, std::string_view contents,
                              int interrupt_fd) {
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0) {
    if (S_ISDIR(info.st_mode)) throw InputError(path, 0, "is a directory, not a file");
    if (!S_ISREG(info.st_mode)) {
      // A device, FIFO or socket: there is nothing to replace, only something to write to.
      const int fd = OpenOutput(path, O_WRONLY | O_CLOEXEC, 0, interrupt_fd);
      if (fd < 0) CannotCreate(path, contents, errno);
      return ResultFile(fd, path, "");
    }
  } else if (errno != ENOENT) {
    CannotCreate(path, contents, errno);
  }

  // Replace the file a symlink points to, not the symlink.
  std::string target = path;
  if (char resolved[PATH_MAX]; ::realpath(path.c_str(), resolved) != nullptr) target = resolved;
  std::string temporary = target + ".partial-XXXXXX";
  const int fd = ::mkostemp(temporary.data(), O_CLOEXEC);
  if (fd < 0) CannotCreate(path, contents, errno);
  // mkstemp makes it 0600; give it what a new file gets (0666 less the umask), or keep the
  // mode of the file it replaces.
  mode_t mode = info.st_mode & 07777;
  if (mode == 0) {
    const mode_t umask = ::umask(0);
    ::umask(umask);
    mode = 0666 & ~umask;
  }
  if (::fchmod(fd, mode) != 0) {
    const int error = errno;
    ::close(fd);
    ::unlink(temporary.c_str());
    CannotCreate(path, contents, error);
  }
  return ResultFile(fd, path, std::move(temporary));
}

ResultFile::ResultFile(int fd, std::string path, std::string temporary_path)
    : fd_(fd), path_(std::move(path)), temporary_path_(std::move(temporary_path)) {
  if (!temporary_path_.empty()) {
    target_path_ =
        temporary_path_.substr(0, temporary_path_.size() - sizeof(".partial-XXXXXX") + 1);
  }
}

ResultFile::ResultFile(ResultFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      temporary_path_(std::exchange(other.temporary_path_, {})),
      target_path_(std::move(other.target_path_)) {}

ResultFile::~ResultFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!temporary_path_.empty()) ::unlink(temporary_path_.c_str());
}

int ResultFile::Publish() {
  if (temporary_path_.empty()) return 0;
  if (::fsync(fd_) != 0) return errno;
  if (::rename(temporary_path_.c_str(), target_path_.c_str()) != 0) return errno;
  temporary_path_.clear();
  return SyncDirectoryOf(target_path_);
}

}  // namespace orchestrator
