// The request on its way upstream: routing it, each attempt (endpoint,
// connection, the head and the body sent) and what a failed attempt leads to.
#include <fmt/format.h>

#include <boost/asio/error.hpp>

#include "core/log.h"
#include "proxy/client_connection.h"
#include "proxy/message_rewrite.h"

namespace ferry::proxy {

using error_code = boost::system::error_code;

void ClientConnection::start_exchange(RequestHead& head, int64_t start_us, int64_t held_ms) {
  x_ = std::make_unique<Exchange>();
  Exchange& x = *x_;
  x.snapshot = worker_.snapshot();
  x.start_us = start_us;
  x.held_ms = held_ms;
  phase_ = Phase::kExchange;
  client_deadline_ms_ = 0;
  x.request.head_method = head.is_head_method();
  x.request.idempotent = is_idempotent(head.method);
  x.request.upgrade = head.upgrade;
  x.request.minor_version = head.minor_version;
  x.request.keep_alive = head.framing.keep_alive;
  x.request.head_bytes = head.head_bytes;
  x.request.unconsumed = head.head_bytes;
  if (worker_.access_log()) {
    x.request.method = std::string(head.method);
    x.request.target = std::string(head.target);
    x.request.host = std::string(head.host);
  }
  const ProxyConfig& config = x.snapshot->config;
  if (head.framing.body == BodyFraming::kContentLength && config.max_body_bytes > 0 &&
      head.framing.content_length > static_cast<uint64_t>(config.max_body_bytes)) {
    reply(413, "request body larger than limits.body_bytes", true);
    return;
  }
  const RequestView view{head.method, head.host, head.path, head.query, head.headers, client_ip_};
  const RouteDecision d = x.snapshot->router.route(view, worker_.random());
  x.route = d.route;
  x.pool = d.pool;
  x.reason = d.reason;
  x.request.body.reset(head.framing.body, head.framing.content_length);
  // Body bytes that came with the head.
  const BodyCursor::Take t = x.request.body.take(in_.readable().substr(head.head_bytes));
  if (t.invalid) {
    reply(400, x.request.body.reason(), true);
    return;
  }
  if (config.max_body_bytes > 0 &&
      x.request.body.total() > static_cast<uint64_t>(config.max_body_bytes)) {
    reply(413, "request body larger than limits.body_bytes", true);
    return;
  }
  x.request.initial_body_bytes = t.bytes;
  x.request.unconsumed += t.bytes;
  x.request.done = t.done;
  x.request.replayable = t.done;
  if (d.route < 0) {
    reply(404, "no route matches this request", false);
    return;
  }
  // Before the breaker is asked and the mirror samples: a held request
  // comes back here when released, and is decided once, as it goes on.
  if (hold_request()) return;
  if (!admit_to_pool()) return;
  const auto& endpoints = x.snapshot->endpoints[static_cast<size_t>(x.pool)];
  build_upstream_request(head, {client_ip_, endpoints.empty() ? "" : endpoints[0]->address},
                         x.request.upstream_head);
  sample_for_mirror(head, d);
  attempt();
  if (phase_ == Phase::kExchange && x.request.done) send_mirror();
}

bool ClientConnection::admit_to_pool() {
  Exchange& x = *x_;
  const RoutingSnapshot& snap = snapshot();
  const int64_t now = worker_.now_ms();
  // Fallbacks form no cycle (checked at load); the bound is belt and braces.
  for (size_t hops = 0; hops <= snap.config.pools.size(); ++hops) {
    const auto p = static_cast<size_t>(x.pool);
    CircuitBreaker* breaker = snap.breakers[p].get();
    if (!breaker) return true;
    const BreakerAdmission a = breaker->admit(now);
    if (a.transition) {
      log_info(breaker_event_line(snap.config.pools[p].name, breaker->policy(), *a.transition));
    }
    if (a.verdict != BreakerVerdict::kDivert) {
      x.upstream.breaker = breaker;
      x.upstream.probe_ticket = a.probe_ticket;
      return true;
    }
    const int fallback = snap.breaker_fallback[p];
    if (fallback < 0) {
      // Whole seconds, rounded up: "Retry-After: 0" would invite a retry storm.
      reply(503, fmt::format("the circuit breaker of pool '{}' is open", snap.config.pools[p].name),
            false, std::max<int64_t>(1, (a.retry_after_ms + 999) / 1000));
      return false;
    }
    x.pool = fallback;
    x.breaker_diverted = true;
  }
  return true;
}

void ClientConnection::breaker_outcome(bool failure) {
  Exchange& x = *x_;
  CircuitBreaker* breaker = x.upstream.breaker;
  if (!breaker) return;
  x.upstream.breaker = nullptr;
  const auto& slow = breaker->policy().slow;
  const bool is_slow = slow && worker_.now_us() - x.upstream.started_us > slow->over_ms * 1000;
  const int64_t now = worker_.now_ms();
  if (auto t = breaker->on_outcome({failure, is_slow}, x.upstream.probe_ticket, now)) {
    log_info(breaker_event_line(pool_config().name, breaker->policy(), *t));
  }
}

void ClientConnection::attempt() {
  Exchange& x = *x_;
  // A retry asks the breaker again: the failure just counted may have
  // opened it, and then the retry goes to the fallback pool.
  if (x.upstream.attempts > 0 && !admit_to_pool()) return;
  const int64_t now = worker_.now_ms();
  x.upstream.started_us = worker_.now_us();
  const int index = worker_.pick_endpoint(snapshot(), x.pool, x.upstream.tried, now);
  if (index < 0) {
    if (x.upstream.tried.empty()) {
      // A pool with nothing to send to is failing, as far as its breaker
      // goes (a retry that ran out of endpoints was counted already).
      breaker_outcome(true);
      reply(503, fmt::format("no available endpoint in pool '{}'", pool_config().name), false);
    } else {
      reply(x.upstream.failure_status, x.error, false);
    }
    return;
  }
  const auto& endpoint =
      snapshot().endpoints[static_cast<size_t>(x.pool)][static_cast<size_t>(index)];
  x.upstream.endpoint = endpoint.get();
  x.upstream.tried.push_back(endpoint.get());
  ++x.upstream.attempts;
  endpoint->active_requests.fetch_add(1, std::memory_order_relaxed);
  ++attempt_id_;
  x.upstream.connection = worker_.take_idle(endpoint.get(), !x.request.idempotent);
  if (x.upstream.connection) {
    send_request();
  } else {
    connect_upstream(endpoint);
  }
}

void ClientConnection::connect_upstream(const std::shared_ptr<EndpointState>& endpoint) {
  Exchange& x = *x_;
  x.upstream.connection = std::make_unique<UpstreamConnection>(worker_.loop(), endpoint);
  upstream_deadline_ms_ = worker_.now_ms() + pool_config().connect_timeout_ms;
  x.upstream.connection->socket.async_connect(
      reinterpret_cast<const sockaddr*>(&endpoint->sockaddr), endpoint->sockaddr_len,
      [self = shared_from_this(), id = attempt_id_](const error_code& ec, size_t) {
        if (!self->current(id)) return;
        if (ec) {
          self->upstream_failed(UpstreamFailure::kConnect, "connect: " + ec.message());
          return;
        }
        UpstreamConnection& up = *self->x_->upstream.connection;
        up.socket.set_no_delay();
        up.connected = true;
        up.endpoint->open_connections.fetch_add(1, std::memory_order_relaxed);
        self->send_request();
      });
}

void ClientConnection::send_request() {
  Exchange& x = *x_;
  // The response timeout runs from the end of the request; a slow upload is
  // bounded by timeouts.client_body instead.
  arm_response_timeout();
  x.upstream.connection->socket.async_write(
      x.request.upstream_head, {in_.data() + x.request.head_bytes, x.request.initial_body_bytes},
      [self = shared_from_this(), id = attempt_id_](const error_code& ec, size_t) {
        if (!self->current(id)) return;
        Exchange& ex = *self->x_;
        if (ec) {
          if (!self->answer_stands()) {
            self->upstream_failed(UpstreamFailure::kClosedBeforeResponse,
                                  "sending the request: " + ec.message());
          }
          return;
        }
        if (!ex.request.replayable) {
          // A streamed body: what was sent is not kept.
          self->in_.consume(ex.request.unconsumed);
          ex.request.unconsumed = 0;
          ex.request.initial_body_bytes = 0;
          ex.request.head_bytes = 0;
        }
        if (!ex.request.done) self->pump_request_body();
      });
  read_response();
}

void ClientConnection::pump_request_body() {
  client_deadline_ms_ = worker_.now_ms() + snapshot().config.timeouts.client_body_ms;
  if (in_.empty()) {
    wait_for_client(&ClientConnection::on_request_body_readable);
    return;
  }
  Exchange& x = *x_;
  const BodyCursor::Take t = x.request.body.take(in_.readable());
  const int64_t max_body = snapshot().config.max_body_bytes;
  if (t.invalid || (max_body > 0 && x.request.body.total() > static_cast<uint64_t>(max_body))) {
    const int status = t.invalid ? 400 : 413;
    const std::string detail = t.invalid ? std::string(x.request.body.reason())
                                         : "request body larger than limits.body_bytes";
    if (x.response.started || writing_to_client_) {
      close();
    } else {
      reply(status, detail, true);
    }
    return;
  }
  mirror_request_body({in_.data(), t.bytes}, t.done);
  if (t.bytes == 0) {
    if (t.done) {
      x.request.done = true;
      client_deadline_ms_ = 0;
      maybe_finish();
    } else {
      wait_for_client(&ClientConnection::on_request_body_readable);
    }
    return;
  }
  x.upstream.connection->socket.async_write(
      {in_.data(), t.bytes}, {},
      [self = shared_from_this(), id = attempt_id_, done = t.done](const error_code& ec, size_t n) {
        if (!self->current(id)) return;
        Exchange& ex = *self->x_;
        if (ec) {
          // Part of the body reached the upstream: never retried.
          if (!self->answer_stands())
            self->abort_mid_response("sending the request body: " + ec.message());
          return;
        }
        self->in_.consume(n);
        if (done) {
          ex.request.done = true;
          self->client_deadline_ms_ = 0;
          if (!ex.response.head_parsed) {
            self->upstream_deadline_ms_ =
                self->worker_.now_ms() + self->pool_config().response_timeout_ms;
          }
          self->maybe_finish();
        } else {
          self->pump_request_body();
        }
      });
}

void ClientConnection::on_request_body_readable() {
  const ReadStatus status = fill(client_, in_, BufferPool::kBufferSize);
  if (status == ReadStatus::kWouldBlock) {
    wait_for_client(&ClientConnection::on_request_body_readable);
    return;
  }
  if (status == ReadStatus::kClosed) {
    // The client went away mid-body: nothing can be answered.
    x_->error = "client closed the connection mid-body";
    close();
    return;
  }
  pump_request_body();
}

void ClientConnection::upstream_failed(UpstreamFailure failure, const std::string& detail) {
  Exchange& x = *x_;
  ++attempt_id_;
  upstream_deadline_ms_ = 0;
  const PoolConfig& pool = pool_config();
  x.upstream.endpoint->record_failure(pool.ejection, worker_.now_ms());
  breaker_outcome(true);
  const RetryDecision decision =
      decide_retry({.failure = failure,
                    .idempotent = x.request.idempotent,
                    .replayable = x.request.replayable,
                    .client_answered = writing_to_client_ || x.response.started,
                    .attempts = x.upstream.attempts,
                    .retries = pool.retries});
  x.upstream.failure_status = decision.status;
  x.error = fmt::format("{}: {}", x.upstream.endpoint->address, detail);
  log_warn(
      fmt::format("proxy: event=upstream_failure route={} pool={} endpoint={} attempt={} "
                  "detail={}",
                  snapshot().router.route_name(static_cast<size_t>(x.route)), pool.name,
                  x.upstream.endpoint->address, x.upstream.attempts, log_value(detail)));
  release_upstream(false);
  switch (decision.verdict) {
    case RetryVerdict::kRetry:
      attempt();
      return;
    case RetryVerdict::kClose:
      close();
      return;
    case RetryVerdict::kAnswer:
      reply(x.upstream.failure_status, x.error, false);
      return;
  }
}

}  // namespace ferry::proxy
