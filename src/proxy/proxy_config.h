// The proxy's configuration as loaded from YAML (docs/proxy.md has the full
// reference). Loading validates everything and reports every problem at once
// with file:line:column; a config that loads is one the proxy can run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/diagnostics.h"
#include "core/error.h"
#include "proxy/http_head.h"
#include "proxy/response_diff.h"

namespace ferry::proxy {

// "host:port"; host may be a name, resolved when the proxy starts or reloads.
struct HostPort {
  std::string host;
  uint16_t port = 0;
  std::string text;  // as written, for messages and metrics labels
};

struct HealthCheckConfig {
  std::string path = "/health";
  int64_t interval_ms = 2000;
  int64_t timeout_ms = 1000;
  int healthy_threshold = 2;    // consecutive passes to mark an endpoint up
  int unhealthy_threshold = 3;  // consecutive failures to mark it down
};

// Passive ejection: an endpoint that fails this many requests in a row
// (connect errors, resets, timeouts, 5xx answers) is left out for a while.
struct EjectionConfig {
  int consecutive_failures = 5;
  int64_t duration_ms = 10'000;
};

enum class Balance { kRoundRobin, kLeastRequests };

// A pool's circuit breaker (circuit_breaker.h; docs/proxy.md "Circuit breaker").
struct BreakerSlowConfig {
  int64_t over_ms = 1000;  // an answer later than this is slow
  double rate = 0.8;       // slow answers over the window that open the breaker
};

struct BreakerConfig {
  int64_t window_ms = 10'000;
  int min_requests = 20;      // fewer requests in the window never open it
  double failure_rate = 0.5;  // failures / requests that open it
  std::optional<BreakerSlowConfig> slow;
  int64_t open_for_ms = 15'000;  // open -> half-open
  int half_open_requests = 5;    // probes; all must succeed to close
  std::string fallback;          // pool taking the traffic while open; empty: 503
  SourceLocation fallback_where;

  // Same policy (where it was written does not matter): a reload keeps the state.
  bool same_policy(const BreakerConfig& o) const;
};

struct PoolConfig {
  std::string name;
  std::vector<HostPort> endpoints;
  Balance balance = Balance::kRoundRobin;
  int64_t connect_timeout_ms = 1000;
  int64_t response_timeout_ms = 30'000;  // request sent -> response head received
  int max_idle_connections = 64;         // kept-alive upstream connections per endpoint and thread
  int retries = 1;                       // extra attempts on another endpoint, when safe
  std::optional<HealthCheckConfig> health;
  EjectionConfig ejection;
  std::optional<BreakerConfig> breaker;
  SourceLocation where;
};

struct NameValue {
  std::string name;
  std::string value;
};

// All given conditions must hold (an empty match matches everything).
struct RouteMatch {
  std::vector<std::string> hosts;  // exact, or "*.example.com"; case-insensitive, port ignored
  std::optional<std::string> path;
  std::optional<std::string> path_prefix;
  std::optional<std::string> path_regex;  // RE2, must match the whole path
  std::vector<std::string> methods;
  std::vector<NameValue> headers;  // exact value; "*" means present with any value
  std::vector<NameValue> cookies;
  std::vector<NameValue> query;
};

struct WeightedPool {
  std::string pool;
  int weight = 0;  // relative; the sum over a split is positive
};

// Where the sticky key comes from.
struct StickyConfig {
  enum class Source { kHeader, kCookie, kQuery, kClientIp };
  Source source = Source::kHeader;
  std::string name;  // header, cookie or query parameter name
  // Requests without the key: "random" (a weighted draw) or a pool name.
  std::string fallback = "random";
  // Hashed with the key; defaults to the route's name. Routes that share a
  // salt put a user on the same side of their splits.
  std::string salt;
};

// A header whose value picks the pool outright (seed 002's migration-flag).
struct OverrideConfig {
  std::string header;
  std::vector<NameValue> values;  // header value -> pool name
};

// A progressive rollout of one route (rollout.h; docs/proxy.md "Progressive
// rollout"): the `to` pool's weight goes up step by step while the analysis
// compares it with the route's other pool over the same windows.
struct AnalysisConfig {
  int64_t interval_ms = 30'000;           // the window each verdict covers
  double max_error_rate_increase = 1.0;   // percentage points above the old side's
  double max_p99_ratio = 1.5;             // new p99 / old p99 above this fails
  int min_requests = 100;                 // on each side, per window; fewer: inconclusive
  int64_t inconclusive_for_ms = 600'000;  // without a conclusive verdict: the rollout pauses
  bool operator==(const AnalysisConfig&) const = default;
};

struct RolloutStepConfig {
  int weight = 0;        // the `to` pool's share, 1..100; the other pool gets the rest
  int64_t pause_ms = 0;  // how long the step is analysed; 0: it passes once applied
  bool operator==(const RolloutStepConfig&) const = default;
};

struct RolloutConfig {
  std::string to;    // the new side: a pool of the route's split
  std::string from;  // the old side: the split's other pool
  std::vector<RolloutStepConfig> steps;
  AnalysisConfig analysis;
  // Same rollout (where it was written does not matter): a reload keeps its state.
  bool operator==(const RolloutConfig&) const = default;
};

// A route's parallel run (mirror_call.h; docs/proxy.md "Parallel run"): a
// sample of its requests also goes to `pool`, and the answer is compared
// with the one the client got. The client never waits for the mirror.
struct MirrorConfig {
  std::string pool;
  double percent = 100;  // of the route's requests; by the sticky key when the route has one
  std::vector<std::string> methods{"GET", "HEAD"};  // upper case; only safe ones unless listed
  int64_t max_body_bytes = 1024 * 1024;  // larger request or response bodies are not compared
  int64_t timeout_ms = 10'000;           // the whole mirrored exchange, connect included
  int64_t max_in_flight = 1000;  // samples under way at once; more are skipped (skipped_busy)
  DiffPolicy compare;
  std::string noise_pool;  // a second primary sample (Diffy's noise); empty: none
  SourceLocation noise_where;
  std::vector<std::string> redact;  // lower case; header values masked in kept samples
  SourceLocation where;

  bool mirrors_method(std::string_view method) const;
  // Same comparison (where it was written does not matter): a reload keeps the findings.
  bool same_comparison(const MirrorConfig& o) const;
};

struct RouteConfig {
  std::string name;
  RouteMatch match;
  std::optional<OverrideConfig> override_by;
  std::vector<WeightedPool> split;  // `to: P` is a split of one pool with weight 100
  bool single_target = false;       // written as `to:`
  std::optional<StickyConfig> sticky;
  std::optional<RolloutConfig> rollout;
  std::optional<MirrorConfig> mirror;
  SourceLocation where;
};

struct AdminConfig {
  std::optional<HostPort> listen;  // absent: no admin API
  std::string token;               // bearer token; required when not on loopback
};

struct TimeoutConfig {
  int64_t client_head_ms = 10'000;  // a request head must arrive within this
  int64_t client_idle_ms = 60'000;  // keep-alive connection with no request
  int64_t client_body_ms = 30'000;  // longest pause while reading a request body
  // Longest a client may take to accept a piece of the response. Kept apart
  // from the pool's response_timeout so that a client that stops reading is
  // cut off without the upstream being blamed for it.
  int64_t client_send_ms = 60'000;
};

struct ProxyConfig {
  std::string file;
  HostPort listen;
  int threads = 1;
  AdminConfig admin;
  HeadLimits limits;
  int64_t max_body_bytes = 100LL * 1024 * 1024;  // larger request bodies get 413; 0 = no limit
  TimeoutConfig timeouts;
  std::string access_log;  // empty: off; "-": stdout; else a file path
  // Where rollouts keep their state across restarts (rollout_store.h); empty:
  // in memory only. Created at start; read at start only.
  std::string state_dir;
  std::vector<PoolConfig> pools;
  std::vector<RouteConfig> routes;
  // Problems that do not stop the proxy ("file:line:col: warning: ..."), for --check and the log.
  std::vector<std::string> warnings;

  const PoolConfig* find_pool(std::string_view name) const;
  int pool_index(std::string_view name) const;  // -1 when there is no such pool
  const RouteConfig* find_route(std::string_view name) const;
};

// What the proxy's environment adds to the file. The admin token belongs in
// a secret (FERRY_ADMIN_TOKEN, a Kubernetes Secret, a systemd credential)
// rather than in a config that others read or that sits in a ConfigMap.
struct ProxySecrets {
  std::string admin_token;  // used when the file has no admin.token; both set is an error
};

// Parses and validates; every problem in one kInvalidInput error.
Result<ProxyConfig> parse_proxy_config(std::string_view text, const std::string& file,
                                       const ProxySecrets& secrets = {});
Result<ProxyConfig> load_proxy_config(const std::string& path, const ProxySecrets& secrets = {});

// "host:port", "[v6]:port" or ":port" (all interfaces); nullopt when malformed.
std::optional<HostPort> parse_host_port(std::string_view text);

}  // namespace ferry::proxy
