// Reading an earlier result CSV of this tool, for --resume.
#ifndef ORCHESTRATOR_EARLIER_RESULTS_H_
#define ORCHESTRATOR_EARLIER_RESULTS_H_

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "orchestrator/capture.h"
#include "orchestrator/captured_values.h"
#include "orchestrator/dependency_values.h"
#include "orchestrator/input_file.h"
#include "orchestrator/task.h"

namespace orchestrator {

/// What an earlier run recorded: the tasks it completed, and what their captures took. Failed
/// rows are read and checked but not kept, since those tasks run again.
struct EarlierResults {
  std::vector<TaskId> completed;         ///< sorted, without repeats
  std::size_t rows = 0;                  ///< result rows read (header and torn line aside)
  std::optional<std::size_t> torn_line;  ///< the line left out because it had no line end
  /// The captured values of completed rows that have any, by this run's capture columns
  /// (a repeated row: its last).
  std::unordered_map<TaskId, CapturedValues> captured;
  /// The file's capture columns that this run does not capture: their values are dropped.
  std::vector<std::string> dropped_columns;

  bool Completed(TaskId id) const;
  /// What the earlier run captured for `id` (empty if nothing).
  CapturedValues CapturedOf(TaskId id) const;
};

/// How a CSV cell of a capture column is read back: a cell has no type, so it is what this
/// run's captures of that column write.
enum class CsvCellReading : std::uint8_t {
  kText,  ///< url, header:, regex:, body, sha256; or a column whose captures differ in kind
  /// status, size, time, json:POINTER: a JSON value when the text is one other than a string.
  /// (A json: value that was the string "12" reads back as the number 12: a CSV cannot tell
  /// them apart; a JSON Lines result keeps them apart.)
  kJsonValue,
};

/// The readings of this run's `columns` capture columns, from every capture of the run (any
/// step of any task type; Capture::column says its column).
std::vector<CsvCellReading> CsvCellReadings(std::span<const Capture* const> captures,
                                            std::size_t columns);

/// Reads a result file as written by this tool, perhaps cut short: a CSV (header
/// task_id,final_status,error_info, then capture columns) or JSON Lines (--format jsonl: a
/// file that starts with "{"; see ReadJsonlResultRow). A last line without a line feed is a
/// row torn by a crash: it is left out and its line number returned. An empty file has no
/// rows. Throws InputError (file and line) for anything else that is not a well-formed result
/// row.
///
/// The values of the file's capture columns (keys) are kept for completed rows, under the
/// index of the column of the same name in `capture_columns` (this run's), made safe as a
/// capture makes them. A JSON Lines value that is a string is text, any other its compact JSON
/// (CapturedAs::kJson); a CSV cell is read as `readings` says for its column (none: text).
EarlierResults ReadEarlierResults(const InputFile& file,
                                  std::span<const std::string> capture_columns = {},
                                  std::span<const CsvCellReading> readings = {});

/// Removes from `tasks` those the earlier run completed and returns their ids, in the order
/// of `tasks`. Earlier rows for ids not in `tasks` are ignored. The graph follows: the tasks
/// left are renumbered in it, and a dependency on a task taken is gone (it completed).
std::vector<TaskId> TakeCompleted(TaskList& tasks, const EarlierResults& earlier);

/// What each parent the earlier run completed captured, for each of its children in `tasks`
/// that runs again: the earlier file is the result cache of {dep.NAME}. Call before
/// TakeCompleted, which drops those parents and their edges.
CarriedParentValues CarriedParentValuesOf(const TaskList& tasks, const EarlierResults& earlier);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_EARLIER_RESULTS_H_
