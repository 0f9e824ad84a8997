#include "proxy/parallel_run.h"

#include <gtest/gtest.h>

#include "proxy/comparison_queue.h"
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
    return ParallelRunSample::start(config_, "users", noise ? noisy_ : plain_, queue_, "GET",
                                    "/users/1", noise);
  }
  std::shared_ptr<MirrorConfig> config_ = std::make_shared<MirrorConfig>();
  ComparisonQueue queue_{16, ComparisonQueue::Mode::kInline};
  std::shared_ptr<RouteDiffs> plain_ =
      std::make_shared<RouteDiffs>(std::vector<std::string>{}, false);
  std::shared_ptr<RouteDiffs> noisy_ =
      std::make_shared<RouteDiffs>(std::vector<std::string>{}, true);
};

TEST_F(ParallelRunSampleTest, ComparesOnlyOnceEveryPartHasArrived) {
  auto s = sample(false);
  s->complete(ParallelRunSample::Part::kCandidate, answer(200, "{\"price\":12}"));
  EXPECT_EQ(plain_->snapshot().compared, 0);
  s->complete(ParallelRunSample::Part::kPrimary, answer(200, "{\"price\":10}"));
  const auto d = plain_->snapshot();
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
  const auto d = noisy_->snapshot();
  EXPECT_EQ(d.compared, 1);
  EXPECT_EQ(d.identical, 1);
  ASSERT_EQ(d.noise_fields.size(), 1u);
  EXPECT_EQ(d.noise_fields[0].path, "$.id");
}

TEST_F(ParallelRunSampleTest, EachOutcomeIsCountedWhereItBelongs) {
  // The exchange ended without a whole answer from the primary.
  sample(false)->complete(ParallelRunSample::Part::kCandidate, answer(200, "{}"));
  EXPECT_EQ(plain_->snapshot().abandoned, 1);
  EXPECT_EQ(plain_->snapshot().compared + plain_->snapshot().mirror_errors, 0);

  auto s = sample(true);
  s->complete(ParallelRunSample::Part::kPrimary, answer(200, "{}"));
  s->complete(ParallelRunSample::Part::kCandidate, answer(200, "{}"));
  s->complete(ParallelRunSample::Part::kNoise, failed("127.0.0.1:1: connect: refused"));
  EXPECT_EQ(noisy_->snapshot().mirror_errors, 1);
  EXPECT_EQ(noisy_->snapshot().last_mirror_error, "noise: 127.0.0.1:1: connect: refused");

  s = sample(false);
  s->complete(ParallelRunSample::Part::kPrimary, too_large());
  s->complete(ParallelRunSample::Part::kCandidate, answer(200, "{}"));
  EXPECT_EQ(plain_->snapshot().skipped_large, 1);

  s = sample(false);
  s->skip_large_request();
  s->complete(ParallelRunSample::Part::kPrimary, answer(200, "{}"));
  s->complete(ParallelRunSample::Part::kCandidate, answer(200, "{}"));
  s.reset();
  EXPECT_EQ(plain_->snapshot().skipped_large, 2);
  EXPECT_EQ(plain_->snapshot().compared, 0);
  EXPECT_EQ(plain_->snapshot().abandoned, 1);  // only the first
}

TEST_F(ParallelRunSampleTest, AtMostMaxInFlightSamplesAreUnderWay) {
  config_->max_in_flight = 2;
  auto first = sample(false), second = sample(false);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(sample(false), nullptr);
  EXPECT_EQ(plain_->snapshot().skipped_busy, 1);
  EXPECT_EQ(plain_->snapshot().in_flight, 2);
  first->complete(ParallelRunSample::Part::kPrimary, answer(200, "{}"));
  first->complete(ParallelRunSample::Part::kCandidate, answer(200, "{}"));
  first.reset();
  EXPECT_NE(sample(false), nullptr);  // a place is free again
}

}  // namespace
}  // namespace ferry::proxy
