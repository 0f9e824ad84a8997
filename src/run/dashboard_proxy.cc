#include "run/dashboard_proxy.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <set>

#include "core/json_writer.h"
#include "core/text.h"
#include "core/yaml.h"
#include "proxy/admin_client.h"

namespace ferry::run {

namespace {

constexpr auto kWindow = std::chrono::seconds(60);

double hundredths(double v) { return std::round(v * 100) / 100; }

std::string text_of(const YamlNode& node, std::string_view key) {
  const YamlNode* n = node.find(key);
  return n && n->is_scalar() ? n->scalar() : "";
}

int64_t integer_of(const YamlNode& node, std::string_view key) {
  const YamlNode* n = node.find(key);
  const auto v = n ? n->as_number() : std::nullopt;
  return v ? static_cast<int64_t>(*v) : 0;
}

bool flag_of(const YamlNode& node, std::string_view key) {
  const YamlNode* n = node.find(key);
  return n && n->as_bool().value_or(false);
}

// The entries of `list_key`'s array, by the value of their `name_key`.
std::map<std::string, const YamlNode*> by_name(const YamlNode& doc, std::string_view list_key,
                                               std::string_view name_key) {
  std::map<std::string, const YamlNode*> out;
  const YamlNode* list = doc.find(list_key);
  if (!list || !list->is_sequence()) return out;
  for (size_t i = 0; i < list->size(); ++i) out.emplace(text_of((*list)[i], name_key), &(*list)[i]);
  return out;
}

// `name{a="x",b="y"} 12` -> labels and value; false for anything else.
bool parse_sample(std::string_view line, std::map<std::string, std::string>& labels,
                  double& value) {
  const size_t open = line.find('{');
  if (open == std::string_view::npos) return false;
  size_t i = open + 1;
  while (i < line.size() && line[i] != '}') {
    const size_t eq = line.find("=\"", i);
    if (eq == std::string_view::npos) return false;
    const std::string name(line.substr(i, eq - i));
    std::string text;
    for (i = eq + 2; i < line.size() && line[i] != '"'; ++i) {
      if (line[i] == '\\' && i + 1 < line.size()) {
        ++i;
        text.push_back(line[i] == 'n' ? '\n' : line[i]);
      } else {
        text.push_back(line[i]);
      }
    }
    if (i >= line.size()) return false;
    labels[name] = std::move(text);
    ++i;  // the closing quote
    if (i < line.size() && line[i] == ',') ++i;
  }
  if (i >= line.size()) return false;
  const auto v = parse_double(trim(line.substr(i + 1)));
  if (!v) return false;
  value = *v;
  return true;
}

// Which of the histogram's buckets an `le` label names (the last is +Inf).
std::optional<size_t> bucket_index(const std::string& le) {
  if (le == "+Inf") return proxy::kLatencyBuckets.size();
  const auto bound = parse_double(le);
  if (!bound) return std::nullopt;
  for (size_t b = 0; b < proxy::kLatencyBuckets.size(); ++b) {
    if (std::abs(proxy::kLatencyBuckets[b] - *bound) < 1e-9) return b;
  }
  return std::nullopt;
}

bool any_negative(const proxy::SideCounts& c) {
  return c.requests < 0 || c.errors < 0 ||
         std::any_of(c.latency.begin(), c.latency.end(), [](int64_t n) { return n < 0; });
}

PoolReading pool_reading(const YamlNode& pool, const std::string& route,
                         const std::map<std::string, const YamlNode*>& pools,
                         const RequestCounts& window) {
  PoolReading p;
  p.pool = text_of(pool, "pool");
  p.weight = integer_of(pool, "weight");
  if (auto found = pools.find(p.pool); found != pools.end()) {
    if (const YamlNode* breaker = found->second->find("breaker")) {
      p.breaker = text_of(*breaker, "state");
    }
  }
  if (auto counts = window.find({route, p.pool}); counts != window.end()) {
    p.requests = counts->second.requests;
    p.error_rate = hundredths(counts->second.error_rate_percent());
    p.p99_ms = hundredths(counts->second.p99_ms());
  }
  return p;
}

RolloutReading rollout_reading(const YamlNode& r) {
  RolloutReading out;
  out.state = text_of(r, "state");
  out.from = text_of(r, "from");
  out.to = text_of(r, "to");
  out.reason = text_of(r, "reason");
  out.step = integer_of(r, "step");
  out.steps = integer_of(r, "steps");
  if (const YamlNode* verdicts = r.find("verdicts"); verdicts && verdicts->size() > 0) {
    out.verdict = text_of((*verdicts)[0], "verdict");  // newest first
    out.verdict_reason = text_of((*verdicts)[0], "reason");
  }
  return out;
}

DiffReading diff_reading(const YamlNode& d) {
  DiffReading out;
  out.mirror_pool = text_of(d, "mirror_pool");
  out.compared = integer_of(d, "compared");
  out.identical = integer_of(d, "identical");
  out.different = integer_of(d, "different");
  out.mirror_errors = integer_of(d, "mirror_errors");
  if (const YamlNode* fields = d.find("fields")) {
    for (size_t i = 0; i < fields->size() && out.fields.size() < 3; ++i) {
      out.fields.emplace_back(text_of((*fields)[i], "path"), integer_of((*fields)[i], "count"));
    }
  }
  return out;
}

}  // namespace

RequestCounts parse_request_metrics(std::string_view text) {
  constexpr std::string_view kRequests = "ferry_proxy_requests_total{";
  constexpr std::string_view kBuckets = "ferry_proxy_request_duration_seconds_bucket{";
  RequestCounts out;
  // Buckets are cumulative in the page; SideCounts counts each bucket alone.
  std::map<std::pair<std::string, std::string>,
           std::array<int64_t, proxy::kLatencyBuckets.size() + 1>>
      cumulative;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    const bool requests = line.starts_with(kRequests);
    if (!requests && !line.starts_with(kBuckets)) continue;
    std::map<std::string, std::string> labels;
    double value = 0;
    if (!parse_sample(line, labels, value)) continue;
    const auto key = std::make_pair(labels["route"], labels["pool"]);
    const auto n = static_cast<int64_t>(value);
    if (requests) {
      out[key].requests += n;
      if (labels["class"] == "5xx") out[key].errors += n;
    } else if (const auto b = bucket_index(labels["le"])) {
      cumulative[key][*b] = n;
    }
  }
  for (const auto& [key, buckets] : cumulative) {
    proxy::SideCounts& c = out[key];
    for (size_t b = 0; b < buckets.size(); ++b) {
      c.latency[b] = buckets[b] - (b == 0 ? 0 : buckets[b - 1]);
    }
  }
  return out;
}

Result<std::vector<RouteReading>> read_routes(std::string_view state_json,
                                              std::string_view rollouts_json,
                                              std::string_view diff_json,
                                              const RequestCounts& window,
                                              const std::vector<std::string>& wanted) {
  auto state = parse_yaml(state_json, "GET /admin/state");
  if (!state) return tl::unexpected(state.error());
  auto rollouts = parse_yaml(rollouts_json.empty() ? "{}" : rollouts_json, "GET /admin/rollouts");
  if (!rollouts) return tl::unexpected(rollouts.error());
  auto diffs = parse_yaml(diff_json.empty() ? "{}" : diff_json, "GET /admin/diff");
  if (!diffs) return tl::unexpected(diffs.error());
  const auto routes = by_name(*state, "routes", "name");
  const auto pools = by_name(*state, "pools", "name");
  const auto rollout_of = by_name(*rollouts, "rollouts", "route");
  const auto diff_of = by_name(*diffs, "routes", "route");
  std::vector<std::string> names = wanted;
  if (names.empty()) {
    const YamlNode* list = state->find("routes");
    for (size_t i = 0; list && i < list->size(); ++i) names.push_back(text_of((*list)[i], "name"));
  }
  std::vector<RouteReading> out;
  for (const std::string& name : names) {
    RouteReading r;
    r.name = name;
    const auto found = routes.find(name);
    r.found = found != routes.end();
    if (!r.found) {
      out.push_back(std::move(r));
      continue;
    }
    const YamlNode& route = *found->second;
    if (const YamlNode* list = route.find("pools")) {
      for (size_t i = 0; i < list->size(); ++i) {
        r.pools.push_back(pool_reading((*list)[i], name, pools, window));
      }
    }
    if (const YamlNode* hold = route.find("hold"); hold && flag_of(route, "held")) {
      r.hold = HoldReading{integer_of(*hold, "waiting"), integer_of(*hold, "held"),
                           integer_of(*hold, "timed_out"), integer_of(*hold, "held_for_ms"),
                           integer_of(*hold, "timeout_ms")};
    }
    if (auto rollout = rollout_of.find(name); rollout != rollout_of.end()) {
      r.rollout = rollout_reading(*rollout->second);
    }
    if (auto diff = diff_of.find(name); diff != diff_of.end()) r.diff = diff_reading(*diff->second);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<std::string> plan_routes(const Plan& plan) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  const auto add = [&](const std::string& route) {
    if (!route.empty() && seen.insert(route).second) out.push_back(route);
  };
  for (const PlanStep& s : plan.steps) add(s.route);
  for (const PlanDatabase& db : plan.databases) add(db.route);
  return out;
}

void write_proxy_reading(JsonWriter& w, const ProxyReading& r) {
  w.begin_object().field("admin", r.admin).field("ok", r.ok).field("error", r.error);
  w.field("window_seconds", hundredths(r.window_seconds)).key("routes").begin_array();
  for (const RouteReading& route : r.routes) {
    w.begin_object().field("name", route.name).field("found", route.found);
    w.key("pools").begin_array();
    for (const PoolReading& p : route.pools) {
      w.begin_object().field("pool", p.pool).field("weight", p.weight);
      w.field("breaker", p.breaker).field("requests", p.requests);
      w.field("error_rate", p.error_rate).field("p99_ms", p.p99_ms).end_object();
    }
    w.end_array().key("hold");
    if (const auto& h = route.hold) {
      w.begin_object().field("waiting", h->waiting).field("held", h->held);
      w.field("timed_out", h->timed_out).field("held_for_ms", h->held_for_ms);
      w.field("timeout_ms", h->timeout_ms).end_object();
    } else {
      w.null();
    }
    w.key("rollout");
    if (const auto& ro = route.rollout) {
      w.begin_object().field("state", ro->state).field("step", ro->step);
      w.field("steps", ro->steps).field("from", ro->from).field("to", ro->to);
      w.field("reason", ro->reason).field("verdict", ro->verdict);
      w.field("verdict_reason", ro->verdict_reason).end_object();
    } else {
      w.null();
    }
    w.key("diff");
    if (const auto& d = route.diff) {
      w.begin_object().field("mirror_pool", d->mirror_pool).field("compared", d->compared);
      w.field("identical", d->identical).field("different", d->different);
      w.field("mirror_errors", d->mirror_errors).key("fields").begin_array();
      for (const auto& field : d->fields) {
        w.begin_object().field("path", field.first).field("count", field.second).end_object();
      }
      w.end_array().end_object();
    } else {
      w.null();
    }
    w.end_object();
  }
  w.end_array().end_object();
}

ProxyWatch::ProxyWatch(const PlanProxy& proxy, std::string token, std::vector<std::string> routes,
                       int64_t timeout_ms)
    : admin_(proxy.admin),
      token_(std::move(token)),
      routes_(std::move(routes)),
      timeout_ms_(timeout_ms) {}

Result<std::string> ProxyWatch::get(const std::string& target, bool optional) {
  auto address = proxy::parse_host_port(admin_);
  if (!address || address->port == 0) {
    return fail(ErrorCode::kInvalidInput, "proxy.admin '" + admin_ + "' is not HOST:PORT");
  }
  auto reply = proxy::call_admin_api(*address, {"GET", target, token_, ""}, timeout_ms_);
  if (!reply) return tl::unexpected(reply.error());
  if (reply->status == 404 && optional) return std::string();
  if (reply->status != 200) {
    return fail(ErrorCode::kIo, fmt::format("the admin API at {} answered {} to GET {}: {}", admin_,
                                            reply->status, target, trim(reply->body)));
  }
  return std::move(reply->body);
}

ProxyReading ProxyWatch::read() {
  ProxyReading out;
  out.admin = admin_;
  // One call after another, each within the deadline; the first that fails
  // ends the reading: a proxy that does not answer one will not answer the next.
  auto state = get("/admin/state", false);
  auto rollouts = state ? get("/admin/rollouts", true) : state;
  auto diff = rollouts ? get("/admin/diff", true) : rollouts;
  auto metrics = diff ? get("/metrics", false) : diff;
  if (!metrics) {
    out.error = metrics.error().to_string();
    return out;
  }
  const auto now = std::chrono::steady_clock::now();
  samples_.emplace_back(now, parse_request_metrics(*metrics));
  while (samples_.size() > 2 && samples_[1].first <= now - kWindow) samples_.pop_front();
  RequestCounts window;
  for (const auto& [key, newest] : samples_.back().second) {
    const auto oldest = samples_.front().second.find(key);
    window[key] = oldest == samples_.front().second.end() ? newest : newest - oldest->second;
    if (any_negative(window[key])) {
      // The proxy restarted: its counters began again.
      samples_.erase(samples_.begin(), samples_.end() - 1);
      window.clear();
      break;
    }
  }
  out.window_seconds = std::chrono::duration<double>(now - samples_.front().first).count();
  auto routes = read_routes(*state, *rollouts, *diff, window, routes_);
  if (!routes) {
    out.error = routes.error().to_string();
    return out;
  }
  out.ok = true;
  out.routes = std::move(*routes);
  return out;
}

}  // namespace ferry::run
