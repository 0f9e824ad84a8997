#include "proxy/mirror_call.h"

#include <algorithm>
#include <boost/asio/error.hpp>

#include "core/log.h"
#include "proxy/worker.h"

namespace ferry::proxy {

namespace {

using error_code = boost::system::error_code;

}  // namespace

MirrorCall::MirrorCall(Worker& worker, MirrorRequest request)
    : worker_(worker),
      request_(std::move(request)),
      capture_(request_.sample->config().max_body_bytes) {}

MirrorCall::~MirrorCall() = default;

void MirrorCall::start() {
  // A kept-alive connection the upstream may have closed since: the request
  // is not sent again if it fails, so the kernel is asked.
  connection_ = worker_.take_idle(request_.endpoint.get(), true);
  if (connection_) {
    send();
  } else {
    connect();
  }
}

void MirrorCall::connect() {
  connection_ = std::make_unique<UpstreamConnection>(worker_.loop(), request_.endpoint);
  const EndpointState& e = *request_.endpoint;
  connection_->socket.async_connect(reinterpret_cast<const sockaddr*>(&e.sockaddr), e.sockaddr_len,
                                    [weak = weak_from_this()](const error_code& ec, size_t) {
                                      auto self = weak.lock();
                                      if (!self || self->ended_) return;
                                      if (ec) {
                                        self->fail("connect: " + ec.message());
                                        return;
                                      }
                                      self->connection_->socket.set_no_delay();
                                      self->connection_->connected = true;
                                      self->connection_->endpoint->open_connections.fetch_add(
                                          1, std::memory_order_relaxed);
                                      self->send();
                                    });
}

void MirrorCall::send() {
  connection_->socket.async_write(*request_.head, *request_.body,
                                  [weak = weak_from_this()](const error_code& ec, size_t) {
                                    auto self = weak.lock();
                                    if (!self || self->ended_) return;
                                    if (ec) self->fail("sending the request: " + ec.message());
                                  });
  read();
}

void MirrorCall::read() {
  if (!in_.allocated()) in_ = worker_.buffers().take();
  if (!head_parsed_ && in_.full() && in_.capacity() < request_.limits.max_head_bytes) {
    in_.grow(std::min(request_.limits.max_head_bytes, in_.capacity() * 2));
  }
  auto [area, room] = in_.prepare();
  if (room == 0) {
    fail("the answer head is larger than limits.head_bytes");
    return;
  }
  connection_->socket.async_read_some(
      area, room, [weak = weak_from_this()](const error_code& ec, size_t n) {
        auto self = weak.lock();
        if (!self || self->ended_) return;
        if (ec == boost::asio::error::eof && self->head_parsed_ &&
            self->cursor_.framing() == BodyFraming::kUntilClose) {
          self->done(self->capture_.finish(), false);
          return;
        }
        if (ec) {
          self->fail(ec == boost::asio::error::eof ? "the mirror closed the connection mid-answer"
                                                   : "reading the answer: " + ec.message());
          return;
        }
        self->in_.commit(n);
        self->on_bytes();
      });
}

void MirrorCall::on_bytes() {
  while (!head_parsed_) {
    const ParseResult r =
        parse_response_head(in_.readable(), request_.limits, request_.head_method, response_);
    if (r.state == ParseState::kIncomplete) {
      read();
      return;
    }
    if (r.state == ParseState::kInvalid) {
      fail("a bad answer head: " + std::string(r.reason));
      return;
    }
    if (!response_.is_interim()) {
      // Copied before the bytes the head's views point into go.
      capture_.head(response_);
      cursor_.reset(response_.framing.body, response_.framing.content_length);
      keep_alive_ = response_.framing.keep_alive;
      head_parsed_ = true;
    }
    in_.consume(response_.head_bytes);
  }
  const BodyCursor::Take t = cursor_.take(in_.readable());
  if (t.invalid) {
    fail(std::string("a bad chunked body: ") + cursor_.reason());
    return;
  }
  if (!capture_.body(in_.readable().substr(0, t.bytes))) {
    done(capture_.finish(), false);  // too large to compare; the rest is not read
    return;
  }
  in_.consume(t.bytes);
  if (t.done) {
    done(capture_.finish(), keep_alive_ && in_.empty());
  } else {
    read();
  }
}

void MirrorCall::fail(const std::string& detail) {
  CapturedAnswer failed;
  failed.outcome = CapturedAnswer::Outcome::kFailed;
  failed.error = request_.endpoint->address + ": " + detail;
  log_debug("proxy: event=mirror_failed endpoint=" + request_.endpoint->address +
            " detail=" + log_value(detail));
  done(std::move(failed), false);
}

void MirrorCall::done(CapturedAnswer answer, bool reusable) {
  if (ended_) return;
  ended_ = true;
  if (reusable && !connection_->socket.writing()) {
    worker_.keep_idle(std::move(connection_), request_.max_idle);
  }
  connection_.reset();
  worker_.buffers().give(in_);
  request_.sample->complete(request_.part, std::move(answer));
  worker_.end_mirror(this);  // may free this call: nothing after it
}

}  // namespace ferry::proxy
