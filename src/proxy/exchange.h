// One request in hand on a client connection, from its head to the end of
// its response, in the four parts a ClientConnection works on: what the
// client sent, the attempts upstream, the answer going back, and the tunnel
// a 101 opens. It lives only while the request does; the next request on the
// connection gets a new one.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proxy/body_cursor.h"
#include "proxy/io_buffer.h"
#include "proxy/parallel_run.h"
#include "proxy/proxy_state.h"
#include "proxy/router.h"
#include "proxy/worker.h"

namespace ferry::proxy {

// What was read from the client, and what of it may be sent again.
struct RequestSide {
  bool head_method = false;  // HEAD: the answer has no body whatever its framing says
  bool idempotent = false;
  bool upgrade = false;
  int minor_version = 1;
  bool keep_alive = true;  // the client's wish
  size_t head_bytes = 0;
  // This request's bytes (head, body) still at the front of the client
  // connection's read buffer. They stay there until the exchange ends when the whole body
  // arrived with the head, so a retry can send them again (`replayable`); a
  // streamed body is consumed as it is forwarded and cannot be retried.
  size_t unconsumed = 0;
  bool replayable = false;
  size_t initial_body_bytes = 0;  // body bytes sent along with the head
  BodyCursor body;
  bool done = false;          // every body byte was forwarded (or none is expected)
  std::string upstream_head;  // the head as sent upstream, again on a retry
  // Copied from the head for the access log (only when it is on).
  std::string method, target, host;
};

// The current attempt upstream, and what earlier ones left behind.
struct UpstreamAttempt {
  std::unique_ptr<UpstreamConnection> connection;
  EndpointState* endpoint = nullptr;  // counted in its active_requests while set
  std::vector<EndpointState*> tried;  // every attempt's endpoint, the current one last
  int attempts = 0;
  int failure_status = 0;  // of the last failed attempt, answered when no retry is left
  int64_t started_us = 0;  // of the current attempt (slow answers, for the breaker)
  // The pool's circuit breaker while the current attempt's outcome is still
  // to be reported to it (then null), and the probe ticket it admitted with.
  CircuitBreaker* breaker = nullptr;
  uint64_t probe_ticket = 0;
};

// The answer on its way from the upstream (or the proxy) to the client.
struct ResponseSide {
  IoBuffer in;               // read from the upstream, not yet written to the client
  std::string head;          // the head being written to the client
  bool head_parsed = false;  // a final (not 1xx) head arrived
  bool started = false;      // bytes of a final response reached the client
  bool done = false;
  BodyCursor body;
  bool keep_alive = false;  // the upstream's wish
  int status = 0;           // as recorded; 0 until there is one
  // For the log: body bytes relayed, or the whole of an answer the proxy made.
  uint64_t bytes = 0;
};

// After 101 Switching Protocols: which directions have ended.
struct Tunnel {
  bool client_done = false;
  bool upstream_done = false;
};

// A request the route's parallel run sampled (parallel_run.h): the copy of
// it the mirror gets, and what the client gets from the primary.
struct MirrorSide {
  std::shared_ptr<ParallelRunSample> sample;  // null: this request is not mirrored
  std::shared_ptr<std::string> head, body;    // the request as the mirror gets it
  bool sent = false;
  int sampled_pool = -1;  // the primary when sampled; an answer from another is not compared
  std::optional<AnswerCapture> primary;  // from the primary's final head on
};

struct Exchange {
  std::shared_ptr<const RoutingSnapshot> snapshot;  // the one the request started with
  int64_t start_us = 0;
  int route = -1;
  int pool = -1;
  RouteReason reason = RouteReason::kSingle;
  bool breaker_diverted = false;  // an open breaker sent it to its fallback pool
  // How long the request waited in its route's hold (client_connection_hold.cc)
  // before it went on or was answered; -1 when it was not held.
  int64_t held_ms = -1;
  std::string error;  // what went wrong, for the access log
  bool recorded = false;

  RequestSide request;
  UpstreamAttempt upstream;
  ResponseSide response;
  Tunnel tunnel;
  MirrorSide mirror;
};

}  // namespace ferry::proxy
