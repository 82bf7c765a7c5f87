#include "orchestrator/result_jsonl.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <vector>

#include "orchestrator/input_error.h"
#include "orchestrator/result_format.h"

namespace orchestrator {
namespace {

const std::vector<std::string> kColumns = {"price", "code", "note"};

std::string Row(TaskId id, const Outcome& outcome,
                const std::vector<std::string>& columns = kColumns) {
  std::string out;
  AppendJsonlRow(out, id, outcome, columns);
  return out;
}

// The row read back by Boost.JSON, which must take it whole.
boost::json::object Parsed(const std::string& row) {
  EXPECT_TRUE(row.ends_with("\n")) << row;
  EXPECT_EQ(row.find('\n'), row.size() - 1) << row;
  boost::system::error_code error;
  boost::json::value value = boost::json::parse(row, error);
  EXPECT_FALSE(error) << row << ": " << error.message();
  return value.is_object() ? value.get_object() : boost::json::object();
}

TEST(ResultJsonlTest, WritesTheFixedKeysThenTheCapturesTakenInColumnOrder) {
  Outcome outcome = Outcome::Completed();
  outcome.captured.Set(1, "200", CapturedAs::kJson);
  outcome.captured.Set(0, "12.5", CapturedAs::kJson);
  EXPECT_EQ(Row(7, outcome),
            R"({"task_id":7,"final_status":"Completed","error_info":"","price":12.5,"code":200})"
            "\n");
  // No captures at all, and the largest task_id as an exact JSON number.
  EXPECT_EQ(Row(18446744073709551615u, Outcome::Failed("timed out, after 10s"), {}),
            R"({"task_id":18446744073709551615,"final_status":"Failed",)"
            R"("error_info":"timed out, after 10s"})"
            "\n");
  EXPECT_EQ(Parsed(Row(18446744073709551615u, Outcome::Completed()))["task_id"].as_uint64(),
            18446744073709551615u);
}

TEST(ResultJsonlTest, NumbersAreWrittenAsCapturedNeverThroughADouble) {
  Outcome outcome = Outcome::Completed();
  outcome.captured.Set(0, "24.5", CapturedAs::kJson);  // Boost.JSON would write 2.45E1
  outcome.captured.Set(1, "0.000001", CapturedAs::kJson);
  outcome.captured.Set(2, "123456789012345678901234567890", CapturedAs::kJson);
  EXPECT_EQ(Row(1, outcome),
            R"({"task_id":1,"final_status":"Completed","error_info":"","price":24.5,)"
            R"("code":0.000001,"note":123456789012345678901234567890})"
            "\n");
}

TEST(ResultJsonlTest, JsonCapturesAreValuesAndTextCapturesStrings) {
  Outcome outcome = Outcome::Completed();
  outcome.captured.Set(0, R"({"a":[1,true,null],"b":"x"})", CapturedAs::kJson);
  outcome.captured.Set(1, "200");  // text that looks like a number stays a string
  outcome.captured.Set(2, "");     // an optional capture that found nothing
  const std::string row = Row(3, outcome);
  EXPECT_EQ(row, R"({"task_id":3,"final_status":"Completed","error_info":"",)"
                 R"("price":{"a":[1,true,null],"b":"x"},"code":"200","note":""})"
                 "\n");
  const boost::json::object object = Parsed(row);
  EXPECT_TRUE(object.at("price").is_object());
  EXPECT_TRUE(object.at("code").is_string());
}

TEST(ResultJsonlTest, HostileValuesCannotBreakTheLineOrTheJson) {
  Outcome outcome = Outcome::Failed("say \"hi\"\n\\ \x01 and \xff\xfe bytes");
  outcome.captured.Set(0, "1\n2", CapturedAs::kJson);               // not one line: a string
  outcome.captured.Set(1, "{\"a\":", CapturedAs::kJson);            // not JSON: a string
  outcome.captured.Set(2, "\"}\n{\"task_id\":9,\xc3\x28\x1b[31m");  // a forged row, bad UTF-8
  const std::string row = Row(5, outcome);
  const boost::json::object object = Parsed(row);
  EXPECT_EQ(object.size(), 6u);
  EXPECT_EQ(object.at("task_id").as_int64(), 5);
  EXPECT_EQ(object.at("error_info").as_string(),
            "say \"hi\"\n\\ \x01 and \xEF\xBF\xBD\xEF\xBF\xBD bytes");
  EXPECT_EQ(object.at("price").as_string(), "1\n2");
  EXPECT_EQ(object.at("code").as_string(), "{\"a\":");
  EXPECT_EQ(object.at("note").as_string(), "\"}\n{\"task_id\":9,\xEF\xBF\xBD(\x1b[31m");
}

TEST(ResultJsonlTest, AFormatIsNamedCsvOrJsonlAndToldByTheFirstByte) {
  EXPECT_EQ(ParseResultFormat("jsonl"), ResultFormat::kJsonl);
  EXPECT_EQ(ParseResultFormat("csv"), ResultFormat::kCsv);
  EXPECT_EQ(ParseResultFormat("json"), std::nullopt);
  EXPECT_EQ(ResultFormatOfFirstByte('{'), ResultFormat::kJsonl);
  EXPECT_EQ(ResultFormatOfFirstByte('t'), ResultFormat::kCsv);
  EXPECT_EQ(ResultHeaderIn(ResultFormat::kJsonl, kColumns), "");
  EXPECT_EQ(ResultHeaderIn(ResultFormat::kCsv, kColumns),
            "task_id,final_status,error_info,price,code,note\n");
}

std::string ReadError(const std::string& line) {
  try {
    ReadJsonlResultRow(line, "r.jsonl", 4);
  } catch (const InputError& error) {
    return error.what();
  }
  return "no error";
}

TEST(ResultJsonlTest, ReadsBackWhatItWrites) {
  Outcome outcome = Outcome::Failed("HTTP 503");
  outcome.captured.Set(0, "1.5", CapturedAs::kJson);
  outcome.captured.Set(2, "n");
  std::string row = Row(18446744073709551615u, outcome);
  row.pop_back();
  const JsonlResultRow read = ReadJsonlResultRow(row, "r.jsonl", 1);
  EXPECT_EQ(read.id, 18446744073709551615u);
  EXPECT_EQ(read.status, FinalStatus::kFailed);
  EXPECT_EQ(read.error_info(), "HTTP 503");
  std::vector<std::string> names;
  read.ForEachCapture(
      [&](std::string_view name, const boost::json::value&) { names.emplace_back(name); });
  EXPECT_EQ(names, (std::vector<std::string>{"price", "note"}));
}

TEST(ResultJsonlTest, AMalformedRowIsAnInputErrorAtFileLineColumn) {
  EXPECT_EQ(ReadError(""), "r.jsonl:4:1: blank line (a JSON Lines result has none)");
  EXPECT_EQ(ReadError(R"({"task_id":1,})"), "r.jsonl:4:14: not JSON (syntax error)");
  EXPECT_EQ(ReadError(R"({"task_id":1,"final_status":"Completed","error_info":""} x)"),
            "r.jsonl:4:58: text after the JSON object (a result row is one object on one line)");
  EXPECT_EQ(ReadError(R"([1,2])").substr(0, 25), "r.jsonl:4:1: a JSON Lines");
  EXPECT_EQ(ReadError(R"({"final_status":"Completed","error_info":""})"),
            "r.jsonl:4:1: no \"task_id\" in the row");
  EXPECT_EQ(ReadError(R"({"task_id":-1,"final_status":"Completed","error_info":""})"),
            "r.jsonl:4:1: task_id \"-1\" is not a whole number from 0 to 18446744073709551615");
  EXPECT_EQ(
      ReadError(R"({"task_id":1.0,"final_status":"Completed","error_info":""})").substr(0, 24),
      "r.jsonl:4:1: task_id \"1E");
  EXPECT_EQ(ReadError(R"({"task_id":1,"final_status":"Done","error_info":""})"),
            "r.jsonl:4:1: final_status \"\\\"Done\\\"\" is neither \"Completed\" nor \"Failed\"");
  EXPECT_EQ(ReadError(R"({"task_id":1,"final_status":"Completed","error_info":3})"),
            "r.jsonl:4:1: error_info is not a string");
  EXPECT_NE(ReadError(R"({"task_id":1,"final_status":"Completed","error_info":"","2x":1})")
                .find("key \"2x\""),
            std::string::npos);
}

}  // namespace
}  // namespace orchestrator
