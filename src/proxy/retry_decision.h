// Whether a failed attempt upstream may be sent again, decided from what is
// known about the attempt alone, so that every rule is tested without
// sockets (retry_decision_test.cc). A request is sent twice only when that
// cannot make it take effect twice: the upstream never saw it, or it is
// idempotent, every byte of it is still in hand and nothing answered it.
// Which endpoint a retry goes to is not decided here: one of the pool's
// that this request has not tried (endpoint_choice.h).
//
// Only failures are retried; an upstream's answer, 5xx included, goes to
// the client as it is (and counts toward passive ejection).
#pragma once

namespace ferry::proxy {

// How an attempt failed, before any of a final response reached the client.
enum class UpstreamFailure {
  kConnect,               // no connection: the upstream never saw the request
  kConnectTimeout,        // no connection within connect_timeout; likewise
  kClosedBeforeResponse,  // sent (maybe in part), then the connection broke without an answer
  kTimeout,               // sent, and no response head within response_timeout
  kBadResponse,           // the upstream answered something that is not a valid response
};

struct FailedAttempt {
  UpstreamFailure failure = UpstreamFailure::kConnect;
  bool idempotent = false;  // the method may take effect twice (RFC 9110 9.2.2)
  bool replayable = false;  // every byte of the request is still in hand (not streamed)
  // Bytes of an answer are on their way to the client or reached it (a 1xx
  // being written): neither a retry nor an error answer can follow them.
  bool client_answered = false;
  int attempts = 0;  // made so far, the failed one included
  int retries = 0;   // the pool's `retries`: attempts allowed beyond the first
};

enum class RetryVerdict {
  kRetry,   // send the request again, to an endpoint not tried yet
  kAnswer,  // answer the client with `status`
  kClose,   // close the client connection
};

enum class RetryReason {
  kNeverSent,          // retry: no connection was made
  kResendable,         // retry: idempotent, whole, and nothing answered
  kClientAnswered,     // close: an answer to the client has begun
  kNotIdempotent,      // answer: the upstream may have acted on it
  kStreamedBody,       // answer: the body was forwarded as it came and is gone
  kTimedOut,           // answer: the upstream may still be acting on it
  kBadResponse,        // answer: the upstream did answer, wrongly
  kAttemptsExhausted,  // answer: safe to resend, but no retry is left
};

struct RetryDecision {
  RetryVerdict verdict = RetryVerdict::kAnswer;
  RetryReason reason = RetryReason::kAttemptsExhausted;
  // 504 after a timeout, 502 otherwise: the answer now (kAnswer), or later
  // if a retry finds no endpoint left to try.
  int status = 502;
};

RetryDecision decide_retry(const FailedAttempt& attempt);

}  // namespace ferry::proxy
