#include "proxy/mirror_call.h"

#include <boost/asio/error.hpp>

#include "core/log.h"
#include "proxy/worker.h"

namespace ferry::proxy {

namespace {

using error_code = boost::system::error_code;

constexpr size_t kReadBytes = 16 * 1024;

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
  chunk_.resize(kReadBytes);
  connection_->socket.async_read_some(
      chunk_.data(), chunk_.size(), [weak = weak_from_this()](const error_code& ec, size_t n) {
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
        self->pending_.append(self->chunk_.data(), n);
        self->on_bytes();
      });
}

void MirrorCall::on_bytes() {
  while (!head_parsed_) {
    const ParseResult r =
        parse_response_head(pending_, request_.limits, request_.head_method, response_);
    if (r.state == ParseState::kIncomplete) {
      read();
      return;
    }
    if (r.state == ParseState::kInvalid) {
      fail("a bad answer head: " + std::string(r.reason));
      return;
    }
    const size_t head_bytes = response_.head_bytes;
    if (!response_.is_interim()) {
      // Copied before the bytes the head's views point into go.
      capture_.head(response_);
      cursor_.reset(response_.framing.body, response_.framing.content_length);
      keep_alive_ = response_.framing.keep_alive;
      head_parsed_ = true;
    }
    pending_.erase(0, head_bytes);
  }
  const BodyCursor::Take t = cursor_.take(pending_);
  if (t.invalid) {
    fail(std::string("a bad chunked body: ") + cursor_.reason());
    return;
  }
  if (!capture_.body(std::string_view(pending_).substr(0, t.bytes))) {
    done(capture_.finish(), false);  // too large to compare; the rest is not read
    return;
  }
  pending_.erase(0, t.bytes);
  if (t.done) {
    done(capture_.finish(), keep_alive_ && pending_.empty());
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
  request_.sample->complete(request_.part, std::move(answer));
  worker_.end_mirror(this);  // may free this call: nothing after it
}

}  // namespace ferry::proxy
