// peak_rss FILE COMMAND [ARGS...]: runs COMMAND and writes its peak resident memory in KiB to
// FILE, then exits as COMMAND did.
//
// A child's ru_maxrss is not only its own: posix_spawn (vfork) runs the child in the spawning
// process's memory until exec, and exec keeps that memory's high-water mark. A test binary
// that grew to 100 MB (an earlier test's output) would see 100 MB in every child it spawns.
// Forked from this small program instead, a child's figure is its own.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <initializer_list>

namespace {

volatile sig_atomic_t child = 0;

// Signals for the command (a test's SIGTERM) go on to it.
extern "C" void Forward(int number) {
  if (child > 0) ::kill(child, number);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fputs("usage: peak_rss FILE COMMAND [ARGS...]\n", stderr);
    return 2;
  }
  struct sigaction action {};
  action.sa_handler = Forward;
  sigemptyset(&action.sa_mask);
  for (const int number : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(number, &action, nullptr);
  const pid_t pid = ::fork();  // from this small process: the child starts small
  if (pid < 0) {
    std::perror("peak_rss: fork");
    return 127;
  }
  if (pid == 0) {
    // A launcher killed (a test's timeout, SIGKILL) takes the command with it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (const int number : {SIGINT, SIGTERM, SIGHUP}) ::signal(number, SIG_DFL);
    ::execv(argv[2], argv + 2);
    std::perror("peak_rss: exec");
    ::_exit(127);
  }
  child = pid;
  int status = 0;
  rusage usage{};
  while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  if (std::FILE* out = std::fopen(argv[1], "w")) {
    std::fprintf(out, "%ld\n", usage.ru_maxrss);
    std::fclose(out);
  }
  if (WIFSIGNALED(status)) {
    ::signal(WTERMSIG(status), SIG_DFL);
    ::raise(WTERMSIG(status));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
