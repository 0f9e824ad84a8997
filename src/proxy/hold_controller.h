// Holds a route's requests during a cutover and lets them go, on the
// proxy's control thread (with the admin API and the reloads, so nothing
// here needs a lock):
//
//   1. hold: a new RouteHold (route_hold.h) is published in the routing
//      snapshot; from their next request on the workers keep the route's
//      requests waiting instead of forwarding them, each until its timeout;
//   2. release: a snapshot without it is published, then every worker is
//      told to let its held requests go (each routed again with the newest
//      snapshot, so weights moved during the hold apply to them);
//   3. once every worker has acknowledged, the hold's numbers are final:
//      they answer the admin call, go into the metrics' totals, and are
//      logged on one line.
//
// A hold ends by itself after its max_hold (a warning), so that a cutover
// driver that died cannot leave a route blocked. A reload keeps a hold; one
// that removes its route releases it.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/proxy_state.h"
#include "proxy/route_hold.h"
#include "proxy/worker.h"

namespace ferry::proxy {

class HoldController {
 public:
  struct HoldError {
    int status = 400;  // 404 unknown route, 409 already held or not held
    std::string message;
  };
  // The release's answer (hold_report_json), on the control thread.
  using Released = std::function<void(tl::expected<std::string, HoldError>)>;

  // `workers` are reached through it once they exist (the admin API, the
  // only caller, starts with them).
  HoldController(boost::asio::io_context& io, ProxyState& state,
                 const std::vector<std::unique_ptr<Worker>>& workers);

  // POST /admin/routes/NAME/hold with the body parse_hold_terms reads.
  // Returns the route's hold as JSON.
  tl::expected<std::string, HoldError> hold(const std::string& route, std::string_view body);
  // POST /admin/routes/NAME/release: `done` gets the hold's numbers once
  // every worker has let go of its requests (or an error at once).
  void release(const std::string& route, Released done);
  // After each reload: releases the holds whose route the new config has
  // no more; returns what happened to every hold, for the reload summary.
  std::string sync();

  // Appended to GET /metrics: ferry_proxy_route_held{route} (0/1) and
  // ferry_proxy_held_requests_total{route,outcome}.
  std::string render_metrics() const;

 private:
  enum class Ending { kReleased, kExpired, kRouteRemoved };
  struct Active {
    std::shared_ptr<RouteHold> hold;
    boost::asio::steady_timer expiry;  // at max_hold
  };

  // Ends the route's active hold: publishes the snapshot without it (unless
  // the route is gone already), has the workers let go, then `finish`es.
  void end(const std::string& route, Ending why, Released done);
  void finish(const std::shared_ptr<RouteHold>& hold, Ending why, int64_t ended_ms,
              const Released& done);

  boost::asio::io_context& io_;
  ProxyState& state_;
  const std::vector<std::unique_ptr<Worker>>& workers_;
  std::map<std::string, Active> active_;  // by route name
  // Released, but not yet acknowledged by every worker: still counted live.
  std::vector<std::shared_ptr<RouteHold>> ending_;
  // The outcomes of the holds that ended, by route name and HoldOutcome.
  std::map<std::string, std::array<uint64_t, std::size(kHoldOutcomes)>> totals_;
};

}  // namespace ferry::proxy
