// The proxy's part of a run's live dashboard: how the routes a plan moves
// look in the running `ferry proxy`, read through its admin API only
// (proxy/admin_client.h, never the proxy's internals): each pool's weight,
// error rate and p99, its circuit breaker, the route's rollout, the parallel
// run's diff counts and the requests held during a cutover.
//
// Error rate and p99 come from GET /metrics, read as a watch step reads it
// (route_metrics.h), whose counters and latency histograms count from the
// proxy's start: ProxyWatch keeps the readings of the last minute and shows
// the difference between the newest and the oldest, with the rollout
// analysis's arithmetic (proxy/rollout_analysis.h), so the dashboard, the
// watch and the analysis agree.
//
// A proxy that does not answer costs each reading one short deadline and is
// reported in the reading (ok false, the error), never as a stuck page.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "run/plan.h"
#include "run/proxy_admin.h"
#include "run/route_metrics.h"

namespace ferry {
class JsonWriter;
}

namespace ferry::run {

struct PoolReading {
  std::string pool;
  int64_t weight = 0;
  std::string breaker;    // closed, open, half-open; "" when the pool has none
  int64_t requests = 0;   // in the window
  double error_rate = 0;  // percent of 5xx answers in the window
  double p99_ms = 0;      // 0 without requests
};

struct HoldReading {
  int64_t waiting = 0, held = 0, timed_out = 0;
  int64_t held_for_ms = 0, timeout_ms = 0;
};

struct DiffReading {
  std::string mirror_pool;
  int64_t compared = 0, identical = 0, different = 0, mirror_errors = 0;
  std::vector<std::pair<std::string, int64_t>> fields;  // the most differing paths, at most 3
};

struct RouteReading {
  std::string name;
  bool found = true;  // false: the plan names it, the proxy has no such route
  std::vector<PoolReading> pools;
  std::optional<HoldReading> hold;
  std::optional<RolloutView> rollout;
  std::optional<DiffReading> diff;
};

struct ProxyReading {
  std::string admin;  // the admin API's address, as the plan has it
  bool ok = false;
  std::string error;  // why there is no reading
  double window_seconds = 0;
  std::vector<RouteReading> routes;
};

// {admin, ok, error, window_seconds, routes: [{name, found, pools: [{pool,
// weight, breaker, requests, error_rate, p99_ms}], hold, rollout, diff}]}
void write_proxy_reading(JsonWriter& w, const ProxyReading& reading);

// Each route's pools' counts (route_metrics.h), by route name.
using RouteCounts = std::map<std::string, PoolCounts>;

// The routes GET /admin/state lists, in its order.
Result<std::vector<std::string>> state_routes(std::string_view state_json);

// The routes named in `wanted`, in that order, from the bodies of GET
// /admin/state, /admin/rollouts ("" without rollouts) and /admin/diff, with
// each pool's counts over the window.
Result<std::vector<RouteReading>> read_routes(std::string_view state_json,
                                              std::string_view rollouts_json,
                                              std::string_view diff_json, const RouteCounts& window,
                                              const std::vector<std::string>& wanted);

// The routes a plan's steps and databases name, each once, in plan order.
std::vector<std::string> plan_routes(const Plan& plan);

class ProxyWatch {
 public:
  // `token` for the admin API (proxy.token_file's, or FERRY_ADMIN_TOKEN).
  ProxyWatch(const PlanProxy& proxy, std::string token, std::vector<std::string> routes,
             int64_t timeout_ms = 800);
  // Asks the proxy now (blocking, each call within the deadline).
  ProxyReading read();

 private:
  Result<std::string> get(const std::string& target, bool optional);

  std::string admin_;
  std::string token_;
  std::vector<std::string> routes_;
  int64_t timeout_ms_;
  // The last minute's readings, oldest first (a steady clock: a wall clock
  // set back would make a window negative).
  std::deque<std::pair<std::chrono::steady_clock::time_point, RouteCounts>> samples_;
};

}  // namespace ferry::run
