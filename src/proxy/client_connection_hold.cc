// A request whose route is held (route_hold.h): it waits between routing
// and everything after it (breaker, endpoint, mirror sampling), its bytes
// left unconsumed at the front of the read buffer, until the hold is
// released (routed again, from the head, with the snapshot current then),
// its timeout passes (503 with Retry-After: it never went upstream) or its
// client leaves.
#include <fmt/format.h>

#include "proxy/client_connection.h"

namespace ferry::proxy {

bool ClientConnection::hold_request() {
  Exchange& x = *x_;
  // By reference: every request asks, and a copy would cost an atomic add.
  const std::shared_ptr<RouteHold>& hold = x.snapshot->holds[static_cast<size_t>(x.route)];
  if (!hold) return false;
  const int64_t now = worker_.now_ms();
  phase_ = Phase::kHeld;
  x.pool = -1;  // none yet: a held request is routed to a pool only when released
  hold->enter();
  held_at_ms_ = now;
  // The sweep enforces it like any client deadline (check_deadlines).
  client_deadline_ms_ = held_request_deadline_ms(now, hold->terms());
  hold_ = hold;
  held_entry_ = worker_.hold(shared_from_this());
  // A head that was still arriving when the proxy began to stop: answered
  // at once, like the requests held then (drain()).
  if (worker_.draining()) {
    answer_held("the proxy is stopping");
    return true;
  }
  watch_held_client();
  return true;
}

void ClientConnection::watch_held_client() {
  // A full buffer cannot take another byte, and a read that finds no room
  // tells nothing: then the client's leaving is noticed once the request
  // goes on (or is answered at its timeout).
  if (in_.full()) return;
  wait_for_client(&ClientConnection::on_held_readable);
}

void ClientConnection::on_held_readable() {
  // The bytes go behind the held request (the rest of its body, or the next
  // pipelined request); the capacity is not grown for them.
  if (fill(client_, in_, in_.capacity()) == ReadStatus::kClosed) {
    x_->error = "client closed the connection while its request was held";
    leave_hold(HoldOutcome::kClientGone);
    close();
    return;
  }
  watch_held_client();
}

void ClientConnection::leave_hold(HoldOutcome outcome) {
  const int64_t waited = worker_.now_ms() - held_at_ms_;
  hold_->leave(worker_.index(), outcome, waited);
  x_->held_ms = waited;
  hold_.reset();
  client_deadline_ms_ = 0;
  ++attempt_id_;  // orphans the wait on the client
  client_.cancel_wait_read();
  // Last: the worker's reference may be the last but one (every caller
  // holds another while this runs).
  worker_.unhold(held_entry_);
}

void ClientConnection::answer_held(std::string_view why) {
  const std::string route = hold_->route();
  leave_hold(HoldOutcome::kTimedOut);
  // Retry-After: 1, the shortest there is: a retry finds the route
  // released, or waits in the hold again.
  reply(503,
        fmt::format("route '{}' is held for a cutover and {}; the request was not sent "
                    "upstream, so it is safe to send again",
                    route, why),
        false, 1);
}

void ClientConnection::release_hold() {
  if (phase_ != Phase::kHeld) return;
  const int64_t start_us = x_->start_us;
  leave_hold(HoldOutcome::kReleased);
  const int64_t held_ms = x_->held_ms;
  x_.reset();
  // From the head again, as when it arrived: the bytes are where they were
  // (only ever appended to), and routing, breaker, endpoint and the
  // mirror's sample are decided now, once, with the newest snapshot. The
  // head parsed whole before, so only limits that a reload lowered
  // meanwhile can refuse it now, as they would any new request.
  RequestHead& head = worker_.request_scratch();
  const ParseResult r = parse_request_head(in_.readable(), worker_.snapshot()->config.limits, head);
  if (r.state == ParseState::kInvalid) {
    reply(r.status, r.reason, true);
    return;
  }
  start_exchange(head, start_us, held_ms);
}

}  // namespace ferry::proxy
