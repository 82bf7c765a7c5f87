#include "orchestrator/column_table.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace orchestrator {
namespace {

std::vector<std::string> Row(const ColumnTable& table, std::uint32_t row) {
  std::vector<std::string> values;
  for (std::size_t k = 0; k < table.ValueCount(row); ++k) {
    values.emplace_back(table.Value(row, k));
  }
  return values;
}

using Values = std::vector<std::string>;

TEST(ColumnTableTest, KeepsRowsOfAnyLength) {
  ColumnTable table;
  EXPECT_EQ(table.rows(), 0u);
  EXPECT_EQ(table.AddRow({"eu-west", "12"}), 0u);
  EXPECT_EQ(table.AddRow({}), 1u);
  EXPECT_EQ(table.AddRow({"", "x", ""}), 2u);
  EXPECT_EQ(table.AddRow({"only"}), 3u);
  EXPECT_EQ(table.rows(), 4u);
  EXPECT_EQ(Row(table, 0), (Values{"eu-west", "12"}));
  EXPECT_EQ(Row(table, 1), Values{});
  EXPECT_EQ(Row(table, 2), (Values{"", "x", ""}));
  EXPECT_EQ(Row(table, 3), Values{"only"});
  EXPECT_EQ(table.Value(2, 1), "x");
}

TEST(ColumnTableTest, KeepsLongValuesAndEveryByte) {
  // Lengths around each step of the length prefix: 1 byte up to 127, 2 up to 16383, 3 beyond.
  ColumnTable table;
  std::vector<std::string> values;
  for (std::size_t length : {0, 1, 127, 128, 129, 16383, 16384, 16385, 1 << 20}) {
    std::string value(length, 'v');
    for (std::size_t i = 0; i < length; i += 7) value[i] = static_cast<char>(i % 256);
    values.push_back(value);
  }
  std::vector<std::string_view> views(values.begin(), values.end());
  ASSERT_EQ(table.AddRow(views), 0u);
  ASSERT_EQ(table.AddRow({"after"}), 1u);
  EXPECT_EQ(Row(table, 0), values);
  EXPECT_EQ(Row(table, 1), Values{"after"});
}

TEST(ColumnTableTest, ARowCostsItsStartItsValuesAndAByteEach) {
  ColumnTable table;
  for (int i = 0; i < 1000; ++i) table.AddRow({"eu-west", "12"});
  table.ShrinkToFit();
  EXPECT_EQ(table.MemoryBytes(), 1000u * (4 + 1 + 7 + 1 + 2) + 1);  // + the string's NUL
}

TEST(ColumnTableTest, RefusesARowPastTheByteLimitAndStaysUsable) {
  ColumnTable table(10);
  EXPECT_EQ(table.AddRow({"abc", "de"}), 0u);              // 4 + 3 bytes
  EXPECT_EQ(table.AddRow({"abcd"}), ColumnTable::kNoRow);  // 5 more: 12
  EXPECT_EQ(table.rows(), 1u);
  EXPECT_EQ(table.AddRow({"ab"}), 1u);                 // 3 more: 10
  EXPECT_EQ(table.AddRow({""}), ColumnTable::kNoRow);  // 1 more: 11
  EXPECT_EQ(Row(table, 0), (Values{"abc", "de"}));
  EXPECT_EQ(Row(table, 1), Values{"ab"});
  EXPECT_EQ(ColumnTable(std::size_t{1} << 40).AddRow({"x"}), 0u) << "capped at kMaxBytes";
}

TEST(ColumnTableTest, KeepRowsInOrderMovesThemDownInPlace) {
  ColumnTable table;
  for (int i = 0; i < 6; ++i) table.AddRow({std::to_string(i), std::string(i * 50, 'a' + i)});
  const std::uint32_t keep[] = {1, 2, 4};
  table.KeepRows(keep);
  ASSERT_EQ(table.rows(), 3u);
  EXPECT_EQ(Row(table, 0), (Values{"1", std::string(50, 'b')}));
  EXPECT_EQ(Row(table, 1), (Values{"2", std::string(100, 'c')}));
  EXPECT_EQ(Row(table, 2), (Values{"4", std::string(200, 'e')}));
  EXPECT_EQ(table.AddRow({"new"}), 3u);
  EXPECT_EQ(Row(table, 3), Values{"new"});
  EXPECT_EQ(Row(table, 2), (Values{"4", std::string(200, 'e')}));
}

TEST(ColumnTableTest, KeepRowsInAnyOtherOrderCopies) {
  ColumnTable table;
  for (int i = 0; i < 4; ++i) table.AddRow({std::to_string(i)});
  const std::uint32_t keep[] = {3, 0, 2};
  table.KeepRows(keep);
  ASSERT_EQ(table.rows(), 3u);
  EXPECT_EQ(Row(table, 0), Values{"3"});
  EXPECT_EQ(Row(table, 1), Values{"0"});
  EXPECT_EQ(Row(table, 2), Values{"2"});
  table.KeepRows({});
  EXPECT_EQ(table.rows(), 0u);
  EXPECT_EQ(table.AddRow({"x"}), 0u);
}

}  // namespace
}  // namespace orchestrator
