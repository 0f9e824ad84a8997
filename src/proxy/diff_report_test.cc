#include "proxy/diff_report.h"

#include <gtest/gtest.h>

#include <random>

#include "core/json_writer.h"
#include "core/yaml.h"

namespace ferry::proxy {
namespace {

const AnswerToCompare kPrimary{
    200, {{"content-type", "application/json"}, {"set-cookie", "s=1"}}, R"({"price": 1})"};
const AnswerToCompare kCandidate{
    200, {{"content-type", "application/json"}, {"set-cookie", "s=2"}}, R"({"price": 2})"};

void record(RouteDiffs& r, std::vector<FieldDifference> diffs,
            std::optional<std::vector<FieldDifference>> noise = std::nullopt,
            const AnswerToCompare& candidate = kCandidate) {
  r.record(diffs, noise, "2026-12-07T12:00:00Z", "GET", "/api/users/1", kPrimary, candidate);
}

TEST(RouteDiffs, CountsEachOutcomeAndEachFieldByItsGeneralPath) {
  RouteDiffs r({}, false);
  record(r, {});
  record(r, {{"$.items[1].price", "1", "2"}});
  // Two elements differing on one field: one request that differs on it.
  record(
      r,
      {{"$.items[7].price", "1", "3"}, {"$.items[8].price", "1", "3"}, {"status", "200", "500"}});
  r.record_skipped_large();
  EXPECT_EQ(r.record_mirror_error("127.0.0.1:1: connect: Connection refused", 1000), 1);
  const auto s = r.snapshot();
  EXPECT_EQ(s.compared, 3);
  EXPECT_EQ(s.identical, 1);
  EXPECT_EQ(s.different, 2);
  EXPECT_EQ(s.skipped_large, 1);
  EXPECT_EQ(s.mirror_errors, 1);
  EXPECT_EQ(s.last_mirror_error, "127.0.0.1:1: connect: Connection refused");
  ASSERT_EQ(s.fields.size(), 2u);
  EXPECT_EQ(s.fields[0].path, "$.items[*].price");
  EXPECT_EQ(s.fields[0].count, 2);
  EXPECT_EQ(s.fields[1].path, "status");
  ASSERT_EQ(s.samples.size(), 2u);
  // The sample keeps the exact path.
  EXPECT_EQ(s.samples[0].differences[0].path, "$.items[1].price");
}

TEST(RouteDiffs, MirrorErrorsAreReportedAtOnceThenOnceAMinute) {
  RouteDiffs r({}, false);
  EXPECT_EQ(r.record_mirror_error("a", 1000), 1);  // the first: at once
  EXPECT_EQ(r.record_mirror_error("b", 2000), 0);
  EXPECT_EQ(r.record_mirror_error("c", 60'999), 0);
  EXPECT_EQ(r.record_mirror_error("d", 61'000), 3);  // b, c and d in one line
  EXPECT_EQ(r.snapshot().mirror_errors, 4);
  EXPECT_EQ(r.snapshot().last_mirror_error, "d");
}

TEST(RouteDiffs, FieldPathsAreCappedAndTheRestCountAsOther) {
  RouteDiffs r({}, false);
  for (size_t i = 0; i < kMaxFieldPaths + 5; ++i)
    record(r, {{"$.f" + std::to_string(i), "a", "b"}});
  const auto s = r.snapshot();
  EXPECT_EQ(s.fields.size(), kMaxFieldPaths + 1);
  const auto other = std::find_if(s.fields.begin(), s.fields.end(),
                                  [](const FieldCount& f) { return f.path == "other"; });
  ASSERT_NE(other, s.fields.end());
  EXPECT_EQ(other->count, 5);
}

TEST(RouteDiffs, KeepsTheLastSamplesCutAndRedacted) {
  RouteDiffs r({"set-cookie"}, false);
  const std::string big(kSampleBodyBytes + 10, 'x');
  const AnswerToCompare large{200, {{"set-cookie", "secret"}}, big};
  for (size_t i = 0; i < kKeptSamples + 3; ++i)
    r.record({{"body", "a", "b"}}, std::nullopt, "t" + std::to_string(i), "GET", "/", kPrimary,
             large);
  const auto s = r.snapshot();
  ASSERT_EQ(s.samples.size(), kKeptSamples);
  EXPECT_EQ(s.samples.back().at, "t" + std::to_string(kKeptSamples + 2));
  EXPECT_EQ(s.samples.back().candidate.body.size(), kSampleBodyBytes);
  EXPECT_TRUE(s.samples.back().candidate.body_cut);
  EXPECT_EQ(s.samples.back().candidate.headers[0].second, "***");
  EXPECT_EQ(s.samples.back().primary.headers[0].second, "application/json");
}

TEST(RouteDiffs, WithANoisePoolOnlyFieldsBeyondTheNoiseAreDifferences) {
  RouteDiffs r({}, true);
  for (int i = 0; i < 6; ++i) {
    std::vector<FieldDifference> diffs{{"$.generated_at", "a", "b"}};
    if (i % 2) diffs.push_back({"$.price", "1", "2"});
    record(r, diffs, std::vector<FieldDifference>{{"$.generated_at", "a", "c"}});
  }
  const auto s = r.snapshot();
  EXPECT_EQ(s.compared, 6);
  EXPECT_EQ(s.different, 3);
  ASSERT_EQ(s.fields.size(), 1u);
  EXPECT_EQ(s.fields[0].path, "$.price");
  EXPECT_EQ(s.fields[0].count, 3);
  EXPECT_EQ(s.fields[0].noise, 0);
  // Shown apart, with the numbers that made it noise.
  ASSERT_EQ(s.noise_fields.size(), 1u);
  EXPECT_EQ(s.noise_fields[0].path, "$.generated_at");
  EXPECT_EQ(s.noise_fields[0].count, 6);
  EXPECT_EQ(s.noise_fields[0].noise, 6);
}

// A field that differs at random, as often between the two primaries as
// between primary and candidate (an unordered list): noise, however the
// coin falls. The seed is printed so a failure can be replayed.
TEST(RouteDiffs, AFieldThatDiffersAtRandomOnBothSidesIsNoise) {
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  RouteDiffs r({}, true);
  for (int i = 0; i < 2000; ++i) {
    std::vector<FieldDifference> diffs, noise;
    if (rng() % 2) diffs.push_back({"$.tags[0]", "a", "b"});
    if (rng() % 2) noise.push_back({"$.tags[1]", "a", "b"});
    record(r, diffs, noise);
  }
  const auto s = r.snapshot();
  EXPECT_TRUE(s.fields.empty()) << s.fields[0].count << " vs noise " << s.fields[0].noise;
  ASSERT_EQ(s.noise_fields.size(), 1u);
  EXPECT_EQ(s.noise_fields[0].path, "$.tags[*]");
}

TEST(RouteDiffs, ResetStartsOver) {
  RouteDiffs r({}, false);
  record(r, {{"status", "200", "500"}});
  r.reset();
  const auto s = r.snapshot();
  EXPECT_EQ(s.compared, 0);
  EXPECT_TRUE(s.fields.empty());
  EXPECT_TRUE(s.samples.empty());
}

TEST(RouteDiffs, JsonAndMetricsSayTheSame) {
  RouteDiffs r({}, false);
  record(r, {{"$.price", "1", "2"}});
  record(r, {});
  const auto s = r.snapshot();
  JsonWriter w;
  w.begin_object();
  write_route_diff_fields(w, s);
  w.end_object();
  auto doc = parse_yaml(w.take(), "diff");
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->find("compared")->scalar(), "2");
  EXPECT_EQ(doc->find("different")->scalar(), "1");
  const YamlNode& field = (*doc->find("fields"))[0];
  EXPECT_EQ(field.find("path")->scalar(), "$.price");
  EXPECT_EQ(field.find("rate")->scalar(), "0.5");
  std::string requests, fields;
  append_route_diff_metrics("users", s, requests, fields);
  EXPECT_NE(requests.find("ferry_mirror_requests_total{route=\"users\",result=\"different\"} 1"),
            std::string::npos)
      << requests;
  EXPECT_NE(fields.find("ferry_mirror_field_differences_total{route=\"users\",path=\"$.price\"} 1"),
            std::string::npos)
      << fields;
}

}  // namespace
}  // namespace ferry::proxy
