// What `ferry run` asks of a running `ferry proxy`, through its admin API
// (docs/proxy.md, "Admin API"), never its internals: a route's weights, a
// hold around a cutover, a rollout's state and actions, and the request
// metrics a watch judges. Each call is one blocking request with a short
// deadline; an answer other than the one expected is an error that quotes
// the proxy.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "run/plan.h"

namespace ferry {
class YamlNode;
}

namespace ferry::run {

// A route's split, in the order the route names its pools.
using RouteWeights = std::vector<std::pair<std::string, int64_t>>;

// "legacy=90 modern=10", for events.
std::string weights_text(const RouteWeights& weights);
// {"legacy":90,"modern":10}, as PUT .../weights takes it and the journal keeps it.
std::string weights_json(const RouteWeights& weights);
Result<RouteWeights> parse_weights_json(std::string_view json);

// What a hold did (POST .../release), waits in ms.
struct HoldSummary {
  int64_t held = 0, released = 0, timed_out = 0, client_gone = 0;
  int64_t p50_ms = 0, p99_ms = 0, max_ms = 0, held_for_ms = 0;
  std::string text() const;  // "held=212 released=211 timed_out=0 ..."
};

struct RolloutView {
  std::string state;   // pending, running, paused, promoted, aborted
  std::string reason;  // why it paused or aborted
  std::string to, from;
  int64_t step = 0, steps = 0;
  RouteWeights weights, starting_weights;
  std::string verdict, verdict_reason;  // the latest analysis; "" before the first
  std::string last_verdict;             // "step=2 verdict=fail reason=error_rate ..." or ""
};

// One rollout as GET /admin/rollouts[/NAME] gives it.
RolloutView rollout_view(const YamlNode& rollout);

class ProxyAdmin {
 public:
  // `env_token`: FERRY_ADMIN_TOKEN as the command read it.
  static Result<ProxyAdmin> open(const PlanProxy& proxy, std::string_view env_token);

  Result<RouteWeights> weights(const std::string& route) const;
  // Requests under way at the endpoints of the route's pools (requests of
  // other routes to the same pools included: the proxy counts by endpoint).
  Result<int64_t> active_requests(const std::string& route) const;
  Result<void> set_weights(const std::string& route, const RouteWeights& weights) const;
  // true: held now; false: it was held already (409).
  Result<bool> hold(const std::string& route, int64_t timeout_ms, int64_t max_hold_ms) const;
  // Ends a hold; nullopt-like empty summary when the route was not held.
  Result<HoldSummary> release(const std::string& route, bool* was_held = nullptr) const;
  Result<RolloutView> rollout(const std::string& route) const;
  // POST /admin/rollouts/ROUTE/ACTION (start, pause, resume, abort, promote).
  Result<RolloutView> rollout_action(const std::string& route, const std::string& action) const;
  // GET /metrics, Prometheus text.
  Result<std::string> metrics() const;

  const std::string& address() const { return address_text_; }

 private:
  // GET /admin/state, parsed; and one route's weights in it.
  Result<YamlNode> state() const;
  Result<RouteWeights> weights_in(const YamlNode& state, const std::string& route) const;
  ProxyAdmin(std::string host, uint16_t port, std::string text, std::string token)
      : host_(std::move(host)),
        port_(port),
        address_text_(std::move(text)),
        token_(std::move(token)) {}
  Result<std::string> call(const std::string& method, const std::string& target,
                           const std::string& body, int expected_status,
                           int* status = nullptr) const;

  std::string host_;
  uint16_t port_ = 0;
  std::string address_text_;
  std::string token_;
};

}  // namespace ferry::run
