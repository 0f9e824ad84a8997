// One event loop on one thread: its own listening socket (SO_REUSEPORT, so
// the kernel spreads new connections over the workers), its client
// connections, its kept-alive upstream connections, its buffer pool. Nothing
// here is shared with other workers except ProxyState, so the data path takes
// no locks.
#pragma once

#include <list>
#include <memory>
#include <random>
#include <span>
#include <unordered_map>
#include <vector>

#include "proxy/access_log.h"
#include "proxy/event_loop.h"
#include "proxy/http_head.h"
#include "proxy/io_buffer.h"
#include "proxy/listen_socket.h"
#include "proxy/proxy_state.h"
#include "proxy/stream_socket.h"

namespace ferry::proxy {

class ClientConnection;
class MirrorCall;

// A connection to an upstream endpoint, in use by one exchange or kept idle.
struct UpstreamConnection {
  UpstreamConnection(EventLoop& loop, std::shared_ptr<EndpointState> e);
  ~UpstreamConnection();
  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;

  StreamSocket socket;
  std::shared_ptr<EndpointState> endpoint;
  bool connected = false;
  int64_t idle_since_ms = 0;
};

class Worker final : public EventHandler {
 public:
  Worker(ProxyState& state, AccessLog* access_log, int index);
  ~Worker();

  EventLoop& loop() { return loop_; }
  int64_t now_ms() const { return loop_.now_ms(); }
  int64_t now_us() const { return loop_.now_us(); }
  // Binds and listens; run() then accepts.
  Result<void> listen(const HostPort& address);
  // The bound port (for `listen: :0` in tests).
  uint16_t bound_port() const;
  void run();
  // From any thread: stop accepting, let each connection finish its current
  // exchange, and close them all once `grace_ms` has passed.
  void shutdown(int64_t grace_ms);

  // The newest snapshot; a worker picks up reloads between requests.
  const std::shared_ptr<const RoutingSnapshot>& snapshot();
  BufferPool& buffers() { return buffers_; }
  AccessLog* access_log() { return access_log_; }
  RequestHead& request_scratch() { return request_scratch_; }
  ResponseHead& response_scratch() { return response_scratch_; }
  uint64_t random() { return rng_(); }
  bool draining() const { return draining_; }

  // An endpoint of `pool` that is available and not in `tried`, by the
  // pool's balancing (choose_endpoint, with this worker's rotation); -1 when
  // there is none.
  int pick_endpoint(const RoutingSnapshot& snapshot, int pool,
                    std::span<EndpointState* const> tried, int64_t now_ms);
  // A kept-alive connection to the endpoint that is still open, or nullptr.
  // With `ask_kernel` (for a request that cannot be retried) the kernel is
  // asked too, in case the upstream closed it since the last batch of events.
  std::unique_ptr<UpstreamConnection> take_idle(EndpointState* endpoint, bool ask_kernel);
  // Keeps `connection` for reuse, watching it: one the upstream closes (or
  // that receives anything unasked) is dropped at once.
  void keep_idle(std::unique_ptr<UpstreamConnection> connection, int max_idle);

  // A parallel run's mirrored request (mirror_call.h): the worker owns it
  // while it is in flight, ends it at its deadline, and drops it at shutdown.
  void start_mirror(std::shared_ptr<MirrorCall> call);
  void end_mirror(MirrorCall* call);

  // Connections whose request waits in a route's hold
  // (client_connection_hold.cc), in the order they arrived. The worker
  // keeps them alive: nothing else does while their client sends nothing.
  std::list<std::shared_ptr<ClientConnection>>::iterator hold(std::shared_ptr<ClientConnection> c);
  void unhold(std::list<std::shared_ptr<ClientConnection>>::iterator it);
  // From any thread (the control thread, after it published a snapshot
  // without `hold`): every request of this worker waiting in `hold` goes on,
  // in arrival order, each routed with the newest snapshot; then `done`
  // runs, on this worker's thread.
  void release(std::shared_ptr<RouteHold> hold, EventLoop::Task done);
  size_t index() const { return static_cast<size_t>(index_); }

  // Connections register so the sweep can enforce their deadlines.
  std::list<ClientConnection*>::iterator track(ClientConnection* c);
  void untrack(std::list<ClientConnection*>::iterator it);

 private:
  // New connections on the listening socket.
  void on_events(uint32_t events) override;
  void accept_all();
  void close_listener();
  void sweep();
  // Drops an idle connection as soon as it becomes readable.
  void watch_idle(UpstreamConnection& connection);
  void drop_idle();

  ProxyState& state_;
  AccessLog* access_log_;
  int index_;
  // Before the members that own sockets: closing one queues its completions here.
  EventLoop loop_;
  ListenSocket listener_;
  uint64_t listener_registration_ = 0;
  bool accept_paused_ = false;
  std::shared_ptr<const RoutingSnapshot> snapshot_;
  std::vector<uint32_t> round_robin_;  // per pool of the current snapshot
  BufferPool buffers_;
  RequestHead request_scratch_;
  ResponseHead response_scratch_;
  std::mt19937_64 rng_;
  std::unordered_map<EndpointState*, std::vector<std::unique_ptr<UpstreamConnection>>> idle_;
  std::list<ClientConnection*> connections_;
  // After connections_: destroyed first, as their connections leave connections_.
  std::list<std::shared_ptr<ClientConnection>> held_;
  std::unordered_map<MirrorCall*, std::shared_ptr<MirrorCall>> mirrors_;
  bool draining_ = false;
  int64_t drain_deadline_ms_ = 0;
};

}  // namespace ferry::proxy
