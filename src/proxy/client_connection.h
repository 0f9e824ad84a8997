// One client connection and the exchanges on it, one request at a time
// (pipelined requests wait in the buffer and are answered in order):
//
//   read head -> route -> pick endpoint -> connect or reuse -> send head and
//   body -> relay 1xx -> relay response head and body -> keep alive or close
//
// The request body (client -> upstream) and the response (upstream -> client)
// are pumped concurrently, so `Expect: 100-continue` and early responses
// work; neither body is ever held whole. A 101 answer to an Upgrade turns the
// connection into a two-way tunnel (WebSocket).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>

#include "proxy/exchange.h"
#include "proxy/retry_decision.h"
#include "proxy/worker.h"

namespace ferry::proxy {

class ClientConnection : public std::enable_shared_from_this<ClientConnection> {
 public:
  // Takes the accepted, non-blocking descriptor `fd`.
  ClientConnection(Worker& worker, int fd, std::string client_ip);
  ~ClientConnection();
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  void start();
  // From the worker's sweep: acts on expired deadlines.
  void check_deadlines(int64_t now_ms);
  // The worker is shutting down: close now when idle, otherwise after the
  // current exchange.
  void drain();
  bool past_deadline(int64_t now_ms) const;
  // Closes at once, whatever is in flight.
  void terminate() { close(); }

 private:
  enum class Phase {
    kIdle,         // waiting for a request, no bytes of it yet
    kReadingHead,  // part of a head has arrived
    kExchange,     // a request is being forwarded and answered
    kReplying,     // writing a response the proxy made itself
    kTunnel,       // after 101 Switching Protocols
    kLingering,    // response sent, write side shut; discarding what the client still sends
    kClosed,
  };
  enum class ReadStatus { kData, kWouldBlock, kClosed };

  // --- reading requests (client_connection.cc)
  void read_request();
  void wait_for_client(void (ClientConnection::*next)());
  void on_head_readable();
  ReadStatus fill(StreamSocket& socket, IoBuffer& buffer, size_t max_capacity);
  void handle_head();

  // --- the request upstream (client_connection_upstream.cc)
  void start_exchange(RequestHead& head);
  // Asks the pool's circuit breaker (then its fallback's, and so on) whether
  // the next attempt may go there; false when the request was answered 503.
  bool admit_to_pool();
  // Reports the current attempt's outcome to its pool's breaker, once.
  void breaker_outcome(bool failure);
  void attempt();
  void connect_upstream(const std::shared_ptr<EndpointState>& endpoint);
  void send_request();
  void pump_request_body();
  void on_request_body_readable();
  // Retries the request elsewhere when decide_retry says so; answers or closes otherwise.
  void upstream_failed(UpstreamFailure failure, const std::string& detail);

  // --- the parallel run (client_connection_mirror.cc)
  // Samples the request for the route's mirror and copies what of it has
  // arrived; the body's rest follows through mirror_request_body.
  void sample_for_mirror(const RequestHead& head, const RouteDecision& decision);
  // Body bytes as forwarded to the primary; `done` at the body's end.
  void mirror_request_body(std::string_view bytes, bool done);
  // Sends the sampled request to the mirror (and noise) pool, once it is whole.
  void send_mirror();
  void launch_mirror_call(int pool, ParallelRunSample::Part part);

  // --- the response (client_connection_response.cc)
  void read_response();
  void on_response_bytes();
  void write_to_client(size_t body_bytes, bool done);
  // Around every write of an upstream's response (or interim response) to
  // the client: timeouts.client_send runs instead of response_timeout.
  void start_client_write();
  void end_client_write();
  // Starts the response timeout, or leaves it off while the client is still
  // sending the request (timeouts.client_body covers that).
  void arm_response_timeout();
  // A write to the upstream failed: if it had already answered (and stopped
  // reading), the answer stands and the rest of the request is dropped.
  bool answer_stands();
  void maybe_finish();
  void finish_exchange();

  // --- upgrade tunnel, WebSocket (client_connection_tunnel.cc)
  void start_tunnel();
  void tunnel_read(bool from_client);
  void tunnel_write(bool from_client);
  void tunnel_side_done(bool from_client);

  // --- failures and endings (client_connection.cc)
  void abort_mid_response(const std::string& detail);
  // `retry_after_s` > 0 adds Retry-After.
  void reply(int status, std::string_view detail, bool close, int64_t retry_after_s = 0);
  void record();
  void release_upstream(bool reusable);
  void close_gracefully();
  void on_lingering_readable();
  void close();

  const RoutingSnapshot& snapshot() const { return *x_->snapshot; }
  const PoolConfig& pool_config() const;
  bool current(uint64_t attempt_id) const {
    return phase_ != Phase::kClosed && attempt_id == attempt_id_;
  }

  Worker& worker_;
  StreamSocket client_;
  std::list<ClientConnection*>::iterator tracked_;
  std::string client_ip_;
  IoBuffer in_;
  Phase phase_ = Phase::kIdle;
  int64_t client_deadline_ms_ = 0;    // head, idle or body read; 0 = none
  int64_t upstream_deadline_ms_ = 0;  // connect or response; 0 = none
  int64_t send_deadline_ms_ = 0;      // a response piece accepted by the client; 0 = none
  bool close_after_ = false;
  bool writing_to_client_ = false;

  // The current exchange (exchange.h).
  std::unique_ptr<Exchange> x_;  // only while a request is in hand
  uint64_t attempt_id_ = 0;      // bumped to orphan callbacks of an abandoned attempt
};

}  // namespace ferry::proxy
