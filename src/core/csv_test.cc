#include "core/csv.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

TEST(Csv, QuotedCellsKeepCommasQuotesAndNewlines) {
  auto table = parse_csv("a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\nlast,,3\n", "t.csv");
  ASSERT_TRUE(table) << table.error().to_string();
  ASSERT_EQ(table->rows.size(), 2u);
  EXPECT_EQ(table->rows[0].cells, (std::vector<std::string>{"x, y", "say \"hi\"", "two\nlines"}));
  EXPECT_EQ(table->rows[0].line, 2);
  EXPECT_EQ(table->rows[1].line, 4);
  EXPECT_EQ(table->rows[1].cells, (std::vector<std::string>{"last", "", "3"}));
}

TEST(Csv, AcceptsCrlfBomAndSkipsBlankLines) {
  auto table = parse_csv("\xEF\xBB\xBFName , Size\r\n\r\nweb,1\r\n", "t.csv");
  ASSERT_TRUE(table);
  EXPECT_EQ(table->header, (std::vector<std::string>{"Name", "Size"}));
  ASSERT_EQ(table->rows.size(), 1u);
  EXPECT_EQ(table->rows[0].line, 3);
  EXPECT_EQ(table->column("name"), 0u);
  EXPECT_EQ(table->column("SIZE"), 1u);
  EXPECT_FALSE(table->column("Owner"));
}

TEST(Csv, UnterminatedQuoteNamesTheLineWhereItStarted) {
  auto table = parse_csv("a,b\n1,2\n3,\"open\n\n", "bad.csv");
  ASSERT_FALSE(table);
  EXPECT_EQ(table.error().message, "bad.csv:3: error: quoted cell is never closed");
}

TEST(Csv, EmptyTextHasNoHeader) {
  auto table = parse_csv("", "empty.csv");
  ASSERT_TRUE(table);
  EXPECT_TRUE(table->header.empty());
}

TEST(Csv, LinesAreQuotedWhereNeededAndReadBack) {
  const std::vector<std::string> cells{"plain", "a,b", "say \"hi\"", "two\nlines", " padded", ""};
  const std::string line = csv_line(cells);
  EXPECT_EQ(line, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\" padded\",\n");
  auto table = parse_csv("h1,h2,h3,h4,h5,h6\n" + line, "t.csv");
  ASSERT_TRUE(table) << table.error().to_string();
  ASSERT_EQ(table->rows.size(), 1u);
  EXPECT_EQ(table->rows[0].cells[1], "a,b");
  EXPECT_EQ(table->rows[0].cells[2], "say \"hi\"");
  EXPECT_EQ(table->rows[0].cells[3], "two\nlines");
}

}  // namespace
}  // namespace ferry
