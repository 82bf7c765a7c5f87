#include "orchestrator/status_line.h"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "orchestrator/colour.h"

namespace orchestrator {

void RateMeter::Sample(TimePoint now, std::uint64_t rows) {
  samples_.emplace_back(now, rows);
  // Keep one sample at or before the window's start, so the window is always spanned.
  while (samples_.size() > 2 && now - samples_[1].first >= window_) samples_.pop_front();
}

double RateMeter::PerSecond() const {
  if (samples_.size() < 2) return 0;
  const auto& [first_time, first_rows] = samples_.front();
  const auto& [last_time, last_rows] = samples_.back();
  const double seconds = std::chrono::duration<double>(last_time - first_time).count();
  if (seconds < 0.1) return 0;
  return static_cast<double>(last_rows - first_rows) / seconds;
}

namespace {

std::string ClockFace(double seconds) {
  const auto total = static_cast<std::uint64_t>(std::llround(seconds));
  const std::uint64_t hours = total / 3600, minutes = total / 60 % 60, rest = total % 60;
  return hours > 0 ? fmt::format("{}:{:02}:{:02}", hours, minutes, rest)
                   : fmt::format("{}:{:02}", minutes, rest);
}

}  // namespace

std::string StatusText(const RunProgress& progress, double rows_per_second, std::size_t width,
                       bool colour) {
  const RunStats stats = progress.Combined();
  const std::uint64_t done = progress.rows();
  const std::uint64_t total = progress.tasks();
  const auto percent = total == 0 ? 100 : static_cast<unsigned>(done * 100 / total);
  // What matters first: how far, how many failed, how fast, how long still.
  std::string text = fmt::format("[{}/{} {}%] ", done, total, percent);
  std::string failed;
  if (progress.failed_rows() > 0) failed = fmt::format("{} failed", progress.failed_rows());
  const std::size_t failed_at = text.size();
  if (!failed.empty()) text += failed + ", ";
  text += fmt::format("{}/s, ",
                      static_cast<std::uint64_t>(std::llround(std::max(0.0, rows_per_second))));
  text += rows_per_second > 0 && done < total
              ? "ETA " + ClockFace(static_cast<double>(total - done) / rows_per_second)
              : std::string("ETA --");
  // Then where the tasks are, each phase dropped whole, from the end, when the line is full.
  const char* separator = " | ";
  auto count = [&](TaskPhase phase) { return stats.phases[static_cast<std::size_t>(phase)]; };
  for (const TaskPhase phase : {TaskPhase::kFetching, TaskPhase::kWaiting, TaskPhase::kQueued,
                                TaskPhase::kPooled, TaskPhase::kBlocked, TaskPhase::kEnding}) {
    const bool always = phase == TaskPhase::kFetching || phase == TaskPhase::kWaiting;
    if (!always && count(phase) == 0) continue;
    const std::string part = fmt::format("{}{} {}", separator, count(phase), TaskPhaseName(phase));
    if (width > 0 && text.size() + part.size() > width) break;
    text += part;
    separator = ", ";
  }
  if (width > 0 && text.size() > width) text.resize(width);
  // Coloured last: the escapes take no columns.
  if (colour && !failed.empty() && failed_at + failed.size() <= text.size()) {
    text.replace(failed_at, failed.size(), Painted(failed, Colour::kRed, true));
  }
  return text;
}

bool IsStatusTerminal(int fd) {
  if (::isatty(fd) != 1) return false;
  const char* term = std::getenv("TERM");
  return term != nullptr && *term != '\0' && std::strcmp(term, "dumb") != 0;
}

StatusLine::StatusLine(OutputStream& stderr_stream, Mode mode, int terminal_fd, bool colour)
    : stream_(stderr_stream), mode_(mode), terminal_fd_(terminal_fd), colour_(colour) {}

std::size_t StatusLine::Width() const {
  winsize size{};
  if (::ioctl(terminal_fd_, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    // One column short of the edge: a character in the last one wraps on some terminals.
    return size.ws_col - 1u;
  }
  return 79;
}

void StatusLine::Update(const RunProgress& progress) {
  rate_.Sample(std::chrono::steady_clock::now(), progress.rows());
  if (mode_ == Mode::kTerminal) {
    stream_.SetBottomLine(StatusText(progress, rate_.PerSecond(), Width(), colour_));
  } else if (updates_++ > 0) {  // not at the start: a log needs no line of zeros
    stream_.Write("orchestrator: " + StatusText(progress, rate_.PerSecond(), 0) + "\n");
    stream_.Flush();
  }
}

void StatusLine::Finish(const RunProgress& /*progress*/) {
  if (mode_ == Mode::kTerminal) stream_.SetBottomLine({});
}

}  // namespace orchestrator
