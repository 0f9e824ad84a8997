#include "proxy/retry_decision.h"

namespace ferry::proxy {

namespace {

// kNeverSent or kResendable when sending the request again cannot make it
// take effect twice; otherwise why it could.
RetryReason safety(const FailedAttempt& a) {
  switch (a.failure) {
    case UpstreamFailure::kConnect:
    case UpstreamFailure::kConnectTimeout:
      return RetryReason::kNeverSent;
    case UpstreamFailure::kClosedBeforeResponse:
      if (!a.idempotent) return RetryReason::kNotIdempotent;
      if (!a.replayable) return RetryReason::kStreamedBody;
      return RetryReason::kResendable;
    case UpstreamFailure::kTimeout:
      return RetryReason::kTimedOut;
    case UpstreamFailure::kBadResponse:
      return RetryReason::kBadResponse;
  }
  return RetryReason::kBadResponse;
}

}  // namespace

RetryDecision decide_retry(const FailedAttempt& a) {
  const bool timeout =
      a.failure == UpstreamFailure::kConnectTimeout || a.failure == UpstreamFailure::kTimeout;
  const int status = timeout ? 504 : 502;
  if (a.client_answered) return {RetryVerdict::kClose, RetryReason::kClientAnswered, status};
  const RetryReason why = safety(a);
  if (why != RetryReason::kNeverSent && why != RetryReason::kResendable) {
    return {RetryVerdict::kAnswer, why, status};
  }
  if (a.attempts > a.retries)
    return {RetryVerdict::kAnswer, RetryReason::kAttemptsExhausted, status};
  return {RetryVerdict::kRetry, why, status};
}

}  // namespace ferry::proxy
