#include "proxy/proxy_state.h"

#include <fmt/format.h>
#include <netdb.h>

#include <chrono>
#include <cstring>
#include <set>

#include "proxy/comparison_queue.h"

namespace ferry::proxy {

int64_t monotonic_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t monotonic_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void EndpointState::record_failure(const EjectionConfig& ejection, int64_t now_ms) {
  const int failures = consecutive_failures.fetch_add(1, std::memory_order_relaxed) + 1;
  if (ejection.consecutive_failures > 0 && failures >= ejection.consecutive_failures) {
    consecutive_failures.store(0, std::memory_order_relaxed);
    ejected_until_ms.store(now_ms + ejection.duration_ms, std::memory_order_relaxed);
    ejections.fetch_add(1, std::memory_order_relaxed);
  }
}

void RequestStats::record(int status, int64_t micros) {
  const int cls = status / 100;
  if (cls >= 1 && cls <= 5)
    by_class[static_cast<size_t>(cls - 1)].fetch_add(1, std::memory_order_relaxed);
  const double seconds = static_cast<double>(micros) / 1e6;
  size_t bucket = 0;
  while (bucket < kLatencyBuckets.size() && seconds > kLatencyBuckets[bucket]) ++bucket;
  latency[bucket].fetch_add(1, std::memory_order_relaxed);
  latency_sum_us.fetch_add(static_cast<uint64_t>(micros), std::memory_order_relaxed);
}

RequestStats* RoutingSnapshot::stats_for(int route, int pool) const {
  const size_t pools = config.pools.size() + 1;
  const size_t r = route < 0 ? config.routes.size() : static_cast<size_t>(route);
  const size_t p = pool < 0 ? config.pools.size() : static_cast<size_t>(pool);
  return stats[r * pools + p];
}

namespace {

Result<void> resolve(const HostPort& hp, EndpointState& e) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(hp.port);
  const int rc = getaddrinfo(hp.host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    return fail(ErrorCode::kInvalidInput, fmt::format("pool '{}': cannot resolve '{}': {}", e.pool,
                                                      hp.text, gai_strerror(rc)));
  }
  std::memcpy(&e.sockaddr, found->ai_addr, found->ai_addrlen);
  e.sockaddr_len = found->ai_addrlen;
  freeaddrinfo(found);
  return {};
}

bool same_split(const std::vector<WeightedPool>& a, const std::vector<WeightedPool>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].pool != b[i].pool || a[i].weight != b[i].weight) return false;
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<ProxyState>> ProxyState::create(ProxyConfig config) {
  std::unique_ptr<ProxyState> state(new ProxyState());
  // Bounded: beyond this many answers waiting to be compared, samples are
  // skipped (and counted) rather than held.
  state->comparisons_ = std::make_unique<ComparisonQueue>(4096);
  std::lock_guard lock(state->mutex_);
  auto snapshot = state->build(std::move(config));
  if (!snapshot) return tl::unexpected(snapshot.error());
  state->current_ = std::move(*snapshot);
  state->generation_.store(state->current_->generation);
  return state;
}

ProxyState::~ProxyState() = default;

RequestStats* ProxyState::stats(const std::string& route, const std::string& pool) {
  auto& slot = stats_[{route, pool}];
  if (!slot) {
    slot = std::make_unique<RequestStats>();
    slot->route = route;
    slot->pool = pool;
  }
  return slot.get();
}

Result<std::shared_ptr<RoutingSnapshot>> ProxyState::build(ProxyConfig config) {
  auto router = Router::compile(config);
  if (!router) return tl::unexpected(router.error());
  auto snap = std::make_shared<RoutingSnapshot>();
  snap->router = std::move(*router);
  // Runtime weights carry over while the file leaves the route's split alone.
  for (auto it = runtime_weights_.begin(); it != runtime_weights_.end();) {
    const RouteConfig* route = config.find_route(it->first);
    if (route && same_split(route->split, it->second.file_split) &&
        snap->router.set_weights(it->first, it->second.weights, config.pools)) {
      ++it;
    } else {
      it = runtime_weights_.erase(it);
    }
  }
  std::map<std::string, std::shared_ptr<EndpointState>> endpoints;
  for (const auto& pool : config.pools) {
    auto& list = snap->endpoints.emplace_back();
    for (const auto& hp : pool.endpoints) {
      const std::string key = pool.name + "/" + hp.text;
      auto found = endpoints_.find(key);
      std::shared_ptr<EndpointState> e;
      if (found != endpoints_.end()) {
        e = found->second;
      } else {
        e = std::make_shared<EndpointState>();
        e->pool = pool.name;
        e->address = hp.text;
      }
      // Re-resolved on every reload: a name may point elsewhere now.
      if (auto ok = resolve(hp, *e); !ok) return tl::unexpected(ok.error());
      endpoints[key] = e;
      list.push_back(std::move(e));
    }
  }
  std::map<std::string, std::shared_ptr<CircuitBreaker>> breakers;
  for (const auto& pool : config.pools) {
    int fallback = -1;
    std::shared_ptr<CircuitBreaker> b;
    if (pool.breaker) {
      auto found = breakers_.find(pool.name);
      if (found != breakers_.end() && found->second->policy().same_policy(*pool.breaker)) {
        b = found->second;
      } else {
        b = std::make_shared<CircuitBreaker>(*pool.breaker);
      }
      breakers[pool.name] = b;
      fallback = config.pool_index(pool.breaker->fallback);
    }
    snap->breakers.push_back(std::move(b));
    snap->breaker_fallback.push_back(fallback);
  }
  std::map<std::string, RouteFindings> diffs;
  for (const auto& route : config.routes) {
    auto& m = snap->mirrors.emplace_back();
    if (!route.mirror) continue;
    const MirrorConfig& mc = *route.mirror;
    m.pool = config.pool_index(mc.pool);
    m.noise_pool = mc.noise_pool.empty() ? -1 : config.pool_index(mc.noise_pool);
    auto found = diffs_.find(route.name);
    if (found != diffs_.end() && found->second.config.same_comparison(mc)) {
      m.diffs = found->second.diffs;
    } else {
      std::vector<std::string> redact = kAlwaysRedacted;
      redact.insert(redact.end(), mc.redact.begin(), mc.redact.end());
      m.diffs = std::make_shared<RouteDiffs>(std::move(redact), m.noise_pool >= 0);
    }
    diffs[route.name] = {mc, m.diffs};
  }
  // A hold lasts until it is released or expires, whatever the file says
  // (hold_controller.h releases one whose route is gone).
  for (const auto& route : config.routes) {
    const int before = current_ ? current_->router.find_route(route.name) : -1;
    snap->holds.push_back(before >= 0 ? current_->holds[static_cast<size_t>(before)] : nullptr);
  }
  snap->comparisons = comparisons_.get();
  const size_t pools = config.pools.size() + 1;
  snap->stats.resize((config.routes.size() + 1) * pools);
  for (size_t r = 0; r <= config.routes.size(); ++r) {
    for (size_t p = 0; p < pools; ++p) {
      snap->stats[r * pools + p] = stats(r < config.routes.size() ? config.routes[r].name : "",
                                         p < config.pools.size() ? config.pools[p].name : "");
    }
  }
  endpoints_ = std::move(endpoints);
  breakers_ = std::move(breakers);
  diffs_ = std::move(diffs);
  snap->config = std::move(config);
  snap->generation = generation_.load() + 1;
  return snap;
}

std::shared_ptr<const RoutingSnapshot> ProxyState::snapshot() const {
  std::lock_guard lock(mutex_);
  return current_;
}

Result<std::string> ProxyState::reload(ProxyConfig config) {
  std::lock_guard lock(mutex_);
  const auto kept_before = runtime_weights_;
  const auto breakers_before = breakers_;
  const auto diffs_before = diffs_;
  auto snapshot = build(std::move(config));
  if (!snapshot) {
    runtime_weights_ = kept_before;  // build() drops the ones it could not carry over
    return tl::unexpected(snapshot.error());
  }
  std::string summary = fmt::format("{} routes, {} pools", (*snapshot)->config.routes.size(),
                                    (*snapshot)->config.pools.size());
  for (const auto& [route, weights] : kept_before) {
    summary +=
        runtime_weights_.count(route)
            ? fmt::format("; runtime weights of '{}' kept", route)
            : fmt::format("; runtime weights of '{}' dropped (the file changed its split)", route);
  }
  for (const auto& [pool, before] : breakers_before) {
    auto now = breakers_.find(pool);
    if (now == breakers_.end()) {
      summary += fmt::format("; breaker of '{}' removed", pool);
    } else if (now->second != before) {
      summary += fmt::format("; breaker of '{}' starts closed (its config changed)", pool);
    } else if (before->state() != BreakerState::kClosed) {
      summary +=
          fmt::format("; breaker of '{}' kept ({})", pool, breaker_state_name(before->state()));
    }
  }
  for (const auto& [route, before] : diffs_before) {
    auto now = diffs_.find(route);
    if (now == diffs_.end()) {
      summary += fmt::format("; parallel run of '{}' removed", route);
    } else if (now->second.diffs != before.diffs) {
      summary +=
          fmt::format("; parallel run of '{}' starts a new report (its comparison changed)", route);
    }
  }
  current_ = std::move(*snapshot);
  generation_.store(current_->generation, std::memory_order_release);
  return summary;
}

Result<void> ProxyState::set_hold(const std::string& route, std::shared_ptr<RouteHold> hold) {
  std::lock_guard lock(mutex_);
  const int index = current_->router.find_route(route);
  if (index < 0) return fail(ErrorCode::kInvalidInput, fmt::format("no route named '{}'", route));
  auto next = std::make_shared<RoutingSnapshot>(*current_);
  next->holds[static_cast<size_t>(index)] = std::move(hold);
  next->generation = current_->generation + 1;
  current_ = std::move(next);
  generation_.store(current_->generation, std::memory_order_release);
  return {};
}

Result<void> ProxyState::set_weights(const std::string& route,
                                     const std::vector<std::pair<std::string, int>>& weights) {
  std::lock_guard lock(mutex_);
  const RouteConfig* rc = current_->config.find_route(route);
  if (!rc) return fail(ErrorCode::kInvalidInput, fmt::format("no route named '{}'", route));
  auto next = std::make_shared<RoutingSnapshot>(*current_);
  if (auto ok = next->router.set_weights(route, weights, next->config.pools); !ok) {
    return tl::unexpected(ok.error());
  }
  runtime_weights_[route] = RuntimeWeights{rc->split, weights};
  next->generation = current_->generation + 1;
  current_ = std::move(next);
  generation_.store(current_->generation, std::memory_order_release);
  return {};
}

}  // namespace ferry::proxy
