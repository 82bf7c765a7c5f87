// The result CSV: task_id,final_status,error_info, then a column per capture.
#ifndef ORCHESTRATOR_RESULT_CSV_H_
#define ORCHESTRATOR_RESULT_CSV_H_

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "orchestrator/outcome.h"
#include "orchestrator/task.h"

namespace orchestrator {

/// The header line of a result CSV without captures, newline included.
inline constexpr std::string_view kResultHeader = "task_id,final_status,error_info\n";

/// The header line of a run whose captures are `capture_columns`: kResultHeader's columns,
/// then one per capture, in the order they were first declared. Newline included.
std::string ResultHeader(std::span<const std::string> capture_columns);

/// Appends `field` to `out`, quoted as RFC 4180 asks when it holds a comma, a double quote,
/// a carriage return or a line feed (quotes inside are doubled).
void AppendCsvField(std::string& out, std::string_view field);

/// Appends one result row, newline included: after error_info, `capture_columns` cells, each
/// the outcome's captured value for that column or empty.
void AppendResultRow(std::string& out, TaskId id, const Outcome& outcome,
                     std::size_t capture_columns = 0);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_RESULT_CSV_H_
