// After 101 Switching Protocols: bytes both ways, unparsed, until both
// sides have finished sending.
#include <boost/asio/error.hpp>

#include "proxy/client_connection.h"

namespace ferry::proxy {

using error_code = boost::system::error_code;

void ClientConnection::start_tunnel() {
  Exchange& x = *x_;
  phase_ = Phase::kTunnel;
  client_deadline_ms_ = 0;
  upstream_deadline_ms_ = 0;
  in_.consume(x.request.unconsumed);
  x.request.unconsumed = 0;
  record();
  ++attempt_id_;
  // The 101 head first, then both directions independently.
  writing_to_client_ = true;
  client_.async_write(x.response.head, {},
                      [self = shared_from_this()](const error_code& ec, size_t) {
                        self->writing_to_client_ = false;
                        if (self->phase_ != Phase::kTunnel) return;
                        if (ec) {
                          self->close();
                          return;
                        }
                        self->x_->response.head.clear();
                        self->tunnel_write(true);
                        self->tunnel_write(false);
                      });
}

// Writes what is buffered for one direction, or reads more when nothing is.
void ClientConnection::tunnel_write(bool from_client) {
  Exchange& x = *x_;
  IoBuffer& buffer = from_client ? in_ : x.response.in;
  StreamSocket& to = from_client ? x.upstream.connection->socket : client_;
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
                   (from_client ? self->in_ : self->x_->response.in).consume(n);
                   self->tunnel_read(from_client);
                 });
}

void ClientConnection::tunnel_read(bool from_client) {
  Exchange& x = *x_;
  IoBuffer& buffer = from_client ? in_ : x.response.in;
  StreamSocket& from = from_client ? client_ : x.upstream.connection->socket;
  if (!buffer.allocated()) buffer = worker_.buffers().take();
  auto [area, room] = buffer.prepare();
  from.async_read_some(area, room,
                       [self = shared_from_this(), from_client](const error_code& ec, size_t n) {
                         if (self->phase_ != Phase::kTunnel) return;
                         if (ec) {
                           self->tunnel_side_done(from_client);
                           return;
                         }
                         (from_client ? self->in_ : self->x_->response.in).commit(n);
                         self->tunnel_write(from_client);
                       });
}

// One side finished sending: pass the half-close on; close when both have.
void ClientConnection::tunnel_side_done(bool from_client) {
  Exchange& x = *x_;
  (from_client ? x.tunnel.client_done : x.tunnel.upstream_done) = true;
  (from_client ? x.upstream.connection->socket : client_).shutdown_send();
  if (x.tunnel.client_done && x.tunnel.upstream_done) close();
}

}  // namespace ferry::proxy
