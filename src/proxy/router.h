// Picks the route and the pool for a request: routes are tried in order and
// the first whose conditions all hold wins (strangler fig, seed 001); within
// it an override header, then the sticky key, then a weighted draw choose
// among the route's pools. A Router is an immutable value once built except
// for set_weights, which callers apply to a copy they then publish.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "proxy/http_head.h"
#include "proxy/proxy_config.h"

namespace re2 {
class RE2;
}

namespace ferry::proxy {

struct RequestView {
  std::string_view method;
  std::string_view host;  // may carry ":port"
  std::string_view path;
  std::string_view query;
  std::span<const HeaderField> headers;
  std::string_view client_ip;
};

enum class RouteReason {
  kSingle,    // the route has one pool with weight
  kOverride,  // the override header named the pool
  kSticky,    // the sticky key's bucket
  kFallback,  // no sticky key; the configured fallback pool
  kRandom,    // a weighted draw
};

struct RouteDecision {
  int route = -1;  // index into the config's routes; -1: no route matched
  int pool = -1;   // index into the config's pools
  RouteReason reason = RouteReason::kSingle;
  int bucket = -1;  // the sticky key's bucket (sticky_bucket.h); -1: no sticky key
};

class Router {
 public:
  // Pool indices refer to config.pools. The config must have loaded cleanly.
  static Result<Router> compile(const ProxyConfig& config);

  // `draw` is a random value, used only when a weighted draw is needed.
  RouteDecision route(const RequestView& request, uint64_t draw) const;

  size_t route_count() const { return routes_.size(); }
  const std::string& route_name(size_t route) const { return routes_[route].name; }
  // A route's weights, in the order of its split.
  std::span<const int> weights(size_t route) const { return routes_[route].weights; }
  int find_route(std::string_view name) const;

  // Sets a route's weights by pool name. Every pool named must be one of the
  // route's; pools not named get 0; the total must be positive. On failure
  // nothing changes.
  Result<void> set_weights(std::string_view route,
                           const std::vector<std::pair<std::string, int>>& weights,
                           const std::vector<PoolConfig>& pools);

 private:
  struct Route {
    std::string name;
    RouteMatch match;
    std::shared_ptr<const re2::RE2> path_regex;
    std::vector<int> pools;
    std::vector<int> weights;
    std::string override_header;
    std::vector<std::pair<std::string, int>> override_values;  // header value -> pool
    bool sticky = false;
    StickyConfig sticky_config;
    int fallback_pool = -1;  // index into `pools`; -1 = weighted draw
  };
  bool matches(const Route& route, const RequestView& request) const;
  RouteDecision choose(int index, const Route& route, const RequestView& request,
                       uint64_t draw) const;

  std::vector<Route> routes_;
};

// Values from a request, as the router reads them.
std::string_view cookie_value(std::span<const HeaderField> headers, std::string_view name,
                              bool& found);
std::string_view query_value(std::string_view query, std::string_view name, bool& found);

}  // namespace ferry::proxy
