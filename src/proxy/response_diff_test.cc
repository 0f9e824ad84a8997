#include "proxy/response_diff.h"

#include <gtest/gtest.h>

namespace ferry::proxy {
namespace {

AnswerToCompare json(std::string_view body, int status = 200) { return {status, {}, body}; }

DiffPolicy ignoring(std::vector<std::string> patterns) {
  DiffPolicy p;
  for (const auto& text : patterns) p.ignore.push_back(*parse_json_path(text));
  return p;
}

std::vector<std::string> paths(const std::vector<FieldDifference>& diffs) {
  std::vector<std::string> out;
  for (const auto& d : diffs) out.push_back(d.path);
  return out;
}

TEST(ResponseDiff, TheSameJsonWrittenDifferentlyIsEqual) {
  EXPECT_TRUE(
      diff_answers(json(R"({"a": 1, "b": [1, 2]})"), json(R"({ "b":[1,2],"a":1.0 })"), {}).empty());
}

TEST(ResponseDiff, AChangedFieldIsNamedByItsPath) {
  const auto d = diff_answers(json(R"({"items": [{"price": 10}, {"price": 12}]})"),
                              json(R"({"items": [{"price": 10}, {"price": 13}]})"), {});
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].path, "$.items[1].price");
  EXPECT_EQ(d[0].primary, "12");
  EXPECT_EQ(d[0].candidate, "13");
}

TEST(ResponseDiff, AStringIsNeverANumber) {
  const auto d =
      diff_answers(json(R"({"id": "1", "ok": true})"), json(R"({"id": 1, "ok": "true"})"), {});
  EXPECT_EQ(paths(d), (std::vector<std::string>{"$.id", "$.ok"}));
  EXPECT_EQ(d[0].primary, "\"1\"");
}

TEST(ResponseDiff, MissingKeysAndItemsOnEitherSide) {
  const auto d =
      diff_answers(json(R"({"a": 1, "list": [1, 2, 3]})"), json(R"({"b": 2, "list": [1, 2]})"), {});
  EXPECT_EQ(paths(d), (std::vector<std::string>{"$.a", "$.list[2]", "$.b"}));
  EXPECT_EQ(d[0].candidate, "(absent)");
  EXPECT_EQ(d[2].primary, "(absent)");
}

TEST(ResponseDiff, IgnoredFieldsAndWholeSubtreesAreLeftOut) {
  const auto d = diff_answers(
      json(R"({"generated_at": "t1", "items": [{"etag": "x", "n": 1}], "meta": {"host": "a"}})"),
      json(R"({"generated_at": "t2", "items": [{"etag": "y", "n": 2}], "meta": {"host": "b"}})"),
      ignoring({"$.generated_at", "$.items[*].etag", "$.meta"}));
  EXPECT_EQ(paths(d), (std::vector<std::string>{"$.items[0].n"}));
}

TEST(ResponseDiff, StatusAndOnlyTheListedHeadersAreCompared) {
  AnswerToCompare a{200, {{"content-type", "application/json"}, {"date", "1"}}, "{}"};
  AnswerToCompare b{500, {{"content-type", "text/html"}, {"date", "2"}}, "{}"};
  DiffPolicy p;
  p.headers = {"content-type", "cache-control"};
  const auto d = diff_answers(a, b, p);
  EXPECT_EQ(paths(d), (std::vector<std::string>{"status", "header:content-type"}));
  b.headers.emplace_back("cache-control", "no-store");
  EXPECT_EQ(paths(diff_answers(a, b, p)).back(), "header:cache-control");
}

TEST(ResponseDiff, OtherBodiesAreComparedByBytes) {
  EXPECT_TRUE(diff_answers(json("plain text"), json("plain text"), {}).empty());
  EXPECT_EQ(paths(diff_answers(json("plain text"), json("plain text!"), {})),
            (std::vector<std::string>{"body"}));
  // JSON on one side only, or JSON that does not parse: the bytes.
  EXPECT_EQ(paths(diff_answers(json("{\"a\": 1}"), json("oops"), {})),
            (std::vector<std::string>{"body"}));
  EXPECT_EQ(paths(diff_answers(json("{\"a\": 1}"), json("{\"a\": "), {})),
            (std::vector<std::string>{"body"}));
}

TEST(ResponseDiff, FieldPathsAreParsedOrRefusedWithTheReason) {
  auto p = parse_json_path("$.items[*].etag");
  ASSERT_TRUE(p);
  ASSERT_EQ(p->steps.size(), 3u);
  EXPECT_TRUE(p->steps[1].any);
  EXPECT_TRUE(parse_json_path("$[0].a"));
  for (const char* bad : {"items", "$.", "$.a[", "$.a[x]", "$a", "$.a[99999999999999999999999]"}) {
    auto r = parse_json_path(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("is not a field path"), std::string::npos) << bad;
  }
}

TEST(ResponseDiff, GeneralPathsCountFieldsNotElements) {
  EXPECT_EQ(general_path("$.items[3].tags[12]"), "$.items[*].tags[*]");
  EXPECT_EQ(general_path("header:x[1]"), "header:x[*]");
  EXPECT_EQ(general_path("status"), "status");
}

TEST(StandsOut, OnlyADifferenceClearlyBeyondTheNoise) {
  EXPECT_TRUE(stands_out(10, 0, 10));     // the primaries agree, the candidate never does
  EXPECT_FALSE(stands_out(10, 10, 10));   // a request id: everyone differs
  EXPECT_FALSE(stands_out(52, 48, 100));  // at random on both sides: within 20 %
  EXPECT_TRUE(stands_out(60, 30, 100));
  EXPECT_FALSE(stands_out(0, 0, 100));
  EXPECT_FALSE(stands_out(1, 0, 10'000));  // one in 10,000: below the absolute threshold
  EXPECT_TRUE(stands_out(5, 0, 10'000));
}

}  // namespace
}  // namespace ferry::proxy
