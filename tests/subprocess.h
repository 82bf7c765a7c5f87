// Runs a program (the built orchestrator) with pipes, for end-to-end tests.
#ifndef ORCHESTRATOR_TESTS_SUBPROCESS_H_
#define ORCHESTRATOR_TESTS_SUBPROCESS_H_

#include <spawn.h>
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace orchestrator::testing {

/// How we read the child's stdout pipe: at once, slowly (a `| pv -L` or a busy consumer:
/// 512 bytes every 5 ms at most), or not at all until Wait() (a `| sleep 60` that ends). The
/// last two shrink the pipe to one page, so that even a few hundred rows fill it.
enum class StdoutReader { kEager, kSlow, kStalled };

struct ProcessOptions {
  std::string stdin_text;                  ///< written to the child's stdin, which is then closed
  bool stdin_closed = false;               ///< start the child with descriptor 0 closed (`<&-`)
  std::vector<std::string> env;            ///< KEY=VALUE entries added to (or replacing) ours
  std::optional<std::string> stdout_path;  ///< send stdout to this file instead of a pipe
  bool stdout_closed = false;              ///< start the child with descriptor 1 closed (`>&-`)
  StdoutReader stdout_reader = StdoutReader::kEager;
  /// stdout or stderr a pipe whose reading end is closed before the child starts (a reader
  /// that left: `| true`, `2> >(exit)`): its writes fail with EPIPE, or raise SIGPIPE.
  bool stdout_reader_gone = false;
  bool stderr_reader_gone = false;
  /// Run the child through tests/peak_rss.cpp, so that max_rss_kib is the child's own peak:
  /// spawned from here, it would count this process's peak too (vfork shares our memory until
  /// exec). Signals are passed on to the child; pid() is then the launcher's.
  bool measure_peak_rss = false;
  std::optional<std::string> stderr_path;     ///< send stderr to this file (/dev/full) instead
  bool stderr_closed = false;                 ///< start the child with descriptor 2 closed (`2>&-`)
  std::chrono::milliseconds timeout{60'000};  ///< killed with SIGKILL after this long
  /// Keep stdin open once stdin_text is written, as a slow producer does, until CloseStdin().
  bool keep_stdin_open = false;
  /// The child's working folder (the files it writes by relative paths); none: ours.
  std::optional<std::string> cwd;
};

// Builders for ProcessOptions (GCC 12 warns on designated initializers that skip members).
inline ProcessOptions Stdin(std::string text) {
  ProcessOptions options;
  options.stdin_text = std::move(text);
  return options;
}
inline ProcessOptions WithEnv(ProcessOptions options, std::string entry) {
  options.env.push_back(std::move(entry));
  return options;
}
inline ProcessOptions KeepStdinOpen(ProcessOptions options) {
  options.keep_stdin_open = true;
  return options;
}
inline ProcessOptions StdoutTo(ProcessOptions options, std::string path) {
  options.stdout_path = std::move(path);
  return options;
}

inline ProcessOptions MeasurePeakRss(ProcessOptions options) {
  options.measure_peak_rss = true;
  return options;
}
inline ProcessOptions ReadStdout(ProcessOptions options, StdoutReader reader) {
  options.stdout_reader = reader;
  return options;
}
inline ProcessOptions StdinClosed(ProcessOptions options) {
  options.stdin_closed = true;
  return options;
}
inline ProcessOptions StdoutClosed(ProcessOptions options) {
  options.stdout_closed = true;
  return options;
}
inline ProcessOptions StderrTo(ProcessOptions options, std::string path) {
  options.stderr_path = std::move(path);
  return options;
}
inline ProcessOptions StderrClosed(ProcessOptions options) {
  options.stderr_closed = true;
  return options;
}

struct ProcessResult {
  int exit_status = -1;  ///< exit code, or -1 if killed by a signal
  int term_signal = 0;   ///< the signal that killed it, or 0
  bool timed_out = false;
  std::string out;
  std::string err;
  double seconds = 0;
  std::size_t max_rss_kib = 0;  ///< peak resident memory of the child (not its children)
};

/// A running child process whose stdin, stdout and stderr are pipes to us.
class Subprocess {
 public:
  Subprocess(const std::vector<std::string>& argv, ProcessOptions options);
  ~Subprocess();  // kills the child if it still runs
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  /// Pumps the pipes until stdout holds at least `lines` complete lines. False if the child
  /// closed stdout first or `timeout` passed.
  bool WaitForStdoutLines(std::size_t lines, std::chrono::milliseconds timeout);
  /// Feeds stdin and collects stdout and stderr for `duration`.
  void PumpFor(std::chrono::milliseconds duration);
  /// Closes our end of the stdout pipe, as `| head -1` does once it has its line.
  void CloseStdout();
  /// Ends the child's input: at once, or once the rest of stdin_text is written.
  void CloseStdin();
  void Signal(int number);
  /// Whether the child has not exited yet (it is not reaped by asking).
  bool Running() const;
  /// Pumps until the child exits (killing it at the deadline) and returns what it did.
  ProcessResult Wait();

  pid_t pid() const { return pid_; }
  const std::string& out() const { return result_.out; }
  const std::string& err() const { return result_.err; }

 private:
  void Pump(std::chrono::milliseconds max_wait);

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  std::string stdin_text_;
  std::size_t stdin_written_ = 0;
  bool keep_stdin_open_ = false;
  StdoutReader stdout_reader_ = StdoutReader::kEager;
  bool waiting_ = false;       // in Wait(): a stalled reader reads again
  std::string peak_rss_path_;  // where peak_rss writes the child's peak, when measured
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point deadline_;
  ProcessResult result_;
  bool reaped_ = false;
};

/// Runs `argv` to completion.
ProcessResult RunProcess(const std::vector<std::string>& argv, ProcessOptions options = {});

/// Initialises posix_spawn attributes that start a child with default signal handling and no
/// signal blocked, whatever the test runner ignores or blocks (destroy them after the spawn).
void InitDefaultSignals(posix_spawnattr_t& attributes);

}  // namespace orchestrator::testing

#endif  // ORCHESTRATOR_TESTS_SUBPROCESS_H_
