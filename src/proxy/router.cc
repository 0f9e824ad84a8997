#include "proxy/router.h"

#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>

#include "proxy/sticky_bucket.h"

namespace ferry::proxy {

namespace {

// "Host: Example.COM:8080" against "example.com" or "*.example.com".
bool host_matches(std::string_view host, const std::string& pattern) {
  if (!host.empty() && host.front() != '[') {
    const size_t colon = host.rfind(':');
    if (colon != std::string_view::npos) host = host.substr(0, colon);
  }
  if (pattern.size() > 2 && pattern[0] == '*' && pattern[1] == '.') {
    const std::string_view suffix = std::string_view(pattern).substr(1);  // ".example.com"
    return host.size() > suffix.size() &&
           equals_ignore_case(host.substr(host.size() - suffix.size()), suffix);
  }
  return equals_ignore_case(host, pattern);
}

bool value_matches(bool found, std::string_view value, const std::string& wanted) {
  return found && (wanted == "*" || value == wanted);
}

}  // namespace

std::string_view cookie_value(std::span<const HeaderField> headers, std::string_view name,
                              bool& found) {
  found = false;
  for (const auto& h : headers) {
    if (!equals_ignore_case(h.name, "cookie")) continue;
    std::string_view rest = h.value;
    while (!rest.empty()) {
      const size_t semi = rest.find(';');
      std::string_view pair = rest.substr(0, semi);
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      const size_t eq = pair.find('=');
      if (eq == std::string_view::npos || pair.substr(0, eq) != name) continue;
      std::string_view value = pair.substr(eq + 1);
      while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      found = true;
      return value;
    }
  }
  return {};
}

std::string_view query_value(std::string_view query, std::string_view name, bool& found) {
  found = false;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    found = true;
    return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
  }
  return {};
}

Result<Router> Router::compile(const ProxyConfig& config) {
  Router router;
  for (const auto& rc : config.routes) {
    Route r;
    r.name = rc.name;
    r.match = rc.match;
    if (rc.match.path_regex) {
      auto re = std::make_shared<re2::RE2>(*rc.match.path_regex, re2::RE2::Quiet);
      if (!re->ok()) {
        return fail(ErrorCode::kInvalidInput,
                    fmt::format("route '{}': path_regex: {}", rc.name, re->error()));
      }
      r.path_regex = std::move(re);
    }
    for (const auto& wp : rc.split) {
      const int index = config.pool_index(wp.pool);
      if (index < 0) {
        return fail(ErrorCode::kInvalidInput,
                    fmt::format("route '{}': no pool named '{}'", rc.name, wp.pool));
      }
      r.pools.push_back(index);
      r.weights.push_back(wp.weight);
    }
    if (rc.override_by) {
      r.override_header = rc.override_by->header;
      for (const auto& v : rc.override_by->values) {
        r.override_values.emplace_back(v.name, config.pool_index(v.value));
      }
    }
    if (rc.sticky) {
      r.sticky = true;
      r.sticky_config = *rc.sticky;
      if (r.sticky_config.fallback != "random") {
        const int pool = config.pool_index(r.sticky_config.fallback);
        const auto it = std::find(r.pools.begin(), r.pools.end(), pool);
        if (it != r.pools.end()) r.fallback_pool = static_cast<int>(it - r.pools.begin());
      }
    }
    router.routes_.push_back(std::move(r));
  }
  return router;
}

int Router::find_route(std::string_view name) const {
  for (size_t i = 0; i < routes_.size(); ++i) {
    if (routes_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

bool Router::matches(const Route& route, const RequestView& req) const {
  const RouteMatch& m = route.match;
  if (m.path && req.path != *m.path) return false;
  if (m.path_prefix && req.path.substr(0, m.path_prefix->size()) != *m.path_prefix) return false;
  if (!m.methods.empty() &&
      std::find(m.methods.begin(), m.methods.end(), req.method) == m.methods.end()) {
    return false;
  }
  if (!m.hosts.empty() && std::none_of(m.hosts.begin(), m.hosts.end(), [&](const std::string& h) {
        return host_matches(req.host, h);
      })) {
    return false;
  }
  for (const auto& h : m.headers) {
    const HeaderField* field = find_header(req.headers, h.name);
    if (!value_matches(field != nullptr, field ? field->value : "", h.value)) return false;
  }
  bool found = false;
  for (const auto& c : m.cookies) {
    const std::string_view v = cookie_value(req.headers, c.name, found);
    if (!value_matches(found, v, c.value)) return false;
  }
  for (const auto& q : m.query) {
    const std::string_view v = query_value(req.query, q.name, found);
    if (!value_matches(found, v, q.value)) return false;
  }
  if (route.path_regex &&
      !re2::RE2::FullMatch(re2::StringPiece(req.path.data(), req.path.size()), *route.path_regex)) {
    return false;
  }
  return true;
}

RouteDecision Router::choose(int index, const Route& route, const RequestView& req,
                             uint64_t draw) const {
  RouteDecision d;
  d.route = index;
  // The bucket is known even when the override or a single pool decides:
  // a parallel run samples users by it.
  if (route.sticky) {
    const StickyConfig& s = route.sticky_config;
    bool found = false;
    std::string_view key;
    switch (s.source) {
      case StickyConfig::Source::kHeader:
        if (const HeaderField* field = find_header(req.headers, s.name)) {
          found = true;
          key = field->value;
        }
        break;
      case StickyConfig::Source::kCookie:
        key = cookie_value(req.headers, s.name, found);
        break;
      case StickyConfig::Source::kQuery:
        key = query_value(req.query, s.name, found);
        break;
      case StickyConfig::Source::kClientIp:
        key = req.client_ip;
        found = !key.empty();
        break;
    }
    if (found && !key.empty()) d.bucket = static_cast<int>(sticky_bucket(s.salt, key));
  }
  if (!route.override_header.empty()) {
    if (const HeaderField* field = find_header(req.headers, route.override_header)) {
      for (const auto& [value, pool] : route.override_values) {
        if (field->value == value) {
          d.pool = pool;
          d.reason = RouteReason::kOverride;
          return d;
        }
      }
    }
  }
  if (route.pools.size() == 1) {
    d.pool = route.pools[0];
    d.reason = RouteReason::kSingle;
    return d;
  }
  if (d.bucket >= 0) {
    d.pool = route.pools[pool_for_bucket(static_cast<uint32_t>(d.bucket), route.weights)];
    d.reason = RouteReason::kSticky;
    return d;
  }
  // A fallback at weight 0 has been switched away from (blue/green at
  // 0/100): keyless requests must follow the switch like everyone else.
  if (route.sticky && route.fallback_pool >= 0 &&
      route.weights[static_cast<size_t>(route.fallback_pool)] > 0) {
    d.pool = route.pools[static_cast<size_t>(route.fallback_pool)];
    d.reason = RouteReason::kFallback;
    return d;
  }
  d.pool = route.pools[pool_for_draw(draw, route.weights)];
  d.reason = RouteReason::kRandom;
  return d;
}

RouteDecision Router::route(const RequestView& request, uint64_t draw) const {
  for (size_t i = 0; i < routes_.size(); ++i) {
    if (matches(routes_[i], request)) return choose(static_cast<int>(i), routes_[i], request, draw);
  }
  return {};
}

Result<void> Router::set_weights(std::string_view route_name,
                                 const std::vector<std::pair<std::string, int>>& weights,
                                 const std::vector<PoolConfig>& pools) {
  const int index = find_route(route_name);
  if (index < 0)
    return fail(ErrorCode::kInvalidInput, fmt::format("no route named '{}'", route_name));
  Route& route = routes_[static_cast<size_t>(index)];
  std::vector<int> next(route.pools.size(), 0);
  int64_t total = 0;
  for (const auto& [name, weight] : weights) {
    int pool = -1;
    for (size_t i = 0; i < pools.size(); ++i) {
      if (pools[i].name == name) pool = static_cast<int>(i);
    }
    const auto it = std::find(route.pools.begin(), route.pools.end(), pool);
    if (pool < 0 || it == route.pools.end()) {
      std::vector<std::string> names;
      for (int p : route.pools) names.push_back(pools[static_cast<size_t>(p)].name);
      return fail(ErrorCode::kInvalidInput,
                  fmt::format("route '{}' has no pool '{}' (its pools: {})", route_name, name,
                              fmt::join(names, ", ")));
    }
    if (weight < 0 || weight > 10'000) {
      return fail(ErrorCode::kInvalidInput,
                  fmt::format("weight of '{}' must be 0..10000, got {}", name, weight));
    }
    next[static_cast<size_t>(it - route.pools.begin())] = weight;
    total += weight;
  }
  if (total <= 0) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("route '{}': the weights add up to 0; at least one must be positive",
                            route_name));
  }
  route.weights = std::move(next);
  return {};
}

}  // namespace ferry::proxy
