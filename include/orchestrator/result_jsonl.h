// The result as JSON Lines (--format jsonl): one object per task, no header line.
#ifndef ORCHESTRATOR_RESULT_JSONL_H_
#define ORCHESTRATOR_RESULT_JSONL_H_

#include <boost/json/object.hpp>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "orchestrator/outcome.h"
#include "orchestrator/task.h"

namespace orchestrator {

/// Appends one result row as a JSON object and a line feed:
/// `{"task_id":7,"final_status":"Completed","error_info":"","price":12.5}`. task_id is a
/// number (every u64 exact), then final_status and error_info; then, in the order of
/// `capture_columns`, a key per column the task captured (one it did not is left out). A value
/// captured as JSON is written as its text, as it is (never read into a double, which would
/// turn 24.5 into 2.45E1), and any other value as a JSON string. Whatever the values hold, the
/// line is valid JSON: a JSON value that is not valid JSON or holds a line break is written as a
/// string, and bytes that are not UTF-8 become U+FFFD.
void AppendJsonlRow(std::string& out, TaskId id, const Outcome& outcome,
                    std::span<const std::string> capture_columns);

/// Appends `text` as a JSON string, escaped by Boost.JSON, its invalid UTF-8 as U+FFFD.
void AppendJsonString(std::string& out, std::string_view text);

/// Appends a captured value as JSON, as a result row, an event or a webhook carries it: one
/// captured as JSON as the JSON it is (when it is one valid value on one line), any other as
/// a JSON string.
void AppendCapturedJson(std::string& out, const CapturedValue& value);

/// Whether `text` is exactly one JSON value without a line break, as a JSON Lines row may hold
/// it.
bool IsOneLineJsonValue(std::string_view text);

/// A row of a JSON Lines result file, read back.
struct JsonlResultRow {
  TaskId id = 0;
  FinalStatus status = FinalStatus::kCompleted;
  /// The whole row: task_id, final_status, error_info (a string), then a key per capture.
  boost::json::object object;

  std::string_view error_info() const;
  /// Calls `visit(name, value)` for each capture: each key but the three above, in order.
  template <typename Visit>
  void ForEachCapture(Visit&& visit) const {
    for (const boost::json::key_value_pair& member : object) {
      const std::string_view key = member.key();
      if (key == "task_id" || key == "final_status" || key == "error_info") continue;
      visit(key, member.value());
    }
  }
};

/// Reads `line` (without its line feed), line `line_number` of `file`, as AppendJsonlRow
/// writes rows: a JSON object with task_id (a whole number, 0 to 18446744073709551615),
/// final_status ("Completed" or "Failed") and error_info (a string), its other keys captures'
/// names (CaptureNameProblem). Throws InputError at FILE:LINE:COLUMN: the column of a JSON
/// syntax error, else 1.
JsonlResultRow ReadJsonlResultRow(std::string_view line, const std::string& file,
                                  std::size_t line_number);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_RESULT_JSONL_H_
