#include "orchestrator/result_format.h"

#include "orchestrator/result_csv.h"
#include "orchestrator/result_jsonl.h"

namespace orchestrator {

std::string_view ResultFormatName(ResultFormat format) {
  return format == ResultFormat::kJsonl ? "jsonl" : "csv";
}

std::optional<ResultFormat> ParseResultFormat(std::string_view name) {
  for (const ResultFormat format : {ResultFormat::kCsv, ResultFormat::kJsonl}) {
    if (name == ResultFormatName(format)) return format;
  }
  return std::nullopt;
}

std::string ResultHeaderIn(ResultFormat format, std::span<const std::string> capture_columns) {
  return format == ResultFormat::kJsonl ? std::string() : ResultHeader(capture_columns);
}

void AppendResultRowIn(ResultFormat format, std::string& out, TaskId id, const Outcome& outcome,
                       std::span<const std::string> capture_columns) {
  if (format == ResultFormat::kJsonl) {
    AppendJsonlRow(out, id, outcome, capture_columns);
  } else {
    AppendResultRow(out, id, outcome, capture_columns.size());
  }
}

}  // namespace orchestrator
