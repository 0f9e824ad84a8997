#include "proxy/client_connection.h"

#include <fmt/format.h>

#include <boost/asio/error.hpp>

#include "core/log.h"
#include "proxy/message_rewrite.h"

namespace ferry::proxy {

namespace {

using error_code = boost::system::error_code;
namespace asio = boost::asio;

const char* reason_name(RouteReason r) {
  switch (r) {
    case RouteReason::kSingle:
      return "single";
    case RouteReason::kOverride:
      return "override";
    case RouteReason::kSticky:
      return "sticky";
    case RouteReason::kFallback:
      return "fallback";
    case RouteReason::kRandom:
      return "random";
  }
  return "";
}

// How long a closing connection keeps reading (and discarding) what the
// client still sends, so that closing does not reset the response away.
constexpr int64_t kLingerMs = 2000;

}  // namespace

ClientConnection::ClientConnection(Worker& worker, int fd, std::string client_ip)
    : worker_(worker), client_(worker.loop()), client_ip_(std::move(client_ip)) {
  tracked_ = worker_.track(this);
  if (const error_code ec = client_.adopt(fd)) {
    log_warn(fmt::format("proxy: event=accept_failed client={} detail={}", client_ip_,
                         log_value(ec.message())));
  }
}

ClientConnection::~ClientConnection() { worker_.untrack(tracked_); }

const PoolConfig& ClientConnection::pool_config() const {
  return snapshot().config.pools[static_cast<size_t>(x_->pool)];
}

void ClientConnection::start() {
  if (!client_.is_open()) {
    close();
    return;
  }
  client_.set_no_delay();
  read_request();
}

bool ClientConnection::past_deadline(int64_t now_ms) const {
  return (client_deadline_ms_ != 0 && now_ms >= client_deadline_ms_) ||
         (upstream_deadline_ms_ != 0 && now_ms >= upstream_deadline_ms_) ||
         (send_deadline_ms_ != 0 && now_ms >= send_deadline_ms_);
}

// ---------------------------------------------------------------- requests

void ClientConnection::read_request() {
  if (phase_ == Phase::kClosed) return;
  x_.reset();
  if (close_after_ || worker_.draining()) {
    close_gracefully();
    return;
  }
  // Blank lines between requests are tolerated (RFC 9112 2.2).
  while (in_.size() >= 2 && in_.data()[0] == '\r' && in_.data()[1] == '\n') in_.consume(2);
  const TimeoutConfig& timeouts = worker_.snapshot()->config.timeouts;
  if (!in_.empty()) {
    phase_ = Phase::kReadingHead;
    client_deadline_ms_ = worker_.now_ms() + timeouts.client_head_ms;
    handle_head();
    return;
  }
  // Idle: the buffer goes back to the pool until the next request arrives.
  phase_ = Phase::kIdle;
  worker_.buffers().give(in_);
  client_deadline_ms_ = worker_.now_ms() + timeouts.client_idle_ms;
  wait_for_client(&ClientConnection::on_head_readable);
}

void ClientConnection::wait_for_client(void (ClientConnection::*next)()) {
  // The id orphans a wait that an exchange left behind when it ended early
  // (an answer before the whole request body arrived).
  client_.async_wait_read(
      [self = shared_from_this(), next, id = attempt_id_](const error_code& ec, size_t) {
        if (!self->current(id)) return;
        if (ec) {
          self->close();
          return;
        }
        ((*self).*next)();
      });
}

ClientConnection::ReadStatus ClientConnection::fill(StreamSocket& socket, IoBuffer& buffer,
                                                    size_t max_capacity) {
  if (!buffer.allocated()) buffer = worker_.buffers().take();
  if (buffer.full() && buffer.capacity() < max_capacity) {
    buffer.grow(std::min(max_capacity, buffer.capacity() * 2));
  }
  auto [area, room] = buffer.prepare();
  if (room == 0) return ReadStatus::kData;
  error_code ec;
  const size_t n = socket.read_some(area, room, ec);
  if (ec == asio::error::would_block) return ReadStatus::kWouldBlock;
  if (ec) return ReadStatus::kClosed;
  buffer.commit(n);
  return ReadStatus::kData;
}

void ClientConnection::on_head_readable() {
  const ReadStatus status = fill(client_, in_, worker_.snapshot()->config.limits.max_head_bytes);
  if (status == ReadStatus::kWouldBlock) {
    wait_for_client(&ClientConnection::on_head_readable);
    return;
  }
  if (status == ReadStatus::kClosed) {
    close();
    return;
  }
  if (phase_ == Phase::kIdle) {
    phase_ = Phase::kReadingHead;
    client_deadline_ms_ = worker_.now_ms() + worker_.snapshot()->config.timeouts.client_head_ms;
  }
  handle_head();
}

void ClientConnection::handle_head() {
  RequestHead& head = worker_.request_scratch();
  const ParseResult r = parse_request_head(in_.readable(), worker_.snapshot()->config.limits, head);
  if (r.state == ParseState::kIncomplete) {
    wait_for_client(&ClientConnection::on_head_readable);
    return;
  }
  if (r.state == ParseState::kInvalid) {
    log_debug(fmt::format("proxy: event=bad_request client={} status={} reason={}", client_ip_,
                          r.status, log_value(r.reason)));
    reply(r.status, r.reason, true);
    return;
  }
  start_exchange(head, worker_.now_us());
}

// ---------------------------------------------------------------- endings

void ClientConnection::abort_mid_response(const std::string& detail) {
  Exchange& x = *x_;
  if (x.upstream.endpoint)
    x.upstream.endpoint->record_failure(pool_config().ejection, worker_.now_ms());
  breaker_outcome(true);  // a no-op when the response head was counted
  x.error = detail;
  log_warn(fmt::format("proxy: event=aborted route={} pool={} endpoint={} detail={}",
                       snapshot().router.route_name(static_cast<size_t>(x.route)),
                       pool_config().name, x.upstream.endpoint ? x.upstream.endpoint->address : "",
                       log_value(detail)));
  if (x.response.status == 0) x.response.status = 502;
  close();
}

void ClientConnection::reply(int status, std::string_view detail, bool close_client,
                             int64_t retry_after_s) {
  if (!x_) {
    x_ = std::make_unique<Exchange>();
    x_->snapshot = worker_.snapshot();
    x_->start_us = worker_.now_us();
  }
  Exchange& x = *x_;
  ++attempt_id_;
  upstream_deadline_ms_ = 0;
  release_upstream(false);
  if (writing_to_client_ || x.response.started) {
    close();
    return;
  }
  phase_ = Phase::kReplying;
  x.response.status = status;
  if (x.error.empty()) x.error = std::string(detail);
  if (close_client || !x.request.done || !x.request.keep_alive) close_after_ = true;
  x.response.head.clear();
  build_error_response(status, detail, close_after_, x.request.head_method, x.response.head,
                       retry_after_s);
  client_deadline_ms_ = worker_.now_ms() + snapshot().config.timeouts.client_idle_ms;
  writing_to_client_ = true;
  client_.async_write(x.response.head, {},
                      [self = shared_from_this()](const error_code& ec, size_t n) {
                        self->writing_to_client_ = false;
                        if (self->phase_ == Phase::kClosed) return;
                        if (ec) {
                          self->close();
                          return;
                        }
                        self->x_->response.bytes = n;
                        self->x_->response.done = true;
                        self->finish_exchange();
                      });
}

void ClientConnection::record() {
  Exchange& x = *x_;
  if (x.recorded) return;
  x.recorded = true;
  // 499: the client went away before an answer (nginx's convention).
  const int status = x.response.status != 0 ? x.response.status : 499;
  const int64_t micros = worker_.now_us() - x.start_us;
  x.snapshot->stats_for(x.route, x.pool)->record(status, micros);
  if (AccessLog* log = worker_.access_log()) {
    AccessLogEntry e;
    e.client = client_ip_;
    e.method = x.request.method;
    e.target = x.request.target;
    e.host = x.request.host;
    e.status = status;
    if (x.route >= 0) {
      e.route = snapshot().router.route_name(static_cast<size_t>(x.route));
      // No pool: the request left its route's hold without going on.
      e.pool = x.pool >= 0 ? std::string_view(pool_config().name) : "";
      e.decision = x.pool < 0           ? "held"
                   : x.breaker_diverted ? "breaker_fallback"
                                        : reason_name(x.reason);
    }
    e.held_ms = x.held_ms;
    if (!x.upstream.tried.empty()) e.endpoint = x.upstream.tried.back()->address;
    e.attempts = x.upstream.attempts;
    e.response_bytes = x.response.bytes;
    e.duration_us = micros;
    e.error = x.error;
    log->write(e);
  }
}

void ClientConnection::release_upstream(bool reusable) {
  Exchange& x = *x_;
  if (x.upstream.breaker) {
    // The attempt ends without an outcome (the client left, or the proxy
    // answered first): a half-open probe gives its place back.
    x.upstream.breaker->release_probe(x.upstream.probe_ticket);
    x.upstream.breaker = nullptr;
  }
  if (x.upstream.endpoint) {
    x.upstream.endpoint->active_requests.fetch_sub(1, std::memory_order_relaxed);
    x.upstream.endpoint = nullptr;
  }
  worker_.buffers().give(x.response.in);
  if (!x.upstream.connection) return;
  if (reusable && !worker_.draining()) {
    worker_.keep_idle(std::move(x.upstream.connection), pool_config().max_idle_connections);
  } else {
    x.upstream.connection.reset();
  }
}

void ClientConnection::close_gracefully() {
  if (phase_ == Phase::kClosed) return;
  client_.shutdown_send();
  phase_ = Phase::kLingering;
  ++attempt_id_;
  client_deadline_ms_ = worker_.now_ms() + kLingerMs;
  x_.reset();
  in_.consume(in_.size());
  wait_for_client(&ClientConnection::on_lingering_readable);
}

void ClientConnection::on_lingering_readable() {
  ReadStatus status;
  while ((status = fill(client_, in_, BufferPool::kBufferSize)) == ReadStatus::kData) {
    in_.consume(in_.size());
  }
  if (status == ReadStatus::kClosed) {
    close();
    return;
  }
  wait_for_client(&ClientConnection::on_lingering_readable);
}

void ClientConnection::close() {
  if (phase_ == Phase::kClosed) return;
  if (hold_) leave_hold(HoldOutcome::kClientGone);
  if (x_ && phase_ != Phase::kLingering) {
    record();
    release_upstream(false);
  }
  phase_ = Phase::kClosed;
  ++attempt_id_;
  client_deadline_ms_ = 0;
  upstream_deadline_ms_ = 0;
  send_deadline_ms_ = 0;
  client_.close();
  in_ = IoBuffer();
}

void ClientConnection::drain() {
  if (phase_ == Phase::kIdle) {
    close();
  } else if (phase_ == Phase::kHeld) {
    // Sent on now it could reach the side a cutover is leaving; answered,
    // its client can send it again to wherever the proxy's successor runs.
    answer_held("the proxy is stopping");
  } else {
    close_after_ = true;
  }
}

void ClientConnection::check_deadlines(int64_t now_ms) {
  if (client_deadline_ms_ != 0 && now_ms >= client_deadline_ms_) {
    client_deadline_ms_ = 0;
    switch (phase_) {
      case Phase::kReadingHead:
        reply(408, "request head not received in time (timeouts.client_head)", true);
        return;
      case Phase::kHeld:
        answer_held(
            fmt::format("was not released within its timeout ({} ms)", hold_->terms().timeout_ms));
        return;
      case Phase::kExchange:
        if (x_->response.started || writing_to_client_) {
          close();
        } else {
          reply(408, "request body stalled (timeouts.client_body)", true);
        }
        return;
      default:
        close();
        return;
    }
  }
  if (send_deadline_ms_ != 0 && now_ms >= send_deadline_ms_) {
    send_deadline_ms_ = 0;
    if (x_) x_->error = "client did not accept the response in time (timeouts.client_send)";
    close();
    return;
  }
  if (upstream_deadline_ms_ != 0 && now_ms >= upstream_deadline_ms_) {
    upstream_deadline_ms_ = 0;
    if (phase_ != Phase::kExchange || !x_ || !x_->upstream.connection) return;
    if (!x_->upstream.connection->connected) {
      upstream_failed(UpstreamFailure::kConnectTimeout, "connect timed out");
    } else if (!x_->response.head_parsed) {
      upstream_failed(UpstreamFailure::kTimeout, "no response within response_timeout");
    } else {
      abort_mid_response("upstream stalled mid-response");
    }
  }
}

}  // namespace ferry::proxy
