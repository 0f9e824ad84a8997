// One client connection and the exchanges on it, one request at a time
// (pipelined requests wait in the buffer and are answered in order):
//
//   read head -> route -> pick endpoint -> connect or reuse -> send head and
//   body -> relay 1xx -> relay response head and body -> keep alive or close
//
// The request body (client -> upstream) and the response (upstream -> client)
// are pumped concurrently, so `Expect: 100-continue` and early responses
// work; neither body is ever held whole. A 101 answer to an Upgrade turns the
// connection into a two-way tunnel (WebSocket). While its route is held
// (route_hold.h) a request waits between `route` and the rest, untouched in
// the read buffer, and is routed again when the hold is released.
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
  // The hold the request in hand waits in, or null.
  const RouteHold* held_in() const { return hold_.get(); }
  // From the worker, when that hold is released: the request goes on,
  // routed with the newest snapshot, as if it had just arrived.
  void release_hold();

 private:
  enum class Phase {
    kIdle,         // waiting for a request, no bytes of it yet
    kReadingHead,  // part of a head has arrived
    kHeld,         // a request waits in its route's hold, not forwarded yet
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
  // `start_us`: when the head arrived (earlier than now for a request that
  // was held); `held_ms`: how long it was held, -1 when it was not.
  void start_exchange(RequestHead& head, int64_t start_us, int64_t held_ms = -1);
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

  // --- holding a request while its route is held (client_connection_hold.cc)
  // Holds the request in hand when its route is held: nothing of it is
  // consumed or forwarded. False when the route is not held.
  bool hold_request();
  // While held: notices a client that closes (reading what it sends on into
  // the buffer, behind the held request, while there is room).
  void watch_held_client();
  void on_held_readable();
  // The request leaves the hold: counted in it, its wait recorded.
  void leave_hold(HoldOutcome outcome);
  // Answers a held request 503 with Retry-After (it was never sent upstream,
  // so the client may safely send it again).
  void answer_held(std::string_view why);

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

  // The hold the request in hand waits in (client_connection_hold.cc).
  std::shared_ptr<RouteHold> hold_;  // null when not held
  int64_t held_at_ms_ = 0;
  std::list<std::shared_ptr<ClientConnection>>::iterator held_entry_;  // in the worker's list

  // The current exchange (exchange.h).
  std::unique_ptr<Exchange> x_;  // only while a request is in hand
  uint64_t attempt_id_ = 0;      // bumped to orphan callbacks of an abandoned attempt
};

}  // namespace ferry::proxy
