// The answer on its way to the client: the upstream's response read, 1xx
// relayed, the head rewritten, the body written as it arrives, and the
// exchange ended when both directions are done.
#include <boost/asio/error.hpp>

#include "proxy/client_connection.h"
#include "proxy/message_rewrite.h"

namespace ferry::proxy {

namespace {

using error_code = boost::system::error_code;
namespace asio = boost::asio;

// A response body up to this size is copied behind its head and sent with it.
constexpr size_t kCoalesceBytes = 4096;

}  // namespace

void ClientConnection::read_response() {
  Exchange& x = *x_;
  if (!x.response.in.allocated()) x.response.in = worker_.buffers().take();
  if (!x.response.head_parsed && x.response.in.full() &&
      x.response.in.capacity() < snapshot().config.limits.max_head_bytes) {
    x.response.in.grow(
        std::min(snapshot().config.limits.max_head_bytes, x.response.in.capacity() * 2));
  }
  auto [area, room] = x.response.in.prepare();
  x.upstream.connection->socket.async_read_some(
      area, room, [self = shared_from_this(), id = attempt_id_](const error_code& ec, size_t n) {
        if (!self->current(id)) return;
        Exchange& ex = *self->x_;
        if (ec) {
          if (ex.response.head_parsed && ex.response.body.framing() == BodyFraming::kUntilClose &&
              ec == asio::error::eof) {
            ex.response.keep_alive = false;
            ex.response.done = true;
            self->upstream_deadline_ms_ = 0;
            self->maybe_finish();
          } else if (ex.response.started) {
            self->abort_mid_response(ec == asio::error::eof
                                         ? "upstream closed the connection mid-response"
                                         : "reading the response: " + ec.message());
          } else if (ex.response.in.empty()) {
            self->upstream_failed(UpstreamFailure::kClosedBeforeResponse,
                                  ec == asio::error::eof ? "upstream closed the connection "
                                                           "without responding"
                                                         : "reading the response: " + ec.message());
          } else {
            self->upstream_failed(UpstreamFailure::kBadResponse, "upstream closed mid-head");
          }
          return;
        }
        ex.response.in.commit(n);
        self->arm_response_timeout();
        self->on_response_bytes();
      });
}

void ClientConnection::on_response_bytes() {
  Exchange& x = *x_;
  if (!x.response.head_parsed) {
    ResponseHead& head = worker_.response_scratch();
    const ParseResult r = parse_response_head(x.response.in.readable(), snapshot().config.limits,
                                              x.request.head_method, head);
    if (r.state == ParseState::kIncomplete) {
      read_response();
      return;
    }
    if (r.state == ParseState::kInvalid) {
      upstream_failed(UpstreamFailure::kBadResponse, std::string(r.reason));
      return;
    }
    if (head.is_interim()) {
      if (head.status == 101 && x.request.upgrade) {
        x.response.status = 101;
        build_client_response(head, x.request.minor_version, false, x.response.head);
        x.response.in.consume(head.head_bytes);
        x.upstream.endpoint->record_success();
        breaker_outcome(false);
        start_tunnel();
        return;
      }
      // 100 Continue (and other 1xx) go to HTTP/1.1 clients as they came.
      x.response.head.clear();
      if (x.request.minor_version == 1 && head.status != 101) {
        build_client_response(head, 1, false, x.response.head);
      }
      x.response.in.consume(head.head_bytes);
      if (x.response.head.empty()) {
        on_response_bytes();
        return;
      }
      start_client_write();
      client_.async_write(
          x.response.head, {},
          [self = shared_from_this(), id = attempt_id_](const error_code& ec, size_t) {
            self->end_client_write();
            if (!self->current(id)) return;
            if (ec) {
              self->close();
              return;
            }
            self->x_->response.head.clear();
            self->arm_response_timeout();
            if (self->x_->response.in.empty()) {
              self->read_response();
            } else {
              self->on_response_bytes();
            }
          });
      return;
    }
    x.response.head_parsed = true;
    x.response.status = head.status;
    x.response.keep_alive = head.framing.keep_alive;
    x.response.body.reset(head.framing.body, head.framing.content_length);
    if (head.status >= 500) {
      x.upstream.endpoint->record_failure(pool_config().ejection, worker_.now_ms());
    } else {
      x.upstream.endpoint->record_success();
    }
    breaker_outcome(head.status >= 500);
    // The client is closed after this response when it asked to be, when the
    // request body is still arriving (an early answer; the rest is not read),
    // when the body runs until the upstream closes, or when shutting down.
    if (!x.request.keep_alive || !x.request.done || head.framing.body == BodyFraming::kUntilClose ||
        worker_.draining()) {
      close_after_ = true;
    }
    build_client_response(head, x.request.minor_version, close_after_, x.response.head);
    if (x.mirror.primary) x.mirror.primary->head(head);
    x.response.in.consume(head.head_bytes);
  }
  const BodyCursor::Take t = x.response.body.take(x.response.in.readable());
  if (t.invalid) {
    if (!x.response.started) {
      upstream_failed(UpstreamFailure::kBadResponse, x.response.body.reason());
    } else {
      abort_mid_response(std::string("upstream sent a bad chunked body: ") +
                         x.response.body.reason());
    }
    return;
  }
  if (t.bytes == 0 && !t.done && x.response.head.empty()) {
    read_response();
    return;
  }
  write_to_client(t.bytes, t.done);
}

void ClientConnection::arm_response_timeout() {
  // After a 100 Continue the client is still uploading: that is timed by
  // timeouts.client_body, and the response timeout starts when the request
  // is done (or once the upstream has answered early).
  upstream_deadline_ms_ = x_->request.done || x_->response.head_parsed
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
  x.response.started = true;
  std::string_view body(x.response.in.data(), body_bytes);
  if (x.mirror.primary) x.mirror.primary->body(body);
  if (!x.response.head.empty() && body.size() <= kCoalesceBytes) {
    // One send instead of a gather of two: cheaper in the kernel (perf).
    x.response.head.append(body);
    body = {};
  }
  start_client_write();
  client_.async_write(x.response.head, body,
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
                        ex.response.bytes += body_bytes;
                        ex.response.head.clear();
                        ex.response.in.consume(body_bytes);
                        if (done) {
                          ex.response.done = true;
                          self->maybe_finish();
                        } else {
                          self->arm_response_timeout();
                          self->read_response();
                        }
                      });
}

bool ClientConnection::answer_stands() {
  if (!x_->response.head_parsed) return false;
  close_after_ = true;
  x_->request.done = true;
  maybe_finish();
  return true;
}

void ClientConnection::maybe_finish() {
  if (x_->response.done && (x_->request.done || close_after_)) finish_exchange();
}

void ClientConnection::finish_exchange() {
  Exchange& x = *x_;
  upstream_deadline_ms_ = 0;
  client_deadline_ms_ = 0;
  ++attempt_id_;
  release_upstream(x.response.keep_alive && x.request.done && x.response.in.empty());
  record();
  // The client has the whole answer: only now may the comparison cost time.
  if (x.mirror.primary && x.response.head_parsed && x.pool == x.mirror.sampled_pool) {
    x.mirror.sample->complete(ParallelRunSample::Part::kPrimary, x.mirror.primary->finish());
  }
  in_.consume(x.request.unconsumed);
  x.request.unconsumed = 0;
  if (close_after_ || !x.request.done) {
    close_gracefully();
    return;
  }
  read_request();
}

}  // namespace ferry::proxy
