#include "orchestrator/result_jsonl.h"

#include <fmt/format.h>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>
#include <limits>

#include "orchestrator/capture.h"
#include "orchestrator/input_error.h"
#include "orchestrator/text.h"

namespace orchestrator {

void AppendJsonString(std::string& out, std::string_view text) {
  out += boost::json::serialize(boost::json::string_view(ValidUtf8(text)));
}

bool IsOneLineJsonValue(std::string_view text) {
  if (text.empty() || text.find_first_of("\r\n") != std::string_view::npos) return false;
  // Most are a status, a size or a time: small numbers, parsed without an allocation.
  unsigned char buffer[1024];
  boost::json::monotonic_resource memory(buffer, sizeof buffer);
  boost::system::error_code error;
  boost::json::parse(boost::json::string_view(text.data(), text.size()), error, &memory);
  return !error;
}

void AppendCapturedJson(std::string& out, const CapturedValue& value) {
  if (value.json() && IsOneLineJsonValue(value.text)) {
    out += value.text;  // a number, an object...: as the JSON it is
  } else {
    AppendJsonString(out, value.text);
  }
}

void AppendJsonlRow(std::string& out, TaskId id, const Outcome& outcome,
                    std::span<const std::string> capture_columns) {
  fmt::format_to(std::back_inserter(out), R"({{"task_id":{},"final_status":"{}","error_info":)", id,
                 FinalStatusName(outcome.status()));
  AppendJsonString(out, outcome.error_info);
  for (std::size_t column = 0; column < capture_columns.size(); ++column) {
    const std::optional<CapturedValue> value = outcome.captured.FindValue(column);
    if (!value) continue;
    out += ',';
    AppendJsonString(out, capture_columns[column]);
    out += ':';
    AppendCapturedJson(out, *value);
  }
  out += "}\n";
}

std::string_view JsonlResultRow::error_info() const {
  const boost::json::value* value = object.if_contains("error_info");
  return value != nullptr && value->is_string() ? std::string_view(value->get_string())
                                                : std::string_view();
}

JsonlResultRow ReadJsonlResultRow(std::string_view line, const std::string& file,
                                  std::size_t line_number) {
  const auto fail = [&](std::size_t column, std::string message) {
    throw InputError(file, line_number, column, std::move(message));
  };
  if (line.empty()) fail(1, "blank line (a JSON Lines result has none)");
  boost::json::parser parser;
  boost::system::error_code error;
  const std::size_t used = parser.write_some(line.data(), line.size(), error);
  if (!error && used < line.size()) {
    fail(used + 1, "text after the JSON object (a result row is one object on one line)");
  }
  if (error) fail(used + 1, fmt::format("not JSON ({})", error.message()));
  boost::json::value value = parser.release();
  if (!value.is_object()) {
    fail(1, R"(a JSON Lines result row is an object: {"task_id":7,"final_status":...})");
  }
  JsonlResultRow row;
  row.object = std::move(value.get_object());
  const auto member = [&](std::string_view key) -> const boost::json::value& {
    const boost::json::value* found = row.object.if_contains(key);
    if (found == nullptr) fail(1, fmt::format("no \"{}\" in the row", key));
    return *found;
  };
  const boost::json::value& id = member("task_id");
  if (const std::int64_t* signed_id = id.if_int64(); signed_id != nullptr && *signed_id >= 0) {
    row.id = static_cast<TaskId>(*signed_id);
  } else if (const std::uint64_t* unsigned_id = id.if_uint64()) {
    row.id = *unsigned_id;
  } else {
    fail(1, fmt::format("task_id {} is not a whole number from 0 to {}",
                        QuoteForMessage(boost::json::serialize(id)),
                        std::numeric_limits<TaskId>::max()));
  }
  const boost::json::value& status = member("final_status");
  const boost::json::string* status_text = status.if_string();
  if (status_text != nullptr && *status_text == "Failed") {
    row.status = FinalStatus::kFailed;
  } else if (status_text == nullptr || *status_text != "Completed") {
    fail(1, fmt::format("final_status {} is neither \"Completed\" nor \"Failed\"",
                        QuoteForMessage(boost::json::serialize(status))));
  }
  if (!member("error_info").is_string()) fail(1, "error_info is not a string");
  row.ForEachCapture([&](std::string_view name, const boost::json::value&) {
    if (std::optional<std::string> problem = CaptureNameProblem(name)) {
      fail(1, fmt::format("key {}: {}", QuoteForMessage(name), *problem));
    }
  });
  return row;
}

}  // namespace orchestrator
