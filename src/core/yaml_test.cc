#include "core/yaml.h"

#include <gtest/gtest.h>

#include <tuple>

#include "core/diagnostics.h"

namespace ferry {
namespace {

TEST(Yaml, BuildsATreeWithPositions) {
  auto doc = parse_yaml(
      "name: web\nlist: [a, 'b']\nnested:\n  - { x: 1 }\nempty:\nquoted: \"null\"\n", "t.yaml");
  ASSERT_TRUE(doc) << doc.error().to_string();
  ASSERT_TRUE(doc->is_mapping());
  EXPECT_EQ(doc->size(), 5u);
  EXPECT_EQ(doc->key(0).scalar(), "name");
  EXPECT_EQ(doc->find("name")->scalar(), "web");
  EXPECT_EQ(doc->find("name")->line(), 1);
  EXPECT_EQ(doc->find("name")->column(), 7);
  const YamlNode* list = doc->find("list");
  ASSERT_TRUE(list && list->is_sequence());
  EXPECT_EQ((*list)[1].scalar(), "b");
  EXPECT_EQ((*list)[1].column(), 11);
  EXPECT_EQ(doc->find("nested")->line(), 4);
  EXPECT_EQ((*doc->find("nested"))[0].find("x")->as_integer(), 1);
  EXPECT_TRUE(doc->find("empty")->is_null());
  EXPECT_TRUE(doc->find("quoted")->is_scalar());  // quoted null is text
  EXPECT_EQ(doc->find("missing"), nullptr);
}

TEST(Yaml, TypedScalars) {
  auto doc = parse_yaml("[true, no, On, 12, -3.5, 1e3, '7', x12, ~]", "s.yaml");
  ASSERT_TRUE(doc);
  const YamlNode& s = *doc;
  EXPECT_EQ(s[0].as_bool(), true);
  EXPECT_EQ(s[1].as_bool(), false);
  EXPECT_EQ(s[2].as_bool(), true);
  EXPECT_EQ(s[3].as_integer(), 12);
  EXPECT_EQ(s[4].as_number(), -3.5);
  EXPECT_FALSE(s[4].as_integer());
  EXPECT_EQ(s[5].as_number(), 1000);
  EXPECT_EQ(s[6].as_number(), 7);
  EXPECT_FALSE(s[7].as_number());
  EXPECT_FALSE(s[7].as_bool());
  EXPECT_TRUE(s[8].is_null());
}

TEST(Yaml, AnchorsAndAliasesAreCopied) {
  auto doc = parse_yaml("base: &b { kind: service }\nother: *b\n", "a.yaml");
  ASSERT_TRUE(doc) << doc.error().to_string();
  EXPECT_EQ(doc->find("other")->find("kind")->scalar(), "service");
}

TEST(Yaml, DuplicateKeysAreErrors) {
  auto doc = parse_yaml("a: 1\nb: [ { x: 1, x: 2 } ]\na: 3\n", "d.yaml");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().message, "d.yaml:2:14: error: duplicate key 'x' (first at line 2)");
}

TEST(Yaml, AliasExpansionIsBounded) {
  std::string laughs = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    laughs += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j)
      laughs += std::string(j ? ", " : "") + "*a" + std::to_string(i - 1);
    laughs += "]\n";
  }
  auto doc = parse_yaml(laughs, "laughs.yaml");
  ASSERT_FALSE(doc);
  EXPECT_NE(doc.error().message.find("grows past 2000000 nodes"), std::string::npos)
      << doc.error().message;
}

TEST(Yaml, JsonIsReadToo) {
  auto doc = parse_yaml("{\"workloads\": [{\"name\": \"a\", \"size_gb\": 10}]}", "e.json");
  ASSERT_TRUE(doc) << doc.error().to_string();
  EXPECT_EQ((*doc->find("workloads"))[0].find("size_gb")->as_number(), 10);
}

TEST(Yaml, EmptyTextIsNull) {
  auto doc = parse_yaml("", "e.yaml");
  ASSERT_TRUE(doc);
  EXPECT_TRUE(doc->is_null());
}

TEST(Yaml, SyntaxErrorsNameTheirPlace) {
  for (const char* bad : {"a: [1, 2\n", "a: b: c\n", "- x\n y: 1\n", "a: *nowhere\n"}) {
    auto doc = parse_yaml(bad, "bad.yaml");
    ASSERT_FALSE(doc) << bad;
    EXPECT_EQ(doc.error().code, ErrorCode::kInvalidInput) << bad;
    EXPECT_EQ(doc.error().message.rfind("bad.yaml:", 0), 0u) << doc.error().message;
    EXPECT_NE(doc.error().message.find(": error: "), std::string::npos) << doc.error().message;
  }
}

// The place is data too: a loader that collects problems keeps it, and a
// script reading ferry's JSON errors gets file, line and column.
TEST(Yaml, SyntaxErrorsCarryTheirPlaceAsAProblem) {
  auto doc = parse_yaml("a: 1\na: 2\n", "dup.yaml");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().message, "dup.yaml:2:1: error: duplicate key 'a' (first at line 1)");
  ASSERT_EQ(doc.error().problems.size(), 1u);
  const Problem& p = doc.error().problems[0];
  EXPECT_EQ(std::make_tuple(p.file, p.line, p.column, p.field, p.message),
            std::make_tuple(std::string("dup.yaml"), 2, 1, std::string(),
                            std::string("duplicate key 'a' (first at line 1)")));
  Diagnostics diags;
  diags.add_errors(doc.error());
  EXPECT_EQ(diags.to_string(), doc.error().message + "\n");
}

}  // namespace
}  // namespace ferry

namespace ferry {
namespace {

TEST(YamlNode, ReadsAFieldAsTextOrAnIntegerWithEmptyDefaults) {
  auto doc = parse_yaml(R"({"held": 40, "p99": 877.6, "route": "users", "pools": [1]})", "t.json");
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->text_at("route"), "users");
  EXPECT_EQ(doc->integer_at("held"), 40);
  EXPECT_EQ(doc->integer_at("p99"), 877);  // truncated
  EXPECT_EQ(doc->text_at("pools"), "");    // not a scalar
  EXPECT_EQ(doc->text_at("missing"), "");
  EXPECT_EQ(doc->integer_at("route"), 0);  // not a number
}

}  // namespace
}  // namespace ferry
