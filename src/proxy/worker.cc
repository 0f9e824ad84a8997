#include "proxy/worker.h"

#include <fmt/format.h>
#include <sys/socket.h>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstring>

#include "core/log.h"
#include "proxy/client_connection.h"
#include "proxy/endpoint_choice.h"
#include "proxy/listen_socket.h"
#include "proxy/mirror_call.h"

namespace ferry::proxy {

namespace {

// Deadlines are checked this often; timeouts are accurate to about this much.
constexpr int64_t kSweepIntervalMs = 50;
// Kept-alive upstream connections unused this long are closed: upstreams
// commonly drop idle connections after 5 to 75 s, and one that closes while
// this proxy starts to reuse it costs a retry (or a 502 for a request that
// cannot be retried).
constexpr int64_t kUpstreamIdleMs = 4000;

using tcp_endpoint = boost::asio::ip::tcp::endpoint;

}  // namespace

UpstreamConnection::UpstreamConnection(EventLoop& loop, std::shared_ptr<EndpointState> e)
    : socket(loop), endpoint(std::move(e)) {}

UpstreamConnection::~UpstreamConnection() {
  if (connected) endpoint->open_connections.fetch_sub(1, std::memory_order_relaxed);
}

Worker::Worker(ProxyState& state, AccessLog* access_log, int index)
    : state_(state),
      access_log_(access_log),
      index_(index),
      snapshot_(state.snapshot()),
      rng_(std::random_device{}() ^ static_cast<uint64_t>(index)) {
  round_robin_.assign(snapshot_->config.pools.size(), static_cast<uint32_t>(index));
}

Worker::~Worker() {
  // While the members that connections use on their way out still exist.
  held_.clear();
  mirrors_.clear();
  drop_idle();
  loop_.discard_pending();
}

void Worker::drop_idle() {
  // Through the connections: a key whose list is empty may name an endpoint
  // a reload has freed.
  for (auto& [endpoint, list] : idle_) {
    for (auto& up : list) up->endpoint->idle_connections.fetch_sub(1, std::memory_order_relaxed);
  }
  idle_.clear();
}

Result<void> Worker::listen(const HostPort& address) {
  if (auto ok = loop_.open(); !ok) return ok;
  if (index_ == 0 && address.port != 0) {
    // SO_REUSEPORT would let a second proxy share the port silently and take
    // half the connections; a plain bind first fails if anyone holds it.
    if (auto probe = open_listener(address, "0.0.0.0", "listen", false); !probe) {
      probe.error().message += " (is another proxy running?)";
      return tl::unexpected(probe.error());
    }
  }
  auto listener = open_listener(address, "0.0.0.0", "listen", true);
  if (!listener) return tl::unexpected(listener.error());
  listener_ = std::move(*listener);
  if (const auto ec = loop_.add(listener_.fd.get(), this, listener_registration_)) {
    return fail(ErrorCode::kIo,
                fmt::format("listen on {}: epoll_ctl: {}", address.text, ec.message()));
  }
  return {};
}

uint16_t Worker::bound_port() const {
  tcp_endpoint local;
  socklen_t length = static_cast<socklen_t>(local.capacity());
  if (::getsockname(listener_.fd.get(), local.data(), &length) != 0) return 0;
  local.resize(length);
  return local.port();
}

void Worker::run() {
  accept_all();
  sweep();
  loop_.run();
}

void Worker::on_events(uint32_t) {
  if (!accept_paused_) accept_all();
}

void Worker::accept_all() {
  // Edge-triggered: every connection waiting is taken now, or no new event
  // comes for them.
  while (listener_.fd.get() >= 0) {
    tcp_endpoint client;
    socklen_t length = static_cast<socklen_t>(client.capacity());
    const int fd =
        ::accept4(listener_.fd.get(), client.data(), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR || errno == ECONNABORTED) continue;
      // EMFILE and friends: log, pause briefly so the loop does not spin, go on.
      log_warn(fmt::format("proxy: event=accept_failed worker={} detail={}", index_,
                           log_value(std::strerror(errno))));
      accept_paused_ = true;
      loop_.run_after(kSweepIntervalMs, [this] {
        accept_paused_ = false;
        accept_all();
      });
      return;
    }
    state_.accepted_connections.fetch_add(1, std::memory_order_relaxed);
    client.resize(length);
    std::make_shared<ClientConnection>(*this, fd, client.address().to_string())->start();
  }
}

void Worker::close_listener() {
  if (listener_.fd.get() < 0) return;
  loop_.remove(listener_registration_);
  listener_.fd.reset();
}

void Worker::shutdown(int64_t grace_ms) {
  loop_.post([this, grace_ms] {
    close_listener();
    draining_ = true;
    drain_deadline_ms_ = now_ms() + grace_ms;
    std::vector<std::shared_ptr<ClientConnection>> all;
    for (ClientConnection* c : connections_) all.push_back(c->shared_from_this());
    for (auto& c : all) c->drain();
    // Mirrored requests are samples, not anyone's answer: not waited for.
    mirrors_.clear();
    drop_idle();
  });
}

void Worker::start_mirror(std::shared_ptr<MirrorCall> call) {
  if (draining_) return;
  MirrorCall* key = call.get();
  mirrors_.emplace(key, std::move(call));
  key->start();
}

void Worker::end_mirror(MirrorCall* call) { mirrors_.erase(call); }

void Worker::sweep() {
  loop_.run_after(kSweepIntervalMs, [this] {
    const int64_t now = now_ms();
    // Shared pointers first: acting on a deadline may end a connection.
    const bool cut_off = draining_ && now >= drain_deadline_ms_;
    std::vector<std::shared_ptr<ClientConnection>> due;
    for (ClientConnection* c : connections_) {
      if (cut_off || c->past_deadline(now)) due.push_back(c->shared_from_this());
    }
    for (auto& c : due) {
      if (cut_off) {
        c->terminate();  // what the shutdown grace period did not finish
      } else {
        c->check_deadlines(now);
      }
    }
    std::vector<std::shared_ptr<MirrorCall>> late;
    for (const auto& [key, call] : mirrors_) {
      if (call->past_deadline(now)) late.push_back(call);
    }
    for (auto& call : late) call->time_out();
    for (auto it = idle_.begin(); it != idle_.end();) {
      auto& list = it->second;
      std::erase_if(list, [now](const auto& up) {
        if (now - up->idle_since_ms <= kUpstreamIdleMs) return false;
        // Before the erase: the connection may hold the endpoint's last reference.
        up->endpoint->idle_connections.fetch_sub(1, std::memory_order_relaxed);
        return true;
      });
      it = list.empty() ? idle_.erase(it) : std::next(it);
    }
    if (draining_ && connections_.empty()) {
      loop_.stop();  // nothing left: run() returns
      return;
    }
    sweep();
  });
}

const std::shared_ptr<const RoutingSnapshot>& Worker::snapshot() {
  if (snapshot_->generation != state_.generation()) {
    snapshot_ = state_.snapshot();
    round_robin_.assign(snapshot_->config.pools.size(), static_cast<uint32_t>(index_));
  }
  return snapshot_;
}

int Worker::pick_endpoint(const RoutingSnapshot& snap, int pool,
                          std::span<EndpointState* const> tried, int64_t now_ms) {
  const size_t p = static_cast<size_t>(pool);
  // A request in flight may hold an older snapshot than the worker's.
  const uint32_t start = p < round_robin_.size() ? round_robin_[p]++ : 0;
  return choose_endpoint(snap.endpoints[p], tried, snap.config.pools[p].balance, start, now_ms);
}

std::unique_ptr<UpstreamConnection> Worker::take_idle(EndpointState* endpoint, bool ask_kernel) {
  auto it = idle_.find(endpoint);
  if (it == idle_.end()) return nullptr;
  auto& list = it->second;
  while (!list.empty()) {
    std::unique_ptr<UpstreamConnection> up = std::move(list.back());
    list.pop_back();
    endpoint->idle_connections.fetch_sub(1, std::memory_order_relaxed);
    // Input while idle: closed by the upstream (its watch has not run yet),
    // or it said something unasked. Either way not reusable.
    if (!up->socket.input_pending(ask_kernel)) {
      up->socket.cancel_wait_read();
      return up;
    }
  }
  return nullptr;
}

void Worker::keep_idle(std::unique_ptr<UpstreamConnection> connection, int max_idle) {
  auto& list = idle_[connection->endpoint.get()];
  // A write still going (the upstream answered before reading the whole
  // request) would go on sending from a buffer the next request reuses.
  if (static_cast<int>(list.size()) >= max_idle || draining_ || connection->socket.writing() ||
      connection->socket.input_pending(false)) {
    return;
  }
  connection->idle_since_ms = now_ms();
  connection->endpoint->idle_connections.fetch_add(1, std::memory_order_relaxed);
  // The watch may run after the connection was taken and freed: it finds
  // it by address only, never through the pointers it holds.
  watch_idle(*connection);
  list.push_back(std::move(connection));
}

void Worker::watch_idle(UpstreamConnection& connection) {
  connection.socket.async_wait_read(
      [this, endpoint = connection.endpoint.get(), watched = &connection](
          const boost::system::error_code& ec, size_t) {
        if (ec == boost::asio::error::operation_aborted) return;
        auto it = idle_.find(endpoint);
        if (it == idle_.end()) return;
        auto& list = it->second;
        const auto found = std::find_if(list.begin(), list.end(),
                                        [watched](const auto& up) { return up.get() == watched; });
        if (found == list.end()) return;
        // Before the erase: the connection may hold the endpoint's last reference.
        endpoint->idle_connections.fetch_sub(1, std::memory_order_relaxed);
        list.erase(found);
        if (list.empty()) idle_.erase(it);
      });
}

std::list<std::shared_ptr<ClientConnection>>::iterator Worker::hold(
    std::shared_ptr<ClientConnection> c) {
  return held_.insert(held_.end(), std::move(c));
}

void Worker::unhold(std::list<std::shared_ptr<ClientConnection>>::iterator it) { held_.erase(it); }

void Worker::release(std::shared_ptr<RouteHold> hold, EventLoop::Task done) {
  loop_.post([this, hold = std::move(hold), done = std::move(done)] {
    // Shared pointers first: a released request leaves held_ as it goes on.
    std::vector<std::shared_ptr<ClientConnection>> waiting;
    for (const auto& c : held_) {
      if (c->held_in() == hold.get()) waiting.push_back(c);
    }
    for (auto& c : waiting) c->release_hold();
    done();
  });
}

std::list<ClientConnection*>::iterator Worker::track(ClientConnection* c) {
  state_.open_client_connections.fetch_add(1, std::memory_order_relaxed);
  return connections_.insert(connections_.end(), c);
}

void Worker::untrack(std::list<ClientConnection*>::iterator it) {
  state_.open_client_connections.fetch_sub(1, std::memory_order_relaxed);
  connections_.erase(it);
}

}  // namespace ferry::proxy
