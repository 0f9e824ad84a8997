#include "core/yaml_reader.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

TEST(YamlReader, SyntaxErrorNamesLineAndColumn) {
  auto node = parse_yaml("a: 1\nb: [1, 2\n", "x.yaml");
  ASSERT_FALSE(node);
  EXPECT_EQ(node.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(node.error().message.find("x.yaml:3:1: error"), std::string::npos)
      << node.error().message;
}

TEST(YamlReader, ReadsTypedFieldsAndReportsEveryProblem) {
  auto node = parse_yaml(
      "name: web\nsize: big\nkind: servise\nflag: maybe\ncount: 3\nextra_key: 1\nlist: [a, b]\n",
      "w.yaml");
  ASSERT_TRUE(node);
  Diagnostics diags;
  MappingReader r(*node, "w.yaml", "workloads[0]", diags);
  const std::vector<std::string> kinds{"service", "batch"};
  EXPECT_EQ(r.text("name"), "web");
  EXPECT_FALSE(r.number("size", 0, 10));
  EXPECT_FALSE(r.choice("kind", kinds));
  EXPECT_FALSE(r.boolean("flag"));
  EXPECT_EQ(r.integer("count", 0, 10), 3);
  EXPECT_EQ(r.text_list("list"), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(r.text("missing"));
  r.require("owner");
  r.finish();
  const std::string all = diags.to_string();
  EXPECT_EQ(diags.error_count(), 5u) << all;
  EXPECT_NE(all.find("w.yaml:2:7: error: workloads[0].size: expected a number, got 'big'"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("workloads[0].kind: unknown value 'servise' (did you mean 'service'?)"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("w.yaml:4:7: error: workloads[0].flag: expected true or false"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("w.yaml:6:1: error: workloads[0]: unknown key 'extra_key'"), std::string::npos)
      << all;
  EXPECT_NE(all.find("missing required field 'owner'"), std::string::npos) << all;
}

// The error a loader fails with carries every problem as data, split into
// the field the message names and what is wrong with it.
TEST(YamlReader, TheFailingErrorCarriesEveryProblemWithItsField) {
  auto node = parse_yaml("kind: servise\nextra: 1\n", "w.yaml");
  ASSERT_TRUE(node);
  Diagnostics diags;
  MappingReader r(*node, "w.yaml", "workloads[0]", diags);
  const std::vector<std::string> kinds{"service"};
  r.choice("kind", kinds);
  r.finish();
  diags.error({"w.yaml", 0, 0}, "cannot open file: No such file or directory");
  diags.warning({"w.yaml", 1, 1}, "only a warning");
  const Error error = diags.to_error("w.yaml");
  EXPECT_EQ(error.code, ErrorCode::kInvalidInput);
  ASSERT_EQ(error.problems.size(), 3u) << error.message;
  EXPECT_EQ(error.problems[0].line, 1);
  EXPECT_EQ(error.problems[0].column, 7);
  EXPECT_EQ(error.problems[0].field, "workloads[0].kind");
  EXPECT_EQ(error.problems[0].message.rfind("unknown value 'servise'", 0), 0u);
  EXPECT_EQ(error.problems[1].field, "workloads[0]");
  EXPECT_EQ(error.problems[1].message, "unknown key 'extra'");
  // No field: the words before the colon are not a path.
  EXPECT_EQ(error.problems[2].file, "w.yaml");
  EXPECT_EQ(error.problems[2].line, 0);
  EXPECT_EQ(error.problems[2].field, "");
  EXPECT_EQ(error.problems[2].message, "cannot open file: No such file or directory");
}

TEST(YamlReader, NullIsAbsentExceptForOptionalText) {
  auto node = parse_yaml("a: null\nb: ~\n", "n.yaml");
  ASSERT_TRUE(node);
  Diagnostics diags;
  MappingReader r(*node, "n.yaml", "", diags);
  EXPECT_FALSE(r.text("a"));
  EXPECT_EQ(r.optional_text("b"), "");
  r.finish();
  EXPECT_FALSE(diags.has_errors());
}

TEST(YamlReader, NonMappingIsReportedOnce) {
  auto node = parse_yaml("- 1\n- 2\n", "l.yaml");
  ASSERT_TRUE(node);
  Diagnostics diags;
  MappingReader r(*node, "l.yaml", "defaults", diags);
  EXPECT_FALSE(r.text("x"));
  r.finish();
  EXPECT_EQ(diags.error_count(), 1u);
}

}  // namespace
}  // namespace ferry
