#include "run/dashboard_proxy.h"

#include <fmt/format.h>

#include <cmath>
#include <set>

#include "core/json_writer.h"
#include "core/text.h"
#include "core/yaml.h"
#include "proxy/admin_client.h"

namespace ferry::run {

namespace {

constexpr auto kWindow = std::chrono::seconds(60);
const PoolCounts kNoCounts;

double hundredths(double v) { return std::round(v * 100) / 100; }

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
  for (size_t i = 0; i < list->size(); ++i) out.emplace((*list)[i].text_at(name_key), &(*list)[i]);
  return out;
}

PoolReading pool_reading(const YamlNode& pool, const PoolCounts& window,
                         const std::map<std::string, const YamlNode*>& pools) {
  PoolReading p;
  p.pool = pool.text_at("pool");
  p.weight = pool.integer_at("weight");
  if (auto found = pools.find(p.pool); found != pools.end()) {
    if (const YamlNode* breaker = found->second->find("breaker")) {
      p.breaker = breaker->text_at("state");
    }
  }
  if (auto counts = window.find(p.pool); counts != window.end()) {
    p.requests = counts->second.requests;
    p.error_rate = hundredths(counts->second.error_rate_percent());
    p.p99_ms = hundredths(counts->second.p99_ms());
  }
  return p;
}

DiffReading diff_reading(const YamlNode& d) {
  DiffReading out;
  out.mirror_pool = d.text_at("mirror_pool");
  out.compared = d.integer_at("compared");
  out.identical = d.integer_at("identical");
  out.different = d.integer_at("different");
  out.mirror_errors = d.integer_at("mirror_errors");
  if (const YamlNode* fields = d.find("fields")) {
    for (size_t i = 0; i < fields->size() && out.fields.size() < 3; ++i) {
      out.fields.emplace_back((*fields)[i].text_at("path"), (*fields)[i].integer_at("count"));
    }
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> state_routes(std::string_view state_json) {
  auto state = parse_yaml(state_json, "GET /admin/state");
  if (!state) return tl::unexpected(state.error());
  std::vector<std::string> out;
  const YamlNode* list = state->find("routes");
  for (size_t i = 0; list && i < list->size(); ++i) out.push_back((*list)[i].text_at("name"));
  return out;
}

Result<std::vector<RouteReading>> read_routes(std::string_view state_json,
                                              std::string_view rollouts_json,
                                              std::string_view diff_json, const RouteCounts& window,
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
  std::vector<RouteReading> out;
  for (const std::string& name : wanted) {
    RouteReading r;
    r.name = name;
    const auto found = routes.find(name);
    r.found = found != routes.end();
    if (!r.found) {
      out.push_back(std::move(r));
      continue;
    }
    const YamlNode& route = *found->second;
    const auto counted = window.find(name);
    const PoolCounts& counts = counted == window.end() ? kNoCounts : counted->second;
    if (const YamlNode* list = route.find("pools")) {
      for (size_t i = 0; i < list->size(); ++i) {
        r.pools.push_back(pool_reading((*list)[i], counts, pools));
      }
    }
    if (const YamlNode* hold = route.find("hold"); hold && flag_of(route, "held")) {
      r.hold = HoldReading{hold->integer_at("waiting"), hold->integer_at("held"),
                           hold->integer_at("timed_out"), hold->integer_at("held_for_ms"),
                           hold->integer_at("timeout_ms")};
    }
    if (auto rollout = rollout_of.find(name); rollout != rollout_of.end()) {
      r.rollout = rollout_view(*rollout->second);
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
  // The plan's routes; every route the proxy has when the plan names none.
  auto names = routes_.empty() ? state_routes(*state) : Result<std::vector<std::string>>(routes_);
  if (!names) {
    out.error = names.error().to_string();
    return out;
  }
  RouteCounts reading;
  for (const std::string& route : *names) reading[route] = pool_counts(*metrics, route);
  const auto now = std::chrono::steady_clock::now();
  samples_.emplace_back(now, std::move(reading));
  while (samples_.size() > 2 && samples_[1].first <= now - kWindow) samples_.pop_front();
  RouteCounts window;
  bool restarted = false;
  for (const auto& [route, pools] : samples_.back().second) {
    const auto found = samples_.front().second.find(route);
    const PoolCounts& oldest = found == samples_.front().second.end() ? kNoCounts : found->second;
    for (const auto& [pool, newest] : pools) {
      const auto earlier = oldest.find(pool);
      if (earlier == oldest.end()) {
        window[route][pool] = newest;  // its first answers came within the window
      } else if (counts_follow(earlier->second, newest)) {
        window[route][pool] = newest - earlier->second;
      } else {
        restarted = true;
      }
    }
  }
  if (restarted) {
    // The proxy restarted and its counters began again: so does the window.
    samples_.erase(samples_.begin(), samples_.end() - 1);
    window.clear();
  }
  out.window_seconds = std::chrono::duration<double>(now - samples_.front().first).count();
  auto routes = read_routes(*state, *rollouts, *diff, window, *names);
  if (!routes) {
    out.error = routes.error().to_string();
    return out;
  }
  out.ok = true;
  out.routes = std::move(*routes);
  return out;
}

}  // namespace ferry::run
