#include "orchestrator/body_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <system_error>

namespace orchestrator {
namespace {

std::string Describe(const std::string& path, int error_number) {
  return fmt::format("{}: {}", path, std::strerror(error_number));
}

// The folder `path` is in, with a slash at its end ("" for the current one).
std::string_view FolderOf(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash + 1);
}

}  // namespace

BodyFile::BodyFile(std::string path) : path_(std::move(path)) {}

BodyFile::~BodyFile() { Discard(); }

bool BodyFile::Open(std::string& error) {
  if (path_.empty() || path_.back() == '/') {
    error = fmt::format("{}: names a folder, not a file", path_.empty() ? "\"\"" : path_);
    return false;
  }
  const std::string_view folder = FolderOf(path_);
  std::random_device random;
  bool folders_made = false;
  for (int attempt = 0; attempt < 8; ++attempt) {
    const std::uint64_t tag = (std::uint64_t{random()} << 32) | random();
    temporary_ = fmt::format("{}.orchestrator-{}-{:016x}.part", folder, ::getpid(), tag);
    fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ >= 0) return true;
    const int open_error = errno;
    if (open_error == EEXIST) continue;
    if (open_error == ENOENT && !folders_made && !folder.empty()) {
      std::error_code made;
      std::filesystem::create_directories(std::filesystem::path(folder), made);
      if (made) {
        temporary_.clear();
        error = Describe(std::string(folder.substr(0, folder.size() - 1)), made.value());
        return false;
      }
      folders_made = true;
      continue;
    }
    temporary_.clear();
    error = Describe(path_, open_error);
    return false;
  }
  temporary_.clear();
  error = fmt::format("{}: no free temporary name beside it", path_);
  return false;
}

bool BodyFile::Write(std::string_view data, std::string& error) {
  if (fd_ < 0 && !Open(error)) return false;
  while (!data.empty()) {
    const ssize_t written = ::write(fd_, data.data(), data.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) {
      error = Describe(path_, errno);
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

bool BodyFile::Restart(std::string& error) {
  if (fd_ < 0) return true;
  if (::ftruncate(fd_, 0) != 0 || ::lseek(fd_, 0, SEEK_SET) != 0) {
    error = Describe(path_, errno);
    return false;
  }
  return true;
}

bool BodyFile::Commit(std::string& error) {
  if (fd_ < 0 && !Open(error)) return false;
  // close() reports a write that failed late (NFS, a full quota); the file is not made then.
  const int closed = ::close(fd_);
  fd_ = -1;
  if (closed != 0 || ::rename(temporary_.c_str(), path_.c_str()) != 0) {
    error = Describe(path_, errno);
    Discard();
    return false;
  }
  temporary_.clear();
  return true;
}

void BodyFile::Discard() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!temporary_.empty()) ::unlink(temporary_.c_str());
  temporary_.clear();
}

}  // namespace orchestrator
