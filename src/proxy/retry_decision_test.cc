#include "proxy/retry_decision.h"

#include <gtest/gtest.h>

namespace ferry::proxy {
namespace {

// A GET with its whole request in hand, on its first attempt of two allowed.
FailedAttempt get(UpstreamFailure failure) {
  return {.failure = failure,
          .idempotent = true,
          .replayable = true,
          .client_answered = false,
          .attempts = 1,
          .retries = 1};
}

FailedAttempt post(UpstreamFailure failure) {
  FailedAttempt a = get(failure);
  a.idempotent = false;
  return a;
}

void expect(const RetryDecision& d, RetryVerdict verdict, RetryReason reason, int status) {
  EXPECT_EQ(d.verdict, verdict);
  EXPECT_EQ(d.reason, reason);
  EXPECT_EQ(d.status, status);
}

TEST(RetryDecision, AnIdempotentRequestTheUpstreamDroppedIsSentAgain) {
  expect(decide_retry(get(UpstreamFailure::kClosedBeforeResponse)), RetryVerdict::kRetry,
         RetryReason::kResendable, 502);
}

TEST(RetryDecision, APostThatNeverReachedTheUpstreamIsSentAgain) {
  expect(decide_retry(post(UpstreamFailure::kConnect)), RetryVerdict::kRetry,
         RetryReason::kNeverSent, 502);
  // A connect timeout: no connection either; answered 504 if nothing is left.
  expect(decide_retry(post(UpstreamFailure::kConnectTimeout)), RetryVerdict::kRetry,
         RetryReason::kNeverSent, 504);
}

TEST(RetryDecision, APostThatReachedTheUpstreamIsNeverSentTwice) {
  expect(decide_retry(post(UpstreamFailure::kClosedBeforeResponse)), RetryVerdict::kAnswer,
         RetryReason::kNotIdempotent, 502);
}

TEST(RetryDecision, AStreamedBodyIsGoneAndCannotBeSentAgain) {
  FailedAttempt a = get(UpstreamFailure::kClosedBeforeResponse);
  a.replayable = false;
  expect(decide_retry(a), RetryVerdict::kAnswer, RetryReason::kStreamedBody, 502);
  // Unless the upstream never saw any of it.
  a.failure = UpstreamFailure::kConnect;
  expect(decide_retry(a), RetryVerdict::kRetry, RetryReason::kNeverSent, 502);
}

TEST(RetryDecision, AResponseTimeoutIsAnswered504NotRetried) {
  // The upstream may still be acting on it, even for a GET.
  expect(decide_retry(get(UpstreamFailure::kTimeout)), RetryVerdict::kAnswer,
         RetryReason::kTimedOut, 504);
}

TEST(RetryDecision, ABadResponseIsAnswered502NotRetried) {
  expect(decide_retry(get(UpstreamFailure::kBadResponse)), RetryVerdict::kAnswer,
         RetryReason::kBadResponse, 502);
}

TEST(RetryDecision, OnceTheClientIsBeingAnsweredTheConnectionIsClosed) {
  // Neither a retry nor an error answer may follow bytes the client has.
  for (const UpstreamFailure f : {UpstreamFailure::kConnect, UpstreamFailure::kClosedBeforeResponse,
                                  UpstreamFailure::kTimeout, UpstreamFailure::kBadResponse}) {
    FailedAttempt a = get(f);
    a.client_answered = true;
    const RetryDecision d = decide_retry(a);
    EXPECT_EQ(d.verdict, RetryVerdict::kClose);
    EXPECT_EQ(d.reason, RetryReason::kClientAnswered);
  }
}

TEST(RetryDecision, RetriesStopWhenAttemptsAreUsedUp) {
  FailedAttempt a = get(UpstreamFailure::kConnect);
  a.retries = 2;
  a.attempts = 2;
  EXPECT_EQ(decide_retry(a).verdict, RetryVerdict::kRetry);
  a.attempts = 3;
  expect(decide_retry(a), RetryVerdict::kAnswer, RetryReason::kAttemptsExhausted, 502);
  a.failure = UpstreamFailure::kConnectTimeout;
  expect(decide_retry(a), RetryVerdict::kAnswer, RetryReason::kAttemptsExhausted, 504);
}

TEST(RetryDecision, RetriesZeroMeansOneAttempt) {
  FailedAttempt a = get(UpstreamFailure::kConnect);
  a.retries = 0;
  expect(decide_retry(a), RetryVerdict::kAnswer, RetryReason::kAttemptsExhausted, 502);
}

TEST(RetryDecision, TheReasonNamesTheUnsafeRuleBeforeTheAttempts) {
  // The reason names the rule that forbids a resend, not the attempts.
  FailedAttempt a = post(UpstreamFailure::kClosedBeforeResponse);
  a.retries = 0;
  expect(decide_retry(a), RetryVerdict::kAnswer, RetryReason::kNotIdempotent, 502);
}

}  // namespace
}  // namespace ferry::proxy
