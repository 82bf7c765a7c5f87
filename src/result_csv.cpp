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

void AppendResultRow(std::string& out, TaskId id, const Outcome& outcome) {
  fmt::format_to(std::back_inserter(out), "{},{},", id, FinalStatusName(outcome.status()));
  AppendCsvField(out, outcome.error_info);
  out += '\n';
}

}  // namespace orchestrator
