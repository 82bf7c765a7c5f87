#include "orchestrator/earlier_results.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string_view>

#include <boost/json/value.hpp>
#include <vector>

#include "csv_source.h"
#include "orchestrator/compact_json.h"
#include "orchestrator/input_error.h"
#include "orchestrator/outcome.h"
#include "orchestrator/result_format.h"
#include "orchestrator/result_jsonl.h"
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

// A value as a capture would have written it: a file edited by hand gets no further.
std::string SafeCaptured(std::string_view value) {
  std::string safe;
  AppendTerminalSafe(safe, value, UnsafeShownAs::kReplacementCharacter);
  return safe;
}

// Keeps a completed row's captured values, or forgets an earlier row's when it has none.
void KeepCaptured(TaskId id, CapturedValues values, EarlierResults& results) {
  if (!values.empty()) {
    results.captured[id] = std::move(values);
  } else if (!results.captured.empty()) {
    results.captured.erase(id);
  }
}

// What `text`, a CSV cell of a column read as `reading`, is.
CapturedAs CellCapturedAs(std::string_view text, CsvCellReading reading) {
  if (reading != CsvCellReading::kJsonValue || !IsOneLineJsonValue(text)) return CapturedAs::kText;
  return text.front() == '"' ? CapturedAs::kText : CapturedAs::kJson;
}

// Hands the parser a byte read ahead (to tell the format by) before the rest of the source.
class ReadAheadSource : public io::ByteSourceBase {
 public:
  ReadAheadSource(char first, std::unique_ptr<io::ByteSourceBase> rest)
      : first_(first), rest_(std::move(rest)) {}
  int read(char* buffer, int size) override {
    if (given_ || size <= 0) return rest_->read(buffer, size);
    given_ = true;
    buffer[0] = first_;
    return 1 + rest_->read(buffer + 1, size - 1);
  }

 private:
  char first_;
  bool given_ = false;
  std::unique_ptr<io::ByteSourceBase> rest_;
};

// Reads JSON Lines rows from `source`, whose first byte, `first`, was read already.
void ReadJsonlRows(CheckedByteSource& source, char first, const std::string& file,
                   std::span<const std::string> capture_columns, EarlierResults& results) {
  std::string text(1, first);
  std::size_t line = 1;
  std::vector<char> chunk(std::size_t{64} << 10);
  bool end = false;
  while (!end) {
    const int n = source.read(chunk.data(), static_cast<int>(chunk.size()));
    end = n <= 0;
    if (n > 0) text.append(chunk.data(), static_cast<std::size_t>(n));
    std::size_t at = 0;
    for (std::size_t newline = text.find('\n'); newline != std::string::npos;
         newline = text.find('\n', at)) {
      const std::string_view row_text(text.data() + at, newline - at);
      at = newline + 1;
      const JsonlResultRow row = ReadJsonlResultRow(row_text, file, line++);
      ++results.rows;
      if (row.status != FinalStatus::kCompleted) continue;
      results.completed.push_back(row.id);
      CapturedValues values;
      row.ForEachCapture([&](std::string_view name, const boost::json::value& value) {
        const auto found = std::find(capture_columns.begin(), capture_columns.end(), name);
        if (found == capture_columns.end()) {
          if (std::find(results.dropped_columns.begin(), results.dropped_columns.end(), name) ==
              results.dropped_columns.end()) {
            results.dropped_columns.emplace_back(name);
          }
          return;
        }
        const auto column = static_cast<std::size_t>(found - capture_columns.begin());
        if (const boost::json::string* string = value.if_string()) {
          values.Set(column, SafeCaptured(*string));
        } else {
          std::string json;
          AppendCompactJson(json, value);
          values.Set(column, SafeCaptured(json), CapturedAs::kJson);
        }
      });
      KeepCaptured(row.id, std::move(values), results);
    }
    text.erase(0, at);
  }
  // The source ends the input with a line feed, and stops before a torn last line.
}

void ReadRows(CsvRows& csv, const CheckedByteSource& source, const std::string& file,
              std::span<const std::string> capture_columns,
              std::span<const CsvCellReading> readings, EarlierResults& results) {
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
    const CsvCell id_cell = csv.Cell(0);
    const CsvCell status_cell = csv.Cell(1);
    const std::optional<TaskId> id = ParseTaskId(id_cell.text);
    if (!id) {
      throw InputError(file, csv.line(), TrimmedColumn(id_cell), DescribeBadTaskId(id_cell.text));
    }
    const std::optional<FinalStatus> status = ParseFinalStatus(status_cell.text);
    if (!status) {
      throw InputError(file, csv.line(), status_cell.column,
                       fmt::format("final_status {} is neither Completed nor Failed",
                                   QuoteForMessage(status_cell.text)));
    }
    ++results.rows;
    if (*status != FinalStatus::kCompleted) continue;
    results.completed.push_back(*id);
    CapturedValues values;
    for (std::size_t k = 0; k < carried.size(); ++k) {
      const std::string_view value = csv.Field(std::size(kColumns) + k);
      if (!carried[k] || value.empty()) continue;
      const CsvCellReading reading =
          *carried[k] < readings.size() ? readings[*carried[k]] : CsvCellReading::kText;
      values.Set(*carried[k], SafeCaptured(value), CellCapturedAs(value, reading));
    }
    KeepCaptured(*id, std::move(values), results);
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

std::vector<CsvCellReading> CsvCellReadings(std::span<const Capture* const> captures,
                                            std::size_t columns) {
  std::vector<std::optional<CsvCellReading>> found(columns);
  for (const Capture* capture : captures) {
    if (capture->column >= columns) continue;
    CsvCellReading reading = CsvCellReading::kText;
    switch (capture->spec.source()) {
      case CaptureSource::kStatus:
      case CaptureSource::kSize:
      case CaptureSource::kTime:
      case CaptureSource::kJson:
        reading = CsvCellReading::kJsonValue;
        break;
      case CaptureSource::kUrl:
      case CaptureSource::kHeader:
      case CaptureSource::kRegex:
      case CaptureSource::kBody:
      case CaptureSource::kSha256:
        break;
    }
    std::optional<CsvCellReading>& column = found[capture->column];
    // Captures of one name that differ in kind (two task types): text, the cell's own.
    column = !column || *column == reading ? reading : CsvCellReading::kText;
  }
  std::vector<CsvCellReading> readings;
  for (const std::optional<CsvCellReading>& reading : found) {
    readings.push_back(reading.value_or(CsvCellReading::kText));
  }
  return readings;
}

EarlierResults ReadEarlierResults(const InputFile& file,
                                  std::span<const std::string> capture_columns,
                                  std::span<const CsvCellReading> readings) {
  EarlierResults results;
  const std::optional<std::uint64_t> complete = CompleteLinesLength(file);
  CheckedByteSource source(file, complete);
  {
    // The first byte tells the format: "{" starts JSON Lines, a CSV starts with its header.
    char first = 0;
    const bool empty = source.read(&first, 1) != 1;
    if (!empty && ResultFormatOfFirstByte(first) == ResultFormat::kJsonl) {
      try {
        ReadJsonlRows(source, first, file.name(), capture_columns, results);
      } catch (const InputError& error) {
        throw source.EarlierOf(error);
      }
    } else {
      std::unique_ptr<io::ByteSourceBase> rest = source.Lend();
      if (!empty) rest = std::make_unique<ReadAheadSource>(first, std::move(rest));
      CsvRows csv(file.name(), std::move(rest));
      try {
        ReadRows(csv, source, file.name(), capture_columns, readings, results);
      } catch (const InputError& error) {
        throw source.EarlierOf(error);
      } catch (const io::error::base& error) {
        throw source.EarlierOf(TranslateCsvError(error, file.name(), csv.line()));
      }
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

CarriedParentValues CarriedParentValuesOf(const TaskList& tasks, const EarlierResults& earlier) {
  CarriedParentValues carried;
  if (tasks.graph.empty() || earlier.completed.empty()) return carried;
  for (TaskIndex parent = 0; parent < tasks.tasks.size(); ++parent) {
    const TaskId parent_id = tasks.tasks[parent].id;
    if (!earlier.Completed(parent_id)) continue;
    tasks.graph.ForEachChild(parent, [&](const Dependent& dependent) {
      const TaskId child_id = tasks.tasks[dependent.child].id;
      if (!earlier.Completed(child_id)) {
        carried[child_id].push_back(
            CarriedParent{dependent.rank, parent_id, earlier.CapturedOf(parent_id)});
      }
    });
  }
  return carried;
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
