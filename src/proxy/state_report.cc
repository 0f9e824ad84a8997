// GET /admin/state (JSON) and GET /metrics (Prometheus text) for ProxyState.
#include <fmt/format.h>

#include <algorithm>

#include "core/json_writer.h"
#include "core/metrics_endpoint.h"
#include "proxy/proxy_state.h"

namespace ferry::proxy {

namespace {

const char* balance_name(Balance b) {
  return b == Balance::kLeastRequests ? "least_requests" : "round_robin";
}

std::string sticky_text(const StickyConfig& s) {
  switch (s.source) {
    case StickyConfig::Source::kHeader:
      return "header " + s.name;
    case StickyConfig::Source::kCookie:
      return "cookie " + s.name;
    case StickyConfig::Source::kQuery:
      return "query " + s.name;
    case StickyConfig::Source::kClientIp:
      return "client_ip";
  }
  return "";
}

void write_match(JsonWriter& w, const RouteMatch& m) {
  w.key("match").begin_object();
  if (!m.hosts.empty()) w.field("host", m.hosts);
  if (m.path) w.field("path", *m.path);
  if (m.path_prefix) w.field("path_prefix", *m.path_prefix);
  if (m.path_regex) w.field("path_regex", *m.path_regex);
  if (!m.methods.empty()) w.field("method", m.methods);
  auto pairs = [&](const char* key, const std::vector<NameValue>& list) {
    if (list.empty()) return;
    w.key(key).begin_object();
    for (const auto& nv : list) w.field(nv.name, nv.value);
    w.end_object();
  };
  pairs("header", m.headers);
  pairs("cookie", m.cookies);
  pairs("query", m.query);
  w.end_object();
}

void write_breaker(JsonWriter& w, const CircuitBreaker& b, int64_t now) {
  const BreakerConfig& policy = b.policy();
  const BreakerCounts window = b.window(now);
  w.key("breaker").begin_object();
  w.field("state", breaker_state_name(b.state()));
  w.field("open_remaining_ms", b.open_remaining_ms(now));
  w.field("fallback", policy.fallback);
  w.key("window").begin_object();
  w.field("ms", policy.window_ms);
  w.field("requests", window.requests);
  w.field("failures", window.failures);
  w.field("slow", window.slow);
  w.field("failure_rate", window.failure_rate());
  w.field("slow_rate", window.slow_rate());
  w.end_object();
  w.key("thresholds").begin_object();
  w.field("min_requests", policy.min_requests);
  w.field("failure_rate", policy.failure_rate);
  if (policy.slow) {
    w.field("slow_over_ms", policy.slow->over_ms);
    w.field("slow_rate", policy.slow->rate);
  }
  w.field("open_for_ms", policy.open_for_ms);
  w.field("half_open_requests", policy.half_open_requests);
  w.end_object();
  w.key("transitions").begin_object();
  for (BreakerState to : {BreakerState::kOpen, BreakerState::kHalfOpen, BreakerState::kClosed}) {
    w.field(breaker_state_name(to), static_cast<int64_t>(b.transitions(to)));
  }
  w.end_object();
  w.end_object();
}

}  // namespace

std::vector<std::string> ProxyState::pools_without_available_endpoint() const {
  const auto snap = snapshot();
  const int64_t now = monotonic_ms();
  std::vector<std::string> out;
  for (size_t p = 0; p < snap->endpoints.size(); ++p) {
    const auto& endpoints = snap->endpoints[p];
    if (std::none_of(endpoints.begin(), endpoints.end(),
                     [&](const auto& e) { return e->available(now); }))
      out.push_back(snap->config.pools[p].name);
  }
  return out;
}

std::string ProxyState::render_state_json() const {
  std::lock_guard lock(mutex_);
  const RoutingSnapshot& s = *current_;
  const int64_t now = monotonic_ms();
  JsonWriter w(3);
  w.begin_object();
  w.field("config", s.config.file);
  w.field("generation", static_cast<int64_t>(s.generation));
  w.field("reloads", static_cast<int64_t>(reloads.load()));
  w.field("reload_failures", static_cast<int64_t>(reload_failures.load()));
  w.field("listen", s.config.listen.text);
  w.field("threads", s.config.threads);
  w.key("client_connections").begin_object();
  w.field("open", open_client_connections.load());
  w.field("accepted", static_cast<int64_t>(accepted_connections.load()));
  w.end_object();
  w.key("routes").begin_array();
  for (size_t r = 0; r < s.config.routes.size(); ++r) {
    const RouteConfig& rc = s.config.routes[r];
    w.begin_object();
    w.field("name", rc.name);
    write_match(w, rc.match);
    w.field("runtime_weights", runtime_weights_.count(rc.name) > 0);
    w.field("held", s.holds[r] != nullptr);
    if (s.holds[r]) s.holds[r]->write_state(w, now);
    w.key("pools").begin_array();
    const auto weights = s.router.weights(r);
    for (size_t i = 0; i < rc.split.size(); ++i) {
      w.begin_object();
      w.field("pool", rc.split[i].pool);
      w.field("weight", weights[i]);
      w.field("file_weight", rc.split[i].weight);
      w.end_object();
    }
    w.end_array();
    if (rc.sticky) {
      w.key("sticky").begin_object();
      w.field("key", sticky_text(*rc.sticky));
      w.field("fallback", rc.sticky->fallback);
      w.field("salt", rc.sticky->salt);
      w.end_object();
    }
    if (rc.override_by) {
      w.key("override").begin_object();
      w.field("header", rc.override_by->header);
      w.key("values").begin_object();
      for (const auto& v : rc.override_by->values) w.field(v.name, v.value);
      w.end_object();
      w.end_object();
    }
    w.end_object();
  }
  w.end_array();
  w.key("pools").begin_array();
  for (size_t p = 0; p < s.config.pools.size(); ++p) {
    const PoolConfig& pc = s.config.pools[p];
    w.begin_object();
    w.field("name", pc.name);
    w.field("balance", balance_name(pc.balance));
    w.field("health_checked", pc.health.has_value());
    w.key("endpoints").begin_array();
    for (const auto& e : s.endpoints[p]) {
      const int64_t ejected_ms = e->ejected_until_ms.load() - now;
      w.begin_object();
      w.field("address", e->address);
      w.field("healthy", e->healthy.load());
      w.field("ejected", ejected_ms > 0);
      w.field("ejected_for_ms", std::max<int64_t>(ejected_ms, 0));
      w.field("available", e->available(now));
      w.field("active_requests", e->active_requests.load());
      w.field("open_connections", e->open_connections.load());
      w.field("idle_connections", e->idle_connections.load());
      w.field("ejections", static_cast<int64_t>(e->ejections.load()));
      w.end_object();
    }
    w.end_array();
    if (const CircuitBreaker* b = s.breakers[p].get()) write_breaker(w, *b, now);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.take();
}

std::string ProxyState::render_metrics() const {
  std::lock_guard lock(mutex_);
  const RoutingSnapshot& s = *current_;
  const int64_t now = monotonic_ms();
  std::string out;
  out += "# HELP ferry_proxy_requests_total Requests answered, by route, pool and status class.\n";
  out += "# TYPE ferry_proxy_requests_total counter\n";
  static constexpr const char* kClasses[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
  for (const auto& [key, st] : stats_) {
    for (size_t c = 0; c < 5; ++c) {
      const uint64_t n = st->by_class[c].load(std::memory_order_relaxed);
      if (n == 0) continue;
      out += fmt::format("ferry_proxy_requests_total{{route=\"{}\",pool=\"{}\",class=\"{}\"}} {}\n",
                         prometheus_label(st->route), prometheus_label(st->pool), kClasses[c], n);
    }
  }
  out += "# HELP ferry_proxy_request_duration_seconds Time from request head to response end.\n";
  out += "# TYPE ferry_proxy_request_duration_seconds histogram\n";
  for (const auto& [key, st] : stats_) {
    uint64_t cumulative = 0;
    std::string lines;
    for (size_t b = 0; b <= kLatencyBuckets.size(); ++b) {
      cumulative += st->latency[b].load(std::memory_order_relaxed);
      const std::string le =
          b < kLatencyBuckets.size() ? fmt::format("{}", kLatencyBuckets[b]) : "+Inf";
      lines += fmt::format(
          "ferry_proxy_request_duration_seconds_bucket{{route=\"{}\",pool=\"{}\",le=\"{}\"}} {}\n",
          prometheus_label(st->route), prometheus_label(st->pool), le, cumulative);
    }
    if (cumulative == 0) continue;
    out += lines;
    out += fmt::format("ferry_proxy_request_duration_seconds_sum{{route=\"{}\",pool=\"{}\"}} {}\n",
                       prometheus_label(st->route), prometheus_label(st->pool),
                       static_cast<double>(st->latency_sum_us.load()) / 1e6);
    out +=
        fmt::format("ferry_proxy_request_duration_seconds_count{{route=\"{}\",pool=\"{}\"}} {}\n",
                    prometheus_label(st->route), prometheus_label(st->pool), cumulative);
  }
  out += "# HELP ferry_proxy_route_weight Current weight of each pool in a route's split.\n";
  out += "# TYPE ferry_proxy_route_weight gauge\n";
  for (size_t r = 0; r < s.config.routes.size(); ++r) {
    const auto weights = s.router.weights(r);
    for (size_t i = 0; i < s.config.routes[r].split.size(); ++i) {
      out += fmt::format("ferry_proxy_route_weight{{route=\"{}\",pool=\"{}\"}} {}\n",
                         prometheus_label(s.config.routes[r].name),
                         prometheus_label(s.config.routes[r].split[i].pool), weights[i]);
    }
  }
  auto endpoint_metric = [&](const char* name, const char* type, const char* help, auto value) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    for (size_t p = 0; p < s.config.pools.size(); ++p) {
      for (const auto& e : s.endpoints[p]) {
        out += fmt::format("{}{{pool=\"{}\",endpoint=\"{}\"}} {}\n", name,
                           prometheus_label(e->pool), prometheus_label(e->address), value(*e));
      }
    }
  };
  endpoint_metric("ferry_proxy_endpoint_healthy", "gauge", "1 when active health checks pass.",
                  [](const EndpointState& e) { return e.healthy.load() ? 1 : 0; });
  endpoint_metric(
      "ferry_proxy_endpoint_ejected", "gauge", "1 while passively ejected.",
      [now](const EndpointState& e) { return e.ejected_until_ms.load() > now ? 1 : 0; });
  endpoint_metric("ferry_proxy_endpoint_ejections_total", "counter", "Passive ejections.",
                  [](const EndpointState& e) { return e.ejections.load(); });
  endpoint_metric("ferry_proxy_upstream_active_requests", "gauge", "Requests in flight.",
                  [](const EndpointState& e) { return e.active_requests.load(); });
  endpoint_metric("ferry_proxy_upstream_connections", "gauge", "Open upstream connections.",
                  [](const EndpointState& e) { return e.open_connections.load(); });
  endpoint_metric("ferry_proxy_upstream_idle_connections", "gauge",
                  "Kept-alive upstream connections waiting for a request.",
                  [](const EndpointState& e) { return e.idle_connections.load(); });
  out += "# HELP ferry_breaker_state Circuit breaker state: 0 closed, 1 open, 2 half-open.\n";
  out += "# TYPE ferry_breaker_state gauge\n";
  for (size_t p = 0; p < s.config.pools.size(); ++p) {
    if (const CircuitBreaker* b = s.breakers[p].get()) {
      out += fmt::format("ferry_breaker_state{{pool=\"{}\"}} {}\n",
                         prometheus_label(s.config.pools[p].name), static_cast<int>(b->state()));
    }
  }
  out += "# HELP ferry_breaker_transitions_total Circuit breaker transitions, by state entered.\n";
  out += "# TYPE ferry_breaker_transitions_total counter\n";
  for (size_t p = 0; p < s.config.pools.size(); ++p) {
    const CircuitBreaker* b = s.breakers[p].get();
    if (!b) continue;
    for (BreakerState to : {BreakerState::kOpen, BreakerState::kHalfOpen, BreakerState::kClosed}) {
      out += fmt::format("ferry_breaker_transitions_total{{pool=\"{}\",to=\"{}\"}} {}\n",
                         prometheus_label(s.config.pools[p].name), breaker_state_name(to),
                         b->transitions(to));
    }
  }
  out += "# HELP ferry_mirror_requests_total Mirrored requests of a parallel run, by result.\n";
  out += "# TYPE ferry_mirror_requests_total counter\n";
  std::string fields;
  for (const auto& [route, found] : diffs_)
    append_route_diff_metrics(route, found.diffs->snapshot(), out, fields);
  out +=
      "# HELP ferry_mirror_field_differences_total Differences per field path (at most 100 "
      "paths per route, then \"other\").\n";
  out += "# TYPE ferry_mirror_field_differences_total counter\n";
  out += fields;
  out += "# HELP ferry_proxy_client_connections Open client connections.\n";
  out += "# TYPE ferry_proxy_client_connections gauge\n";
  out += fmt::format("ferry_proxy_client_connections {}\n", open_client_connections.load());
  out += "# HELP ferry_proxy_client_connections_accepted_total Client connections accepted.\n";
  out += "# TYPE ferry_proxy_client_connections_accepted_total counter\n";
  out += fmt::format("ferry_proxy_client_connections_accepted_total {}\n",
                     accepted_connections.load());
  out += "# HELP ferry_proxy_config_reloads_total Configuration reloads, by result.\n";
  out += "# TYPE ferry_proxy_config_reloads_total counter\n";
  out += fmt::format("ferry_proxy_config_reloads_total{{result=\"ok\"}} {}\n", reloads.load());
  out += fmt::format("ferry_proxy_config_reloads_total{{result=\"failed\"}} {}\n",
                     reload_failures.load());
  return out;
}

std::string ProxyState::render_diff_json() const {
  std::lock_guard lock(mutex_);
  JsonWriter w(4);
  w.begin_object().key("routes").begin_array();
  for (const auto& [route, found] : diffs_) {
    const MirrorConfig& mc = found.config;
    w.begin_object().field("route", route).field("mirror_pool", mc.pool);
    w.field("noise_pool", mc.noise_pool).field("percent", mc.percent);
    write_route_diff_fields(w, found.diffs->snapshot());
    w.end_object();
  }
  w.end_array().end_object();
  return w.take();
}

bool ProxyState::reset_diff(const std::string& route) {
  std::lock_guard lock(mutex_);
  auto found = diffs_.find(route);
  if (found == diffs_.end()) return false;
  found->second.diffs->reset();
  return true;
}

}  // namespace ferry::proxy
