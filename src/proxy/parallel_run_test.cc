#include "proxy/parallel_run.h"

#include <gtest/gtest.h>

#include "proxy/proxy_config.h"

namespace ferry::proxy {
namespace {

// A response head as the parser would leave it.
ResponseHead head_of(int status, BodyFraming framing) {
  ResponseHead h;
  h.status = status;
  h.headers = {{"Content-Type", "application/json"}};
  h.framing.body = framing;
  return h;
}

CapturedAnswer answer(int status, std::string body) {
  CapturedAnswer a;
  a.outcome = CapturedAnswer::Outcome::kComplete;
  a.status = status;
  a.body = std::move(body);
  return a;
}

CapturedAnswer failed(std::string error) {
  CapturedAnswer a;
  a.error = std::move(error);
  return a;
}

CapturedAnswer too_large() {
  CapturedAnswer a;
  a.outcome = CapturedAnswer::Outcome::kTooLarge;
  return a;
}

TEST(AnswerCapture, KeepsTheHeadAndDecodesAChunkedBody) {
  AnswerCapture c(100);
  c.head(head_of(200, BodyFraming::kChunked));
  EXPECT_TRUE(c.body("3\r\n{\"a"));
  EXPECT_TRUE(c.body("\r\n3\r\n\":1\r\n1\r\n}\r\n0\r\n\r\n"));
  const CapturedAnswer a = c.finish();
  EXPECT_EQ(a.outcome, CapturedAnswer::Outcome::kComplete);
  EXPECT_EQ(a.status, 200);
  ASSERT_EQ(a.headers.size(), 1u);
  EXPECT_EQ(a.headers[0].first, "content-type");  // names in lower case
  EXPECT_EQ(a.body, "{\"a\":1}");
}

TEST(AnswerCapture, ABodyPastTheLimitIsTooLargeAndNotKept) {
  AnswerCapture c(8);
  c.head(head_of(200, BodyFraming::kContentLength));
  EXPECT_TRUE(c.body("12345"));
  EXPECT_FALSE(c.body("6789"));
  EXPECT_FALSE(c.body("0"));
  const CapturedAnswer a = c.finish();
  EXPECT_EQ(a.outcome, CapturedAnswer::Outcome::kTooLarge);
  EXPECT_TRUE(a.body.empty());
}

class ParallelRunSampleTest : public ::testing::Test {
 protected:
  std::shared_ptr<ParallelRunSample> sample(bool noise) {
    return std::make_shared<ParallelRunSample>(nullptr, "users", config_, diffs_, "GET", "/users/1",
                                               noise);
  }
  MirrorConfig config_;
  std::shared_ptr<RouteDiffs> diffs_ = std::make_shared<RouteDiffs>(std::vector<std::string>{});
};

TEST_F(ParallelRunSampleTest, ComparesOnlyOnceEveryPartHasArrived) {
  auto s = sample(false);
  s->complete(ParallelRunSample::Part::kCandidate, answer(200, "{\"price\":12}"));
  EXPECT_EQ(diffs_->snapshot().compared, 0);
  s->complete(ParallelRunSample::Part::kPrimary, answer(200, "{\"price\":10}"));
  const auto d = diffs_->snapshot();
  EXPECT_EQ(d.compared, 1);
  EXPECT_EQ(d.different, 1);
  ASSERT_EQ(d.fields.size(), 1u);
  EXPECT_EQ(d.fields[0].path, "$.price");
}

TEST_F(ParallelRunSampleTest, WithNoiseAFieldBothPrimariesDisagreeOnIsNotADifference) {
  auto s = sample(true);
  s->complete(ParallelRunSample::Part::kPrimary, answer(200, "{\"id\":1,\"price\":10}"));
  s->complete(ParallelRunSample::Part::kNoise, answer(200, "{\"id\":2,\"price\":10}"));
  s->complete(ParallelRunSample::Part::kCandidate, answer(200, "{\"id\":3,\"price\":10}"));
  const auto d = diffs_->snapshot();
  EXPECT_EQ(d.compared, 1);
  EXPECT_EQ(d.identical, 1);
}

TEST_F(ParallelRunSampleTest, EachFailureIsCountedWhereItBelongs) {
  // The client's own answer failed: nothing to compare, and no one's error.
  auto s = sample(false);
  s->complete(ParallelRunSample::Part::kCandidate, answer(200, "{}"));
  s->complete(ParallelRunSample::Part::kPrimary, failed("client went away"));
  EXPECT_EQ(diffs_->snapshot().compared + diffs_->snapshot().mirror_errors, 0);

  s = sample(true);
  s->complete(ParallelRunSample::Part::kPrimary, answer(200, "{}"));
  s->complete(ParallelRunSample::Part::kCandidate, answer(200, "{}"));
  s->complete(ParallelRunSample::Part::kNoise, failed("127.0.0.1:1: connect: refused"));
  EXPECT_EQ(diffs_->snapshot().mirror_errors, 1);
  EXPECT_EQ(diffs_->snapshot().last_mirror_error, "noise: 127.0.0.1:1: connect: refused");

  s = sample(false);
  s->complete(ParallelRunSample::Part::kPrimary, too_large());
  s->complete(ParallelRunSample::Part::kCandidate, answer(200, "{}"));
  EXPECT_EQ(diffs_->snapshot().skipped_large, 1);

  s = sample(false);
  s->skip_large_request();
  s->complete(ParallelRunSample::Part::kPrimary, answer(200, "{}"));
  s->complete(ParallelRunSample::Part::kCandidate, answer(200, "{}"));
  EXPECT_EQ(diffs_->snapshot().skipped_large, 2);
  EXPECT_EQ(diffs_->snapshot().compared, 0);
}

}  // namespace
}  // namespace ferry::proxy
