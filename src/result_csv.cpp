#include "orchestrator/result_csv.h"

#include <fmt/format.h>

namespace orchestrator {

std::string_view FinalStatusName(FinalStatus status) {
  return status == FinalStatus::kCompleted ? "Completed" : "Failed";
}

void AppendCsvField(std::string& out, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += field;
    return;
  }
  out += '"';
  for (const char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

std::string ResultHeader(std::span<const std::string> capture_columns) {
  std::string header(kResultHeader.substr(0, kResultHeader.size() - 1));
  for (const std::string& name : capture_columns) {
    header += ',';
    AppendCsvField(header, name);
  }
  header += '\n';
  return header;
}

void AppendResultRow(std::string& out, TaskId id, const Outcome& outcome,
                     std::size_t capture_columns) {
  fmt::format_to(std::back_inserter(out), "{},{},", id, FinalStatusName(outcome.status()));
  AppendCsvField(out, outcome.error_info);
  for (std::size_t column = 0; column < capture_columns; ++column) {
    out += ',';
    if (const std::optional<std::string_view> value = outcome.captured.Find(column)) {
      AppendCsvField(out, *value);
    }
  }
  out += '\n';
}

}  // namespace orchestrator
