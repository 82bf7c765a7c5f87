#include "subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

extern char** environ;

namespace orchestrator::testing {

void InitDefaultSignals(posix_spawnattr_t& attributes) {
  posix_spawnattr_init(&attributes);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int number : {SIGPIPE, SIGINT, SIGTERM, SIGHUP}) sigaddset(&defaults, number);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
}
namespace {

void Check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
}

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

std::vector<std::string> MergedEnvironment(const std::vector<std::string>& extra) {
  std::vector<std::string> merged;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text(*entry);
    const std::string key = text.substr(0, text.find('=') + 1);
    bool replaced = false;
    for (const std::string& e : extra) replaced |= e.rfind(key, 0) == 0;
    if (!replaced) merged.push_back(text);
  }
  merged.insert(merged.end(), extra.begin(), extra.end());
  return merged;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

}  // namespace

Subprocess::Subprocess(const std::vector<std::string>& argv, ProcessOptions options)
    : stdin_text_(std::move(options.stdin_text)), keep_stdin_open_(options.keep_stdin_open) {
  // A child that exits before it reads its input (a usage error) makes our write to its stdin
  // fail with EPIPE, which Pump handles; the default SIGPIPE would end the test process.
  ::signal(SIGPIPE, SIG_IGN);
  int in[2], out[2], err[2];
  Check(::pipe2(in, O_CLOEXEC) == 0 && ::pipe2(out, O_CLOEXEC) == 0 && ::pipe2(err, O_CLOEXEC) == 0,
        "pipe2");
  if (options.stdout_reader_gone) CloseFd(out[0]);
  if (options.stderr_reader_gone) CloseFd(err[0]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (options.stdin_closed) {
    posix_spawn_file_actions_addclose(&actions, STDIN_FILENO);
  } else {
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  }
  if (options.stdout_path) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, options.stdout_path->c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  } else if (options.stdout_closed) {
    posix_spawn_file_actions_addclose(&actions, STDOUT_FILENO);
  } else {
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  }
  if (options.stderr_path) {
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, options.stderr_path->c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  } else if (options.stderr_closed) {
    posix_spawn_file_actions_addclose(&actions, STDERR_FILENO);
  } else {
    posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  }
  // Last: the paths above are ours.
  if (options.cwd) posix_spawn_file_actions_addchdir_np(&actions, options.cwd->c_str());
  // The child starts with default signal handling, whatever the test runner ignores.
  posix_spawnattr_t attributes;
  InitDefaultSignals(attributes);

  std::vector<std::string> args = argv;
  if (options.measure_peak_rss) {
    char path[] = "/tmp/orchestrator-peak-rss-XXXXXX";
    const int fd = ::mkstemp(path);
    Check(fd >= 0, "mkstemp");
    ::close(fd);
    peak_rss_path_ = path;
    args.insert(args.begin(), {ORCHESTRATOR_PEAK_RSS, peak_rss_path_});
  }
  std::vector<std::string> env = MergedEnvironment(options.env);
  const int spawned = ::posix_spawn(&pid_, args[0].c_str(), &actions, &attributes,
                                    Pointers(args).data(), Pointers(env).data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  stdin_fd_ = in[1];
  stdout_fd_ = out[0];
  stdout_reader_ = options.stdout_reader;
  if (stdout_reader_ != StdoutReader::kEager) ::fcntl(stdout_fd_, F_SETPIPE_SZ, 4096);
  stderr_fd_ = err[0];
  if (options.stdin_closed) CloseFd(stdin_fd_);
  if (options.stdout_path || options.stdout_closed) CloseFd(stdout_fd_);
  if (options.stderr_path || options.stderr_closed) CloseFd(stderr_fd_);
  if (spawned != 0) {
    errno = spawned;
    Check(false, "posix_spawn");
  }
  for (int fd : {stdin_fd_, stdout_fd_, stderr_fd_}) {
    if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  if (stdin_text_.empty() && !keep_stdin_open_) CloseFd(stdin_fd_);
  started_ = std::chrono::steady_clock::now();
  deadline_ = started_ + options.timeout;
}

Subprocess::~Subprocess() {
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  CloseFd(stdin_fd_);
  CloseFd(stdout_fd_);
  CloseFd(stderr_fd_);
  if (!peak_rss_path_.empty()) ::unlink(peak_rss_path_.c_str());
}

void Subprocess::Pump(std::chrono::milliseconds max_wait) {
  pollfd fds[3];
  int count = 0;
  if (stdin_fd_ >= 0 && stdin_written_ < stdin_text_.size()) fds[count++] = {stdin_fd_, POLLOUT, 0};
  const bool stalled = stdout_reader_ == StdoutReader::kStalled && !waiting_;
  if (stdout_fd_ >= 0 && !stalled) fds[count++] = {stdout_fd_, POLLIN, 0};
  if (stderr_fd_ >= 0) fds[count++] = {stderr_fd_, POLLIN, 0};
  if (count == 0) {
    ::usleep(static_cast<useconds_t>(std::min<long>(max_wait.count(), 10) * 1000));
    return;
  }
  if (::poll(fds, static_cast<nfds_t>(count), static_cast<int>(max_wait.count())) <= 0) return;
  for (int i = 0; i < count; ++i) {
    if (fds[i].revents == 0) continue;
    if (fds[i].fd == stdin_fd_) {
      const ssize_t n = ::write(stdin_fd_, stdin_text_.data() + stdin_written_,
                                stdin_text_.size() - stdin_written_);
      if (n > 0) stdin_written_ += static_cast<std::size_t>(n);
      if (n < 0 || (stdin_written_ == stdin_text_.size() && !keep_stdin_open_)) {
        CloseFd(stdin_fd_);
      }
      continue;
    }
    char buffer[65536];
    const bool slow = fds[i].fd == stdout_fd_ && stdout_reader_ == StdoutReader::kSlow;
    if (slow) ::usleep(5000);
    const ssize_t n = ::read(fds[i].fd, buffer, slow ? 512 : sizeof buffer);
    if (n > 0) {
      (fds[i].fd == stdout_fd_ ? result_.out : result_.err)
          .append(buffer, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EAGAIN) {
      CloseFd(fds[i].fd == stdout_fd_ ? stdout_fd_ : stderr_fd_);
    }
  }
}

bool Subprocess::WaitForStdoutLines(std::size_t lines, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (true) {
    std::size_t seen = 0;
    for (char c : result_.out) seen += c == '\n';
    if (seen >= lines) return true;
    if (stdout_fd_ < 0 || std::chrono::steady_clock::now() >= until) return false;
    Pump(std::chrono::milliseconds(20));
  }
}

void Subprocess::PumpFor(std::chrono::milliseconds duration) {
  const auto until = std::chrono::steady_clock::now() + duration;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    Pump(std::min(left, std::chrono::milliseconds(20)));
  }
}

void Subprocess::CloseStdout() { CloseFd(stdout_fd_); }

void Subprocess::CloseStdin() {
  keep_stdin_open_ = false;
  if (stdin_written_ == stdin_text_.size()) CloseFd(stdin_fd_);
}

void Subprocess::Signal(int number) { ::kill(pid_, number); }

bool Subprocess::Running() const {
  if (reaped_) return false;
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == 0;
}

ProcessResult Subprocess::Wait() {
  waiting_ = true;
  while (!reaped_) {
    while (stdout_fd_ >= 0 || stderr_fd_ >= 0) {
      if (std::chrono::steady_clock::now() >= deadline_ && !result_.timed_out) {
        result_.timed_out = true;
        ::kill(pid_, SIGKILL);
      }
      Pump(std::chrono::milliseconds(20));
    }
    int status = 0;
    rusage usage{};
    const pid_t done = ::wait4(pid_, &status, WNOHANG, &usage);
    if (done == pid_) {
      reaped_ = true;
      result_.max_rss_kib = static_cast<std::size_t>(usage.ru_maxrss);
      if (!peak_rss_path_.empty()) {
        std::ifstream measured(peak_rss_path_);
        std::size_t kib = 0;
        if (measured >> kib) {
          result_.max_rss_kib = kib;
        } else {
          ADD_FAILURE() << "peak_rss wrote no figure";
        }
        ::unlink(peak_rss_path_.c_str());
        peak_rss_path_.clear();
      }
      if (WIFEXITED(status)) result_.exit_status = WEXITSTATUS(status);
      if (WIFSIGNALED(status)) result_.term_signal = WTERMSIG(status);
    } else {
      if (std::chrono::steady_clock::now() >= deadline_ && !result_.timed_out) {
        result_.timed_out = true;
        ::kill(pid_, SIGKILL);
      }
      ::usleep(5000);
    }
  }
  result_.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  return result_;
}

ProcessResult RunProcess(const std::vector<std::string>& argv, ProcessOptions options) {
  Subprocess process(argv, std::move(options));
  return process.Wait();
}

}  // namespace orchestrator::testing
