#include "proxy/worker.h"

#include <fmt/format.h>
#include <sys/socket.h>

#include <boost/asio/post.hpp>
#include <chrono>

#include "core/log.h"
#include "proxy/client_connection.h"
#include "proxy/listen_socket.h"

namespace ferry::proxy {

namespace {

using error_code = boost::system::error_code;

// Deadlines are checked this often; timeouts are accurate to about this much.
constexpr auto kSweepInterval = std::chrono::milliseconds(50);
// Kept-alive upstream connections unused this long are closed: upstreams
// commonly drop idle connections after 5 to 75 s, and a connection closed by
// the upstream is only noticed when it is next used.
constexpr int64_t kUpstreamIdleMs = 4000;

}  // namespace

UpstreamConnection::UpstreamConnection(asio::io_context& io, std::shared_ptr<EndpointState> e)
    : socket(io), endpoint(std::move(e)) {}

UpstreamConnection::~UpstreamConnection() {
  if (connected) endpoint->open_connections.fetch_sub(1, std::memory_order_relaxed);
}

Worker::Worker(ProxyState& state, AccessLog* access_log, int index)
    : state_(state),
      access_log_(access_log),
      index_(index),
      io_(1),
      acceptor_(io_),
      sweep_timer_(io_),
      snapshot_(state.snapshot()),
      rng_(std::random_device{}() ^ static_cast<uint64_t>(index)) {
  round_robin_.assign(snapshot_->config.pools.size(), static_cast<uint32_t>(index));
}

Worker::~Worker() { drop_idle(); }

void Worker::drop_idle() {
  for (auto& [endpoint, list] : idle_) {
    endpoint->idle_connections.fetch_sub(static_cast<int64_t>(list.size()),
                                         std::memory_order_relaxed);
  }
  idle_.clear();
}

Result<void> Worker::listen(const HostPort& address) {
  if (index_ == 0 && address.port != 0) {
    // SO_REUSEPORT would let a second proxy share the port silently and take
    // half the connections; a plain bind first fails if anyone holds it.
    tcp::acceptor probe(io_);
    if (auto ok = open_listener(probe, address, "0.0.0.0", "listen", false); !ok) {
      ok.error().message += " (is another proxy running?)";
      return ok;
    }
  }
  return open_listener(acceptor_, address, "0.0.0.0", "listen", true);
}

uint16_t Worker::bound_port() const {
  error_code ec;
  return acceptor_.local_endpoint(ec).port();
}

void Worker::run() {
  accept();
  sweep();
  io_.run();
}

void Worker::accept() {
  acceptor_.async_accept([this](const error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // EMFILE and friends: log, pause briefly so the loop does not spin, go on.
      log_warn(
          fmt::format("proxy: event=accept_failed worker={} detail=\"{}\"", index_, ec.message()));
      auto pause = std::make_shared<asio::steady_timer>(io_, kSweepInterval);
      pause->async_wait([this, pause](const error_code&) { accept(); });
      return;
    }
    state_.accepted_connections.fetch_add(1, std::memory_order_relaxed);
    std::make_shared<ClientConnection>(*this, std::move(socket))->start();
    accept();
  });
}

void Worker::shutdown(int64_t grace_ms) {
  asio::post(io_, [this, grace_ms] {
    error_code ignored;
    acceptor_.close(ignored);
    draining_ = true;
    drain_deadline_ms_ = monotonic_ms() + grace_ms;
    std::vector<std::shared_ptr<ClientConnection>> all;
    for (ClientConnection* c : connections_) all.push_back(c->shared_from_this());
    for (auto& c : all) c->drain();
    drop_idle();
  });
}

void Worker::sweep() {
  sweep_timer_.expires_after(kSweepInterval);
  sweep_timer_.async_wait([this](const error_code& ec) {
    if (ec) return;
    const int64_t now = monotonic_ms();
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
    for (auto it = idle_.begin(); it != idle_.end();) {
      auto& list = it->second;
      const size_t before = list.size();
      std::erase_if(list,
                    [now](const auto& up) { return now - up->idle_since_ms > kUpstreamIdleMs; });
      it->first->idle_connections.fetch_sub(static_cast<int64_t>(before - list.size()),
                                            std::memory_order_relaxed);
      it = list.empty() ? idle_.erase(it) : std::next(it);
    }
    if (draining_ && connections_.empty()) return;  // nothing left: let run() return
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
  const auto& endpoints = snap.endpoints[static_cast<size_t>(pool)];
  const size_t n = endpoints.size();
  if (n == 0) return -1;
  // A request in flight may hold an older snapshot than the worker's.
  const uint32_t start = static_cast<size_t>(pool) < round_robin_.size()
                             ? round_robin_[static_cast<size_t>(pool)]++
                             : 0;
  const bool least =
      snap.config.pools[static_cast<size_t>(pool)].balance == Balance::kLeastRequests;
  int best = -1;
  int64_t best_load = 0;
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (start + k) % n;
    EndpointState* e = endpoints[i].get();
    if (!e->available(now_ms)) continue;
    if (std::find(tried.begin(), tried.end(), e) != tried.end()) continue;
    if (!least) return static_cast<int>(i);
    const int64_t load = e->active_requests.load(std::memory_order_relaxed);
    if (best < 0 || load < best_load) {
      best = static_cast<int>(i);
      best_load = load;
    }
  }
  return best;
}

std::unique_ptr<UpstreamConnection> Worker::take_idle(EndpointState* endpoint) {
  auto it = idle_.find(endpoint);
  if (it == idle_.end()) return nullptr;
  auto& list = it->second;
  while (!list.empty()) {
    std::unique_ptr<UpstreamConnection> up = std::move(list.back());
    list.pop_back();
    endpoint->idle_connections.fetch_sub(1, std::memory_order_relaxed);
    // An upstream that closed an idle connection shows it as readable (EOF)
    // or, if it said something unasked, as data: either way it is not reusable.
    char byte;
    const ssize_t n = ::recv(up->socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return up;
  }
  return nullptr;
}

void Worker::keep_idle(std::unique_ptr<UpstreamConnection> connection, int max_idle) {
  auto& list = idle_[connection->endpoint.get()];
  if (static_cast<int>(list.size()) >= max_idle || draining_) return;
  connection->idle_since_ms = monotonic_ms();
  connection->endpoint->idle_connections.fetch_add(1, std::memory_order_relaxed);
  list.push_back(std::move(connection));
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
