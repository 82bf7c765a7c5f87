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
#include "orchestrator/capture.h"
#include "orchestrator/input_error.h"
#include "orchestrator/outcome.h"
#include "orchestrator/text.h"

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

constexpr std::string_view kColumns[] = {"task_id", "final_status", "error_info"};

void ReadRows(CsvRows& csv, const CheckedByteSource& source, const std::string& file,
              std::span<const std::string> capture_columns, EarlierResults& results) {
  std::vector<std::string> names;
  if (!csv.ReadHeader(names)) return;  // nothing was written yet
  // Then capture columns, each a capture's name, once.
  const auto capture_column = [&names](std::size_t k) {
    return !CaptureNameProblem(names[k]) &&
           std::find(names.begin() + static_cast<std::ptrdiff_t>(std::size(kColumns)),
                     names.begin() + static_cast<std::ptrdiff_t>(k),
                     names[k]) == names.begin() + static_cast<std::ptrdiff_t>(k);
  };
  bool result_csv = names.size() >= std::size(kColumns) &&
                    std::equal(std::begin(kColumns), std::end(kColumns), names.begin());
  for (std::size_t k = std::size(kColumns); result_csv && k < names.size(); ++k) {
    result_csv = capture_column(k);
  }
  if (!result_csv) {
    // Another file given by mistake (a tasks CSV, say): say what it is, not which column.
    throw InputError(file, source.header_line(),
                     NotAResultCsvMessage(source.header_text(), source.header_cut()));
  }
  // Each capture column of the file: its index in this run's, or none.
  std::vector<std::optional<std::size_t>> carried;
  for (std::size_t k = std::size(kColumns); k < names.size(); ++k) {
    const auto found = std::find(capture_columns.begin(), capture_columns.end(), names[k]);
    if (found == capture_columns.end()) {
      results.dropped_columns.push_back(names[k]);
      carried.emplace_back();
    } else {
      carried.emplace_back(static_cast<std::size_t>(found - capture_columns.begin()));
    }
  }
  while (csv.ReadRow()) {
    const char* id_text = csv.Field(0);
    const char* status_text = csv.Field(1);
    const std::optional<TaskId> id = ParseTaskId(id_text);
    if (!id) throw InputError(file, csv.line(), DescribeBadTaskId(id_text));
    const std::optional<FinalStatus> status = ParseFinalStatus(status_text);
    if (!status) {
      throw InputError(file, csv.line(),
                       fmt::format("final_status {} is neither Completed nor Failed",
                                   QuoteForMessage(status_text)));
    }
    ++results.rows;
    if (*status != FinalStatus::kCompleted) continue;
    results.completed.push_back(*id);
    CapturedValues values;
    for (std::size_t k = 0; k < carried.size(); ++k) {
      const std::string_view value = csv.Field(std::size(kColumns) + k);
      if (!carried[k] || value.empty()) continue;
      // As a capture would have written it: a file edited by hand gets no further.
      std::string safe;
      AppendTerminalSafe(safe, value, UnsafeShownAs::kReplacementCharacter);
      values.Set(*carried[k], safe);
    }
    if (!values.empty()) {
      results.captured[*id] = std::move(values);
    } else if (!results.captured.empty()) {
      results.captured.erase(*id);
    }
  }
}

}  // namespace

bool EarlierResults::Completed(TaskId id) const {
  return std::binary_search(completed.begin(), completed.end(), id);
}

CapturedValues EarlierResults::CapturedOf(TaskId id) const {
  const auto found = captured.find(id);
  return found == captured.end() ? CapturedValues{} : found->second;
}

EarlierResults ReadEarlierResults(const InputFile& file,
                                  std::span<const std::string> capture_columns) {
  EarlierResults results;
  const std::optional<std::uint64_t> complete = CompleteLinesLength(file);
  CheckedByteSource source(file, complete);
  {
    CsvRows csv(file.name(), source.Lend());
    try {
      ReadRows(csv, source, file.name(), capture_columns, results);
    } catch (const InputError& error) {
      throw source.EarlierOf(error);
    } catch (const io::error::base& error) {
      throw source.EarlierOf(TranslateCsvError(error, file.name(), csv.line()));
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
