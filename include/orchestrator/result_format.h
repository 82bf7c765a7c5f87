// The formats of the result stream (--format): a CSV, or JSON Lines.
#ifndef ORCHESTRATOR_RESULT_FORMAT_H_
#define ORCHESTRATOR_RESULT_FORMAT_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "orchestrator/outcome.h"
#include "orchestrator/task.h"

namespace orchestrator {

enum class ResultFormat : std::uint8_t {
  kCsv,  ///< `csv`: a header line, then task_id,final_status,error_info,captures... (result_csv.h)
  kJsonl,  ///< `jsonl`: a JSON object per line, no header (result_jsonl.h)
};

/// `csv` or `jsonl`.
std::string_view ResultFormatName(ResultFormat format);
/// The format named `name` (`csv`, `jsonl`), if it is one.
std::optional<ResultFormat> ParseResultFormat(std::string_view name);

/// The format of a result file whose first byte is `first`: JSON Lines when it is `{`, else a
/// CSV (whose header starts task_id).
inline ResultFormat ResultFormatOfFirstByte(char first) {
  return first == '{' ? ResultFormat::kJsonl : ResultFormat::kCsv;
}

/// What a result stream starts with: the CSV header line, or nothing for JSON Lines.
std::string ResultHeaderIn(ResultFormat format, std::span<const std::string> capture_columns);

/// Appends one result row in `format`, line feed included.
void AppendResultRowIn(ResultFormat format, std::string& out, TaskId id, const Outcome& outcome,
                       std::span<const std::string> capture_columns);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_RESULT_FORMAT_H_
