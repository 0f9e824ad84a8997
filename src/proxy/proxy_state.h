// What the proxy's threads share: the current routing snapshot (config,
// router with its live weights, resolved endpoints), endpoint health, and
// request statistics. A snapshot is immutable; a reload or a weight change
// publishes a new one and bumps the generation, and each worker picks it up
// before its next request. Requests in flight keep the snapshot they started
// with, so nothing in flight notices a reload.
#pragma once

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "proxy/circuit_breaker.h"
#include "proxy/diff_report.h"
#include "proxy/proxy_config.h"
#include "proxy/route_hold.h"
#include "proxy/router.h"

namespace ferry::proxy {

class ComparisonQueue;

int64_t monotonic_ms();
int64_t monotonic_us();

// One upstream endpoint of one pool. Shared by every worker; survives reloads
// that keep the same pool name and address, so health and ejection carry over.
struct EndpointState {
  std::string pool;
  std::string address;  // "127.0.0.1:18082", as configured
  sockaddr_storage sockaddr{};
  socklen_t sockaddr_len = 0;

  std::atomic<bool> healthy{true};  // by active checks; endpoints start healthy
  std::atomic<int> check_passes{0};
  std::atomic<int> check_failures{0};
  std::atomic<int64_t> ejected_until_ms{0};  // passive ejection
  std::atomic<int> consecutive_failures{0};
  std::atomic<uint64_t> ejections{0};
  std::atomic<int64_t> active_requests{0};
  std::atomic<int64_t> open_connections{0};
  std::atomic<int64_t> idle_connections{0};

  bool available(int64_t now_ms) const {
    return healthy.load(std::memory_order_relaxed) &&
           ejected_until_ms.load(std::memory_order_relaxed) <= now_ms;
  }
  // Passive health: any failure counts toward ejection; a success clears the count.
  void record_success() { consecutive_failures.store(0, std::memory_order_relaxed); }
  void record_failure(const EjectionConfig& ejection, int64_t now_ms);
};

// Latency buckets of the histograms, in seconds (Prometheus `le` labels).
inline constexpr std::array<double, 14> kLatencyBuckets{
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

// Requests of one (route, pool) pair.
struct RequestStats {
  std::string route;  // "" for requests no route took (bad requests, no match)
  std::string pool;
  std::array<std::atomic<uint64_t>, 5> by_class{};                          // 1xx..5xx
  std::array<std::atomic<uint64_t>, kLatencyBuckets.size() + 1> latency{};  // last is +Inf
  std::atomic<uint64_t> latency_sum_us{0};

  void record(int status, int64_t micros);
};

struct RoutingSnapshot {
  ProxyConfig config;
  Router router;
  // endpoints[pool index in config.pools]
  std::vector<std::vector<std::shared_ptr<EndpointState>>> endpoints;
  // stats[route index * pools + pool index]; route index == routes.size() is "no route".
  std::vector<RequestStats*> stats;
  // breakers[pool index]: shared by every worker, null for a pool without
  // one; breaker_fallback[pool index]: the fallback pool's index, or -1.
  std::vector<std::shared_ptr<CircuitBreaker>> breakers;
  std::vector<int> breaker_fallback;
  // mirrors[route index]: the route's parallel run (pool -1 when it has
  // none); its findings are shared by every worker and survive reloads that
  // keep the comparison the same.
  struct Mirror {
    int pool = -1;
    int noise_pool = -1;
    std::shared_ptr<RouteDiffs> diffs;
  };
  std::vector<Mirror> mirrors;
  // holds[route index]: the route's hold while its requests are held
  // (route_hold.h), else null. A reload carries a hold over to the route of
  // the same name.
  std::vector<std::shared_ptr<RouteHold>> holds;
  ComparisonQueue* comparisons = nullptr;  // the process's, owned by ProxyState
  uint64_t generation = 0;

  RequestStats* stats_for(int route, int pool) const;
};

class ProxyState {
 public:
  // Resolves endpoint addresses and builds the first snapshot.
  static Result<std::unique_ptr<ProxyState>> create(ProxyConfig config);
  ~ProxyState();

  std::shared_ptr<const RoutingSnapshot> snapshot() const;
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // Applies a newly loaded config. Weights changed at runtime survive when
  // the new file leaves that route's split as the old file had it; a file
  // that changed them wins. A pool's circuit breaker keeps its state when
  // its config is unchanged; a changed one starts closed. Returns what
  // happened, for the log and admin.
  Result<std::string> reload(ProxyConfig config);

  // Runtime weights for one route (admin API). Kept until the file changes that route's split.
  Result<void> set_weights(const std::string& route,
                           const std::vector<std::pair<std::string, int>>& weights);

  // Publishes `hold` as the route's hold (null: none) in a new snapshot:
  // from their next request on, the workers hold the route's requests (or
  // stop holding them). hold_controller.h decides when; this only publishes.
  Result<void> set_hold(const std::string& route, std::shared_ptr<RouteHold> hold);

  // GET /readyz: the pools of the current config none of whose endpoints
  // may take a request now (unhealthy by active checks, or ejected); ready
  // when there is none.
  std::vector<std::string> pools_without_available_endpoint() const;

  // GET /admin/state and GET /metrics.
  std::string render_state_json() const;
  std::string render_metrics() const;
  // GET /admin/diff: every mirrored route's findings (diff_report.h).
  std::string render_diff_json() const;
  // DELETE /admin/diff/ROUTE: false when the route has no mirror.
  bool reset_diff(const std::string& route);

  std::atomic<uint64_t> accepted_connections{0};
  std::atomic<int64_t> open_client_connections{0};
  std::atomic<uint64_t> reloads{0};
  std::atomic<uint64_t> reload_failures{0};

 private:
  ProxyState() = default;
  Result<std::shared_ptr<RoutingSnapshot>> build(ProxyConfig config);      // mutex_ held
  RequestStats* stats(const std::string& route, const std::string& pool);  // mutex_ held

  struct RuntimeWeights {
    std::vector<WeightedPool> file_split;  // the split as the file had it
    std::vector<std::pair<std::string, int>> weights;
  };

  mutable std::mutex mutex_;
  std::shared_ptr<const RoutingSnapshot> current_;
  std::atomic<uint64_t> generation_{0};
  std::map<std::string, std::shared_ptr<EndpointState>> endpoints_;  // "pool/address"
  std::map<std::pair<std::string, std::string>, std::unique_ptr<RequestStats>> stats_;
  // By pool name; kept across reloads while the pool's breaker config is the same.
  std::map<std::string, std::shared_ptr<CircuitBreaker>> breakers_;
  std::map<std::string, RuntimeWeights> runtime_weights_;
  // A mirrored route's findings, with the config they were found under.
  struct RouteFindings {
    MirrorConfig config;
    std::shared_ptr<RouteDiffs> diffs;
  };
  std::map<std::string, RouteFindings> diffs_;  // by route name
  std::unique_ptr<ComparisonQueue> comparisons_;
};

}  // namespace ferry::proxy
