#include "orchestrator/earlier_results.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "csv_source.h"
#include "orchestrator/input_error.h"
#include "orchestrator/outcome.h"

namespace orchestrator {
namespace {

// The length of a seekable file up to and including its last line feed, or nullopt when it
// cannot be known without reading it all (a pipe).
std::optional<std::uint64_t> CompleteLinesLength(const InputFile& file) {
  struct stat info {};
  if (::fstat(file.fd(), &info) != 0 || !S_ISREG(info.st_mode)) return std::nullopt;
  std::array<char, 4096> chunk{};
  auto end = static_cast<std::uint64_t>(info.st_size);
  while (end > 0) {
    const std::uint64_t start = end > chunk.size() ? end - chunk.size() : 0;
    const ssize_t n = ::pread(file.fd(), chunk.data(), end - start, static_cast<off_t>(start));
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(end - start)) return std::nullopt;  // the reader will say
    const std::string_view text(chunk.data(), static_cast<std::size_t>(n));
    if (const std::size_t at = text.rfind('\n'); at != std::string_view::npos) {
      return start + at + 1;
    }
    end = start;
  }
  return 0;
}

std::optional<FinalStatus> ParseFinalStatus(std::string_view text) {
  for (const FinalStatus status : {FinalStatus::kCompleted, FinalStatus::kFailed}) {
    if (text == FinalStatusName(status)) return status;
  }
  return std::nullopt;
}

void ReadRows(CsvReader<3>& csv, const CheckedByteSource& source, const std::string& file,
              EarlierResults& results) {
  try {
    csv.read_header(io::ignore_no_column, "task_id", "final_status", "error_info");
  } catch (const io::error::header_missing&) {
    return;  // nothing was written yet
  } catch (const io::error::base&) {
    // Another file given by mistake (a tasks CSV, say): say what it is, not which column.
    throw InputError(file, source.header_line(),
                     NotAResultCsvMessage(source.header_text(), source.header_cut()));
  }
  char* id_text = nullptr;
  char* status_text = nullptr;
  char* error_info = nullptr;
  while (csv.read_row(id_text, status_text, error_info)) {
    const std::optional<TaskId> id = ParseTaskId(id_text);
    if (!id) throw InputError(file, csv.get_file_line(), DescribeBadTaskId(id_text));
    const std::optional<FinalStatus> status = ParseFinalStatus(status_text);
    if (!status) {
      throw InputError(file, csv.get_file_line(),
                       fmt::format("final_status {} is neither Completed nor Failed",
                                   QuoteForMessage(status_text)));
    }
    ++results.rows;
    if (*status == FinalStatus::kCompleted) results.completed.push_back(*id);
  }
}

}  // namespace

bool EarlierResults::Completed(TaskId id) const {
  return std::binary_search(completed.begin(), completed.end(), id);
}

EarlierResults ReadEarlierResults(const InputFile& file) {
  EarlierResults results;
  const std::optional<std::uint64_t> complete = CompleteLinesLength(file);
  CheckedByteSource source(file, complete);
  {
    CsvReader<3> csv(file.name(), source.Lend());
    try {
      ReadRows(csv, source, file.name(), results);
    } catch (const InputError& error) {
      throw source.EarlierOf(error);
    } catch (const io::error::base& error) {
      throw source.EarlierOf(TranslateCsvError(error, file.name(), csv.get_file_line()));
    }
    source.ThrowIfFailed();
  }
  if (complete) {
    // Whatever follows the last line feed is a torn row.
    char probe = 0;
    ssize_t n = 0;
    do {
      n = ::pread(file.fd(), &probe, 1, static_cast<off_t>(*complete));
    } while (n < 0 && errno == EINTR);
    if (n == 1) results.torn_line = source.next_line();
  }
  std::sort(results.completed.begin(), results.completed.end());
  results.completed.erase(std::unique(results.completed.begin(), results.completed.end()),
                          results.completed.end());
  return results;
}

std::vector<TaskId> TakeCompleted(TaskList& list, const EarlierResults& earlier) {
  std::vector<TaskId> taken;
  if (earlier.completed.empty()) return taken;
  std::vector<Task>& tasks = list.tasks;
  std::vector<bool> keep(list.graph.empty() ? 0 : tasks.size());
  std::size_t kept = 0;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (earlier.Completed(tasks[i].id)) {
      taken.push_back(tasks[i].id);
    } else {
      if (!keep.empty()) keep[i] = true;
      tasks[kept++] = tasks[i];
    }
  }
  tasks.resize(kept);
  if (!list.graph.empty() && !taken.empty()) list.graph = list.graph.Keep(keep);
  return taken;
}

}  // namespace orchestrator
