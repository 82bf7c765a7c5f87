// Reading an earlier result CSV of this tool, for --resume.
#ifndef ORCHESTRATOR_EARLIER_RESULTS_H_
#define ORCHESTRATOR_EARLIER_RESULTS_H_

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "orchestrator/captured_values.h"

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

/// Reads a result CSV (header task_id,final_status,error_info, then capture columns) as
/// written by this tool, perhaps cut short. A last line without a line feed is a row torn by
/// a crash: it is left out and its line number returned. An empty file has no rows. Throws
/// InputError (file and line) for anything else that is not a well-formed result row.
///
/// The values of the file's capture columns are kept for completed rows, under the index of
/// the column of the same name in `capture_columns` (this run's).
EarlierResults ReadEarlierResults(const InputFile& file,
                                  std::span<const std::string> capture_columns = {});

/// Removes from `tasks` those the earlier run completed and returns their ids, in the order
/// of `tasks`. Earlier rows for ids not in `tasks` are ignored. The graph follows: the tasks
/// left are renumbered in it, and a dependency on a task taken is gone (it completed).
std::vector<TaskId> TakeCompleted(TaskList& tasks, const EarlierResults& earlier);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_EARLIER_RESULTS_H_
