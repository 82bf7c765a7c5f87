#include "orchestrator/result_csv.h"

#include <gtest/gtest.h>

namespace orchestrator {
namespace {

std::string Field(std::string_view text) {
  std::string out;
  AppendCsvField(out, text);
  return out;
}

TEST(ResultCsvTest, LeavesPlainFieldsAlone) {
  EXPECT_EQ(Field(""), "");
  EXPECT_EQ(Field("HTTP 503 Service Unavailable"), "HTTP 503 Service Unavailable");
}

TEST(ResultCsvTest, QuotesCommasQuotesAndLineBreaks) {
  EXPECT_EQ(Field("a,b"), "\"a,b\"");
  EXPECT_EQ(Field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(Field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(Field("cr\rhere"), "\"cr\rhere\"");
}

TEST(ResultCsvTest, WritesRows) {
  std::string out(kResultHeader);
  AppendResultRow(out, 101, Outcome::Completed());
  AppendResultRow(out, 18446744073709551615u, Outcome::Failed("timed out, after 10s"));
  EXPECT_EQ(out,
            "task_id,final_status,error_info\n"
            "101,Completed,\n"
            "18446744073709551615,Failed,\"timed out, after 10s\"\n");
}

}  // namespace
}  // namespace orchestrator
