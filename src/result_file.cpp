#include "orchestrator/result_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "orchestrator/input_error.h"

namespace orchestrator {
namespace {

[[noreturn]] void CannotCreate(const std::string& path, int error) {
  throw InputError(path, 0, std::string("cannot write results: ") + std::strerror(error));
}

}  // namespace

ResultFile ResultFile::Create(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0) {
    if (S_ISDIR(info.st_mode)) throw InputError(path, 0, "is a directory, not a file");
    if (!S_ISREG(info.st_mode)) {
      // A device, FIFO or socket: there is nothing to replace, only something to write to.
      const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0) CannotCreate(path, errno);
      return ResultFile(fd, path, "");
    }
  } else if (errno != ENOENT) {
    CannotCreate(path, errno);
  }

  // Replace the file a symlink points to, not the symlink.
  std::string target = path;
  if (char resolved[PATH_MAX]; ::realpath(path.c_str(), resolved) != nullptr) target = resolved;
  std::string temporary = target + ".partial-XXXXXX";
  const int fd = ::mkostemp(temporary.data(), O_CLOEXEC);
  if (fd < 0) CannotCreate(path, errno);
  // mkstemp makes it 0600; give it what a new file gets (0666 less the umask), or keep the
  // mode of the file it replaces.
  mode_t mode = info.st_mode & 07777;
  if (mode == 0) {
    const mode_t umask = ::umask(0);
    ::umask(umask);
    mode = 0666 & ~umask;
  }
  ::fchmod(fd, mode);
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
  return 0;
}

}  // namespace orchestrator
