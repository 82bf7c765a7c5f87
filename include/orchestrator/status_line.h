// The status line: a run's progress on stderr, for a person.
#ifndef ORCHESTRATOR_STATUS_LINE_H_
#define ORCHESTRATOR_STATUS_LINE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>

#include "orchestrator/output_stream.h"
#include "orchestrator/run_progress.h"

namespace orchestrator {

/// Rows a second over the last few seconds, from samples of the row count.
class RateMeter {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  explicit RateMeter(std::chrono::steady_clock::duration window = std::chrono::seconds(5))
      : window_(window) {}

  void Sample(TimePoint now, std::uint64_t rows);
  /// Rows a second between the oldest sample in the window and the newest; 0 until there
  /// are two samples at least 100 ms apart.
  double PerSecond() const;

 private:
  std::chrono::steady_clock::duration window_;
  std::deque<std::pair<TimePoint, std::uint64_t>> samples_;
};

/// `[45210/100000 45%] 12 failed, 3400/s, ETA 0:16 | 64 fetching, 1203 waiting, 3 blocked`:
/// what matters first, rows written of the run's tasks (counts in plain digits, as the summary
/// and report print them), the failed rows if any, the rate of rows and the time left at that
/// rate ("ETA --" while it is 0); then the tasks in each phase that has any (fetching and
/// waiting always). Fit to `width` columns (never wrapped; 0: any width) by dropping phases
/// from the end, whole, and only then cutting the rest. With `colour`, the failed count is red
/// (escapes that take no columns).
std::string StatusText(const RunProgress& progress, double rows_per_second, std::size_t width,
                       bool colour = false);

/// Draws the status line on `stderr_stream`. On a terminal it is the stream's bottom line,
/// redrawn on every Update (the collector calls it 10 times a second) and erased by Finish,
/// before the summary; text written to the stream goes above it. Fit to the terminal's
/// width each time. Not on a terminal (--progress) it is a plain line of its own on every
/// Update but the first, at the start (every 10 s), for logs.
class StatusLine final : public RunWatcher {
 public:
  enum class Mode { kTerminal, kPlain };

  /// `terminal_fd`: the descriptor whose window size gives the width (kTerminal). `colour`:
  /// whether the line may be coloured (ColourFor; a kTerminal line only).
  StatusLine(OutputStream& stderr_stream, Mode mode, int terminal_fd, bool colour = false);

  void Update(const RunProgress& progress) override;
  void Finish(const RunProgress& progress) override;

 private:
  std::size_t Width() const;

  OutputStream& stream_;
  Mode mode_;
  int terminal_fd_;
  bool colour_;
  RateMeter rate_;
  std::uint64_t updates_ = 0;
};

/// Whether `fd` is a terminal a status line can be drawn on: a tty, and TERM set and not
/// "dumb".
bool IsStatusTerminal(int fd);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_STATUS_LINE_H_
