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
// A response body up to this size is copied behind its head and sent with it.
constexpr size_t kCoalesceBytes = 4096;

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
  start_exchange(head);
}

// ---------------------------------------------------------------- exchange

void ClientConnection::start_exchange(RequestHead& head) {
  x_ = std::make_unique<Exchange>();
  Exchange& x = *x_;
  x.snapshot = worker_.snapshot();
  x.start_us = worker_.now_us();
  phase_ = Phase::kExchange;
  client_deadline_ms_ = 0;
  x.head_request = head.is_head_method();
  x.idempotent = is_idempotent(head.method);
  x.upgrade = head.upgrade;
  x.minor_version = head.minor_version;
  x.client_keep_alive = head.framing.keep_alive;
  x.head_bytes = head.head_bytes;
  x.unconsumed = head.head_bytes;
  if (worker_.access_log()) {
    x.method = std::string(head.method);
    x.target = std::string(head.target);
    x.host = std::string(head.host);
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
  x.request_body.reset(head.framing.body, head.framing.content_length);
  // Body bytes that came with the head.
  const BodyCursor::Take t = x.request_body.take(in_.readable().substr(head.head_bytes));
  if (t.invalid) {
    reply(400, x.request_body.reason(), true);
    return;
  }
  if (config.max_body_bytes > 0 &&
      x.request_body.total() > static_cast<uint64_t>(config.max_body_bytes)) {
    reply(413, "request body larger than limits.body_bytes", true);
    return;
  }
  x.initial_body_bytes = t.bytes;
  x.unconsumed += t.bytes;
  x.request_done = t.done;
  x.replayable = t.done;
  if (d.route < 0) {
    reply(404, "no route matches this request", false);
    return;
  }
  const auto& endpoints = x.snapshot->endpoints[static_cast<size_t>(x.pool)];
  build_upstream_request(head, {client_ip_, endpoints.empty() ? "" : endpoints[0]->address},
                         x.upstream_head);
  attempt();
}

void ClientConnection::attempt() {
  Exchange& x = *x_;
  const int64_t now = worker_.now_ms();
  const int index = worker_.pick_endpoint(snapshot(), x.pool, x.tried, now);
  if (index < 0) {
    if (x.tried.empty()) {
      reply(503, fmt::format("no available endpoint in pool '{}'", pool_config().name), false);
    } else {
      reply(x.failure_status, x.error, false);
    }
    return;
  }
  const auto& endpoint =
      snapshot().endpoints[static_cast<size_t>(x.pool)][static_cast<size_t>(index)];
  x.endpoint = endpoint.get();
  x.tried.push_back(endpoint.get());
  ++x.attempts;
  endpoint->active_requests.fetch_add(1, std::memory_order_relaxed);
  ++attempt_id_;
  x.upstream = worker_.take_idle(endpoint.get(), !x.idempotent);
  if (x.upstream) {
    send_request();
  } else {
    connect_upstream(endpoint);
  }
}

void ClientConnection::connect_upstream(const std::shared_ptr<EndpointState>& endpoint) {
  Exchange& x = *x_;
  x.upstream = std::make_unique<UpstreamConnection>(worker_.loop(), endpoint);
  upstream_deadline_ms_ = worker_.now_ms() + pool_config().connect_timeout_ms;
  x.upstream->socket.async_connect(
      reinterpret_cast<const sockaddr*>(&endpoint->sockaddr), endpoint->sockaddr_len,
      [self = shared_from_this(), id = attempt_id_](const error_code& ec, size_t) {
        if (!self->current(id)) return;
        if (ec) {
          self->upstream_failed(UpstreamFailure::kConnect, "connect: " + ec.message());
          return;
        }
        UpstreamConnection& up = *self->x_->upstream;
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
  x.upstream->socket.async_write(
      x.upstream_head, {in_.data() + x.head_bytes, x.initial_body_bytes},
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
        if (!ex.replayable) {
          // A streamed body: what was sent is not kept.
          self->in_.consume(ex.unconsumed);
          ex.unconsumed = 0;
          ex.initial_body_bytes = 0;
          ex.head_bytes = 0;
        }
        if (!ex.request_done) self->pump_request_body();
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
  const BodyCursor::Take t = x.request_body.take(in_.readable());
  const int64_t max_body = snapshot().config.max_body_bytes;
  if (t.invalid || (max_body > 0 && x.request_body.total() > static_cast<uint64_t>(max_body))) {
    const int status = t.invalid ? 400 : 413;
    const std::string detail = t.invalid ? std::string(x.request_body.reason())
                                         : "request body larger than limits.body_bytes";
    if (x.response_started || writing_to_client_) {
      close();
    } else {
      reply(status, detail, true);
    }
    return;
  }
  if (t.bytes == 0) {
    if (t.done) {
      x.request_done = true;
      client_deadline_ms_ = 0;
      maybe_finish();
    } else {
      wait_for_client(&ClientConnection::on_request_body_readable);
    }
    return;
  }
  x.upstream->socket.async_write(
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
          ex.request_done = true;
          self->client_deadline_ms_ = 0;
          if (!ex.response_head_parsed) {
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

void ClientConnection::read_response() {
  Exchange& x = *x_;
  if (!x.response_in.allocated()) x.response_in = worker_.buffers().take();
  if (!x.response_head_parsed && x.response_in.full() &&
      x.response_in.capacity() < snapshot().config.limits.max_head_bytes) {
    x.response_in.grow(
        std::min(snapshot().config.limits.max_head_bytes, x.response_in.capacity() * 2));
  }
  auto [area, room] = x.response_in.prepare();
  x.upstream->socket.async_read_some(
      area, room, [self = shared_from_this(), id = attempt_id_](const error_code& ec, size_t n) {
        if (!self->current(id)) return;
        Exchange& ex = *self->x_;
        if (ec) {
          if (ex.response_head_parsed && ex.response_body.framing() == BodyFraming::kUntilClose &&
              ec == asio::error::eof) {
            ex.response_keep_alive = false;
            ex.response_done = true;
            self->upstream_deadline_ms_ = 0;
            self->maybe_finish();
          } else if (ex.response_started) {
            self->abort_mid_response(ec == asio::error::eof
                                         ? "upstream closed the connection mid-response"
                                         : "reading the response: " + ec.message());
          } else if (ex.response_in.empty()) {
            self->upstream_failed(UpstreamFailure::kClosedBeforeResponse,
                                  ec == asio::error::eof ? "upstream closed the connection "
                                                           "without responding"
                                                         : "reading the response: " + ec.message());
          } else {
            self->upstream_failed(UpstreamFailure::kBadResponse, "upstream closed mid-head");
          }
          return;
        }
        ex.response_in.commit(n);
        self->arm_response_timeout();
        self->on_response_bytes();
      });
}

void ClientConnection::on_response_bytes() {
  Exchange& x = *x_;
  if (!x.response_head_parsed) {
    ResponseHead& head = worker_.response_scratch();
    const ParseResult r = parse_response_head(x.response_in.readable(), snapshot().config.limits,
                                              x.head_request, head);
    if (r.state == ParseState::kIncomplete) {
      read_response();
      return;
    }
    if (r.state == ParseState::kInvalid) {
      upstream_failed(UpstreamFailure::kBadResponse, std::string(r.reason));
      return;
    }
    if (head.is_interim()) {
      if (head.status == 101 && x.upgrade) {
        x.status = 101;
        build_client_response(head, x.minor_version, false, x.response_head);
        x.response_in.consume(head.head_bytes);
        x.endpoint->record_success();
        start_tunnel();
        return;
      }
      // 100 Continue (and other 1xx) go to HTTP/1.1 clients as they came.
      x.response_head.clear();
      if (x.minor_version == 1 && head.status != 101) {
        build_client_response(head, 1, false, x.response_head);
      }
      x.response_in.consume(head.head_bytes);
      if (x.response_head.empty()) {
        on_response_bytes();
        return;
      }
      start_client_write();
      client_.async_write(
          x.response_head, {},
          [self = shared_from_this(), id = attempt_id_](const error_code& ec, size_t) {
            self->end_client_write();
            if (!self->current(id)) return;
            if (ec) {
              self->close();
              return;
            }
            self->x_->response_head.clear();
            self->arm_response_timeout();
            if (self->x_->response_in.empty()) {
              self->read_response();
            } else {
              self->on_response_bytes();
            }
          });
      return;
    }
    x.response_head_parsed = true;
    x.status = head.status;
    x.response_keep_alive = head.framing.keep_alive;
    x.response_body.reset(head.framing.body, head.framing.content_length);
    if (head.status >= 500) {
      x.endpoint->record_failure(pool_config().ejection, worker_.now_ms());
    } else {
      x.endpoint->record_success();
    }
    // The client is closed after this response when it asked to be, when the
    // request body is still arriving (an early answer; the rest is not read),
    // when the body runs until the upstream closes, or when shutting down.
    if (!x.client_keep_alive || !x.request_done || head.framing.body == BodyFraming::kUntilClose ||
        worker_.draining()) {
      close_after_ = true;
    }
    build_client_response(head, x.minor_version, close_after_, x.response_head);
    x.response_in.consume(head.head_bytes);
  }
  const BodyCursor::Take t = x.response_body.take(x.response_in.readable());
  if (t.invalid) {
    if (!x.response_started) {
      upstream_failed(UpstreamFailure::kBadResponse, x.response_body.reason());
    } else {
      abort_mid_response(std::string("upstream sent a bad chunked body: ") +
                         x.response_body.reason());
    }
    return;
  }
  if (t.bytes == 0 && !t.done && x.response_head.empty()) {
    read_response();
    return;
  }
  write_to_client(t.bytes, t.done);
}

void ClientConnection::arm_response_timeout() {
  // After a 100 Continue the client is still uploading: that is timed by
  // timeouts.client_body, and the response timeout starts when the request
  // is done (or once the upstream has answered early).
  upstream_deadline_ms_ = x_->request_done || x_->response_head_parsed
                              ? worker_.now_ms() + pool_config().response_timeout_ms
                              : 0;
}

void ClientConnection::start_client_write() {
  // While the client takes its time, the upstream is not being waited for:
  // its clock stops (whoever continues reading it restarts it), and the
  // client's starts.
  writing_to_client_ = true;
  upstream_deadline_ms_ = 0;
  send_deadline_ms_ = worker_.now_ms() + snapshot().config.timeouts.client_send_ms;
}

void ClientConnection::end_client_write() {
  writing_to_client_ = false;
  send_deadline_ms_ = 0;
}

void ClientConnection::write_to_client(size_t body_bytes, bool done) {
  Exchange& x = *x_;
  x.response_started = true;
  std::string_view body(x.response_in.data(), body_bytes);
  if (!x.response_head.empty() && body.size() <= kCoalesceBytes) {
    // One send instead of a gather of two: cheaper in the kernel (perf).
    x.response_head.append(body);
    body = {};
  }
  start_client_write();
  client_.async_write(x.response_head, body,
                      [self = shared_from_this(), id = attempt_id_, body_bytes, done](
                          const error_code& ec, size_t) {
                        self->end_client_write();
                        if (!self->current(id)) return;
                        Exchange& ex = *self->x_;
                        if (ec) {
                          ex.error = "client closed the connection mid-response";
                          self->close();
                          return;
                        }
                        ex.response_bytes += body_bytes;
                        ex.response_head.clear();
                        ex.response_in.consume(body_bytes);
                        if (done) {
                          ex.response_done = true;
                          self->maybe_finish();
                        } else {
                          self->arm_response_timeout();
                          self->read_response();
                        }
                      });
}

bool ClientConnection::answer_stands() {
  if (!x_->response_head_parsed) return false;
  close_after_ = true;
  x_->request_done = true;
  maybe_finish();
  return true;
}

void ClientConnection::maybe_finish() {
  if (x_->response_done && (x_->request_done || close_after_)) finish_exchange();
}

void ClientConnection::finish_exchange() {
  Exchange& x = *x_;
  upstream_deadline_ms_ = 0;
  client_deadline_ms_ = 0;
  ++attempt_id_;
  release_upstream(x.response_keep_alive && x.request_done && x.response_in.empty());
  record();
  in_.consume(x.unconsumed);
  x.unconsumed = 0;
  if (close_after_ || !x.request_done) {
    close_gracefully();
    return;
  }
  read_request();
}

// ---------------------------------------------------------------- tunnel

void ClientConnection::start_tunnel() {
  Exchange& x = *x_;
  phase_ = Phase::kTunnel;
  client_deadline_ms_ = 0;
  upstream_deadline_ms_ = 0;
  in_.consume(x.unconsumed);
  x.unconsumed = 0;
  record();
  ++attempt_id_;
  // The 101 head first, then both directions independently.
  writing_to_client_ = true;
  client_.async_write(x.response_head, {},
                      [self = shared_from_this()](const error_code& ec, size_t) {
                        self->writing_to_client_ = false;
                        if (self->phase_ != Phase::kTunnel) return;
                        if (ec) {
                          self->close();
                          return;
                        }
                        self->x_->response_head.clear();
                        self->tunnel_write(true);
                        self->tunnel_write(false);
                      });
}

// Writes what is buffered for one direction, or reads more when nothing is.
void ClientConnection::tunnel_write(bool from_client) {
  Exchange& x = *x_;
  IoBuffer& buffer = from_client ? in_ : x.response_in;
  StreamSocket& to = from_client ? x.upstream->socket : client_;
  if (buffer.empty()) {
    tunnel_read(from_client);
    return;
  }
  to.async_write({buffer.data(), buffer.size()}, {},
                 [self = shared_from_this(), from_client](const error_code& ec, size_t n) {
                   if (self->phase_ != Phase::kTunnel) return;
                   if (ec) {
                     self->close();
                     return;
                   }
                   (from_client ? self->in_ : self->x_->response_in).consume(n);
                   self->tunnel_read(from_client);
                 });
}

void ClientConnection::tunnel_read(bool from_client) {
  Exchange& x = *x_;
  IoBuffer& buffer = from_client ? in_ : x.response_in;
  StreamSocket& from = from_client ? client_ : x.upstream->socket;
  if (!buffer.allocated()) buffer = worker_.buffers().take();
  auto [area, room] = buffer.prepare();
  from.async_read_some(area, room,
                       [self = shared_from_this(), from_client](const error_code& ec, size_t n) {
                         if (self->phase_ != Phase::kTunnel) return;
                         if (ec) {
                           self->tunnel_side_done(from_client);
                           return;
                         }
                         (from_client ? self->in_ : self->x_->response_in).commit(n);
                         self->tunnel_write(from_client);
                       });
}

// One side finished sending: pass the half-close on; close when both have.
void ClientConnection::tunnel_side_done(bool from_client) {
  Exchange& x = *x_;
  (from_client ? x.tunnel_client_done : x.tunnel_upstream_done) = true;
  (from_client ? x.upstream->socket : client_).shutdown_send();
  if (x.tunnel_client_done && x.tunnel_upstream_done) close();
}

// ---------------------------------------------------------------- endings

void ClientConnection::upstream_failed(UpstreamFailure failure, const std::string& detail) {
  Exchange& x = *x_;
  ++attempt_id_;
  upstream_deadline_ms_ = 0;
  const PoolConfig& pool = pool_config();
  x.endpoint->record_failure(pool.ejection, worker_.now_ms());
  const bool timeout =
      failure == UpstreamFailure::kConnectTimeout || failure == UpstreamFailure::kTimeout;
  x.failure_status = timeout ? 504 : 502;
  x.error = fmt::format("{}: {}", x.endpoint->address, detail);
  log_warn(
      fmt::format("proxy: event=upstream_failure route={} pool={} endpoint={} attempt={} "
                  "detail={}",
                  snapshot().router.route_name(static_cast<size_t>(x.route)), pool.name,
                  x.endpoint->address, x.attempts, log_value(detail)));
  release_upstream(false);
  // Safe to send again: the upstream never got it (no connection), or it is
  // idempotent and every byte of it is still here.
  const bool never_sent =
      failure == UpstreamFailure::kConnect || failure == UpstreamFailure::kConnectTimeout;
  const bool resendable =
      failure == UpstreamFailure::kClosedBeforeResponse && x.idempotent && x.replayable;
  if (x.attempts <= pool.retries && !writing_to_client_ && (never_sent || resendable)) {
    attempt();
    return;
  }
  if (writing_to_client_) {
    close();
    return;
  }
  reply(x.failure_status, x.error, false);
}

void ClientConnection::abort_mid_response(const std::string& detail) {
  Exchange& x = *x_;
  if (x.endpoint) x.endpoint->record_failure(pool_config().ejection, worker_.now_ms());
  x.error = detail;
  log_warn(fmt::format("proxy: event=aborted route={} pool={} endpoint={} detail={}",
                       snapshot().router.route_name(static_cast<size_t>(x.route)),
                       pool_config().name, x.endpoint ? x.endpoint->address : "",
                       log_value(detail)));
  if (x.status == 0) x.status = 502;
  close();
}

void ClientConnection::reply(int status, std::string_view detail, bool close_client) {
  if (!x_) {
    x_ = std::make_unique<Exchange>();
    x_->snapshot = worker_.snapshot();
    x_->start_us = worker_.now_us();
  }
  Exchange& x = *x_;
  ++attempt_id_;
  upstream_deadline_ms_ = 0;
  release_upstream(false);
  if (writing_to_client_ || x.response_started) {
    close();
    return;
  }
  phase_ = Phase::kReplying;
  x.status = status;
  if (x.error.empty()) x.error = std::string(detail);
  if (close_client || !x.request_done || !x.client_keep_alive) close_after_ = true;
  x.response_head.clear();
  build_error_response(status, detail, close_after_, x.head_request, x.response_head);
  client_deadline_ms_ = worker_.now_ms() + snapshot().config.timeouts.client_idle_ms;
  writing_to_client_ = true;
  client_.async_write(x.response_head, {},
                      [self = shared_from_this()](const error_code& ec, size_t n) {
                        self->writing_to_client_ = false;
                        if (self->phase_ == Phase::kClosed) return;
                        if (ec) {
                          self->close();
                          return;
                        }
                        self->x_->response_bytes = n;
                        self->x_->response_done = true;
                        self->finish_exchange();
                      });
}

void ClientConnection::record() {
  Exchange& x = *x_;
  if (x.recorded) return;
  x.recorded = true;
  // 499: the client went away before an answer (nginx's convention).
  const int status = x.status != 0 ? x.status : 499;
  const int64_t micros = worker_.now_us() - x.start_us;
  x.snapshot->stats_for(x.route, x.pool)->record(status, micros);
  if (AccessLog* log = worker_.access_log()) {
    AccessLogEntry e;
    e.client = client_ip_;
    e.method = x.method;
    e.target = x.target;
    e.host = x.host;
    e.status = status;
    if (x.route >= 0) {
      e.route = snapshot().router.route_name(static_cast<size_t>(x.route));
      e.pool = pool_config().name;
      e.decision = reason_name(x.reason);
    }
    if (!x.tried.empty()) e.endpoint = x.tried.back()->address;
    e.attempts = x.attempts;
    e.response_bytes = x.response_bytes;
    e.duration_us = micros;
    e.error = x.error;
    log->write(e);
  }
}

void ClientConnection::release_upstream(bool reusable) {
  Exchange& x = *x_;
  if (x.endpoint) {
    x.endpoint->active_requests.fetch_sub(1, std::memory_order_relaxed);
    x.endpoint = nullptr;
  }
  worker_.buffers().give(x.response_in);
  if (!x.upstream) return;
  if (reusable && !worker_.draining()) {
    worker_.keep_idle(std::move(x.upstream), pool_config().max_idle_connections);
  } else {
    x.upstream.reset();
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
      case Phase::kExchange:
        if (x_->response_started || writing_to_client_) {
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
    if (phase_ != Phase::kExchange || !x_ || !x_->upstream) return;
    if (!x_->upstream->connected) {
      upstream_failed(UpstreamFailure::kConnectTimeout, "connect timed out");
    } else if (!x_->response_head_parsed) {
      upstream_failed(UpstreamFailure::kTimeout, "no response within response_timeout");
    } else {
      abort_mid_response("upstream stalled mid-response");
    }
  }
}

}  // namespace ferry::proxy
