// The rollout analysis's verdict on hand-made windows, and how windows are
// taken from cumulative counters: no sockets, no clock.
#include "proxy/rollout_analysis.h"

#include <gtest/gtest.h>

namespace ferry::proxy {
namespace {

// Bucket index of `ms` in kLatencyBuckets (the first bound at or above it).
size_t bucket_of(double ms) {
  size_t b = 0;
  while (b < kLatencyBuckets.size() && ms / 1000 > kLatencyBuckets[b]) ++b;
  return b;
}

// `requests` requests, `errors` of them 5xx, all taking `ms`; `slow` more
// (counted in requests too) taking `slow_ms`.
SideCounts side(int64_t requests, int64_t errors, double ms, int64_t slow = 0, double slow_ms = 0) {
  SideCounts c;
  c.requests = requests + slow;
  c.errors = errors;
  c.latency[bucket_of(ms)] += requests;
  if (slow > 0) c.latency[bucket_of(slow_ms)] += slow;
  return c;
}

AnalysisConfig policy() {
  AnalysisConfig p;
  p.interval_ms = 30'000;
  p.max_error_rate_increase = 1.0;
  p.max_p99_ratio = 1.5;
  p.min_requests = 100;
  return p;
}

TEST(RolloutAnalysis, PassesWhenTheNewSideIsAsGood) {
  const Verdict v = analyse(side(1000, 5, 20), side(200, 1, 20), policy());
  EXPECT_EQ(v.kind, VerdictKind::kPass) << verdict_fields(v);
  EXPECT_EQ(v.reason, VerdictReason::kNone);
  EXPECT_EQ(v.requests_old, 1000);
  EXPECT_EQ(v.requests_new, 200);
  EXPECT_DOUBLE_EQ(v.error_rate_old, 0.5);
  EXPECT_DOUBLE_EQ(v.error_rate_new, 0.5);
}

TEST(RolloutAnalysis, FailsOnAnErrorRateIncreaseAboveTheLimit) {
  // 0.5% old, 2% new: 1.5 points more than a limit of 1.
  const Verdict v = analyse(side(1000, 5, 20), side(200, 4, 20), policy());
  EXPECT_EQ(v.kind, VerdictKind::kFail);
  EXPECT_EQ(v.reason, VerdictReason::kErrorRate);
  EXPECT_DOUBLE_EQ(v.error_rate_new, 2.0);
  EXPECT_NE(verdict_fields(v).find("verdict=fail reason=error_rate requests_new=200 "
                                   "requests_old=1000 new_error_rate=2.00 old_error_rate=0.50 "
                                   "max_error_rate_increase=1"),
            std::string::npos)
      << verdict_fields(v);
}

TEST(RolloutAnalysis, AnIncreaseOfExactlyTheLimitPasses) {
  // The old side has no errors at all: 1 error in 100 is 1 point, not above 1.
  EXPECT_EQ(analyse(side(100, 0, 20), side(100, 1, 20), policy()).kind, VerdictKind::kPass);
  EXPECT_EQ(analyse(side(100, 0, 20), side(100, 2, 20), policy()).kind, VerdictKind::kFail);
}

TEST(RolloutAnalysis, AWorseOldSideIsNoReasonToFail) {
  const Verdict v = analyse(side(100, 50, 20), side(100, 0, 20), policy());
  EXPECT_EQ(v.kind, VerdictKind::kPass);
}

TEST(RolloutAnalysis, FailsOnAP99RatioAboveTheLimit) {
  // Old: everything about 20 ms; new: 5% of requests at 400 ms.
  const Verdict v = analyse(side(1000, 0, 20), side(190, 0, 20, 10, 400), policy());
  EXPECT_EQ(v.kind, VerdictKind::kFail) << verdict_fields(v);
  EXPECT_EQ(v.reason, VerdictReason::kP99Ratio);
  EXPECT_GT(v.p99_ms_new, 250);
  EXPECT_LE(v.p99_ms_new, 500);
  EXPECT_GT(v.p99_ms_old, 10);
  EXPECT_LE(v.p99_ms_old, 25);
}

TEST(RolloutAnalysis, ErrorsAreJudgedBeforeLatency) {
  const Verdict v = analyse(side(1000, 0, 20), side(190, 50, 20, 10, 400), policy());
  EXPECT_EQ(v.reason, VerdictReason::kErrorRate);
}

TEST(RolloutAnalysis, TooFewRequestsOnEitherSideIsInconclusive) {
  // Even a new side that fails every request: too little data is never a
  // verdict either way.
  const Verdict few_new = analyse(side(1000, 0, 20), side(99, 99, 20), policy());
  EXPECT_EQ(few_new.kind, VerdictKind::kInconclusive);
  EXPECT_EQ(few_new.reason, VerdictReason::kTooFewRequests);
  EXPECT_EQ(few_new.requests_new, 99);
  const Verdict few_old = analyse(side(99, 0, 20), side(1000, 0, 20), policy());
  EXPECT_EQ(few_old.kind, VerdictKind::kInconclusive);
  // Nothing at all: inconclusive, even with min_requests at its least.
  AnalysisConfig p = policy();
  p.min_requests = 1;
  EXPECT_EQ(analyse(SideCounts{}, SideCounts{}, p).kind, VerdictKind::kInconclusive);
  EXPECT_EQ(analyse(side(1, 0, 20), side(1, 0, 20), p).kind, VerdictKind::kPass);
}

TEST(RolloutAnalysis, P99InterpolatesInsideTheBucket) {
  SideCounts c;
  // 100 requests between 10 and 25 ms: p99 is 99% of the way through.
  c.requests = 100;
  c.latency[bucket_of(20)] = 100;
  EXPECT_NEAR(c.p99_ms(), 10 + 15 * 0.99, 1e-9);
  // Beyond the last bucket: reported as its bound (10 s).
  SideCounts slow;
  slow.requests = 10;
  slow.latency.back() = 10;
  EXPECT_DOUBLE_EQ(slow.p99_ms(), 10'000);
  EXPECT_DOUBLE_EQ(SideCounts{}.p99_ms(), 0);
}

TEST(RolloutAnalysis, AWindowIsTheDifferenceOfTwoReadings) {
  RequestStats stats;
  stats.record(200, 2'000);
  stats.record(503, 2'000);
  const SideCounts before = read_counts(stats);
  EXPECT_EQ(before.requests, 2);
  EXPECT_EQ(before.errors, 1);
  for (int i = 0; i < 10; ++i) stats.record(200, 300'000);  // 300 ms
  stats.record(500, 300'000);
  const SideCounts window = read_counts(stats) - before;
  EXPECT_EQ(window.requests, 11);
  EXPECT_EQ(window.errors, 1);
  EXPECT_GT(window.p99_ms(), 250);
  SideCounts sum = before;
  sum += window;
  EXPECT_EQ(sum.requests, 13);
}

}  // namespace
}  // namespace ferry::proxy
