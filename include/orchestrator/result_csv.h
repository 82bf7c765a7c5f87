// The result CSV: task_id,final_status,error_info.
#ifndef ORCHESTRATOR_RESULT_CSV_H_
#define ORCHESTRATOR_RESULT_CSV_H_

#include <string>
#include <string_view>

#include "orchestrator/outcome.h"
#include "orchestrator/task.h"

namespace orchestrator {

/// The header line of every result CSV, newline included.
inline constexpr std::string_view kResultHeader = "task_id,final_status,error_info\n";

/// Appends `field` to `out`, quoted as RFC 4180 asks when it holds a comma, a double quote,
/// a carriage return or a line feed (quotes inside are doubled).
void AppendCsvField(std::string& out, std::string_view field);

/// Appends one result row, newline included.
void AppendResultRow(std::string& out, TaskId id, const Outcome& outcome);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_RESULT_CSV_H_
