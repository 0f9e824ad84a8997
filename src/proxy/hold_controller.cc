#include "proxy/hold_controller.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>
#include <set>

#include "core/json_writer.h"
#include "core/log.h"
#include "core/metrics_endpoint.h"
#include "core/text.h"

namespace ferry::proxy {

namespace asio = boost::asio;

HoldController::HoldController(asio::io_context& io, ProxyState& state,
                               const std::vector<std::unique_ptr<Worker>>& workers)
    : io_(io), state_(state), workers_(workers) {}

tl::expected<std::string, HoldController::HoldError> HoldController::hold(const std::string& route,
                                                                          std::string_view body) {
  if (state_.snapshot()->router.find_route(route) < 0) {
    return tl::unexpected(HoldError{404, fmt::format("no route named '{}'", route)});
  }
  auto terms = parse_hold_terms(body);
  if (!terms) return tl::unexpected(HoldError{400, terms.error().to_string()});
  const int64_t now = monotonic_ms();
  if (auto found = active_.find(route); found != active_.end()) {
    return tl::unexpected(HoldError{
        409, fmt::format("route '{}' is already held (for {} ms; POST /admin/routes/{}/release "
                         "ends it)",
                         route, now - found->second.hold->since_ms(), route)});
  }
  auto hold = std::make_shared<RouteHold>(route, *terms, now, unix_now(), workers_.size());
  if (auto ok = state_.set_hold(route, hold); !ok) {
    return tl::unexpected(HoldError{404, ok.error().message});
  }
  Active& a = active_.try_emplace(route, Active{hold, asio::steady_timer(io_)}).first->second;
  a.expiry.expires_after(std::chrono::milliseconds(hold_expiry_ms(now, *terms) - now));
  a.expiry.async_wait([this, route, expiring = hold.get()](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: released before
    auto found = active_.find(route);
    if (found != active_.end() && found->second.hold.get() == expiring) {
      end(route, Ending::kExpired, nullptr);
    }
  });
  log_info(fmt::format("proxy: event=route_held route={} timeout_ms={} max_hold_ms={}", route,
                       terms->timeout_ms, terms->max_hold_ms));
  JsonWriter w;
  w.begin_object().field("route", route);
  hold->write_state(w, now);
  w.end_object();
  return w.take();
}

void HoldController::release(const std::string& route, Released done) {
  if (!active_.count(route)) {
    const bool known = state_.snapshot()->router.find_route(route) >= 0;
    done(tl::unexpected(known ? HoldError{409, fmt::format("route '{}' is not held", route)}
                              : HoldError{404, fmt::format("no route named '{}'", route)}));
    return;
  }
  end(route, Ending::kReleased, std::move(done));
}

std::string HoldController::sync() {
  const auto snap = state_.snapshot();
  std::string summary;
  std::vector<std::string> gone;
  for (const auto& [route, a] : active_) {
    if (snap->router.find_route(route) >= 0) {
      summary += fmt::format("; hold of '{}' kept ({} waiting)", route, a.hold->waiting());
    } else {
      gone.push_back(route);
    }
  }
  for (const auto& route : gone) {
    summary += fmt::format("; hold of '{}' released (the route is gone)", route);
    end(route, Ending::kRouteRemoved, nullptr);
  }
  return summary;
}

void HoldController::end(const std::string& route, Ending why, Released done) {
  auto found = active_.find(route);
  std::shared_ptr<RouteHold> hold = std::move(found->second.hold);
  active_.erase(found);  // cancels the expiry timer
  const int64_t ended = monotonic_ms();
  // Published before the workers are told: a request that starts after a
  // worker let go of its held ones finds the route free, so none is left
  // behind. (A removed route's hold left with the reload's snapshot; any
  // other route is still there, as every reload calls sync(): no error.)
  if (why != Ending::kRouteRemoved) (void)state_.set_hold(route, nullptr);
  ending_.push_back(hold);
  auto remaining = std::make_shared<size_t>(workers_.size());
  auto acknowledged = [this, remaining, hold, why, ended, done = std::move(done)] {
    if (--*remaining == 0) finish(hold, why, ended, done);
  };
  if (workers_.empty()) {
    finish(hold, why, ended, done);
    return;
  }
  for (const auto& worker : workers_) {
    worker->release(hold, [this, acknowledged] { asio::post(io_, acknowledged); });
  }
}

void HoldController::finish(const std::shared_ptr<RouteHold>& hold, Ending why, int64_t ended_ms,
                            const Released& done) {
  std::erase(ending_, hold);
  const HoldReport report = hold->report(ended_ms);
  auto& totals = totals_[hold->route()];
  for (HoldOutcome outcome : kHoldOutcomes) {
    totals[static_cast<size_t>(outcome)] += hold->count(outcome);
  }
  const std::string fields = hold_report_fields(report);
  switch (why) {
    case Ending::kReleased:
      log_info(fmt::format("proxy: event=route_released reason=admin {}", fields));
      break;
    case Ending::kRouteRemoved:
      log_info(fmt::format("proxy: event=route_released reason=route_removed {}", fields));
      break;
    case Ending::kExpired:
      log_warn(fmt::format(
          "proxy: event=hold_expired {} max_hold_ms={}: nothing released it in time (did the "
          "cutover's driver stop?); its requests went on",
          fields, hold->terms().max_hold_ms));
      break;
  }
  if (done) done(hold_report_json(report));
}

std::string HoldController::render_metrics() const {
  const auto snap = state_.snapshot();
  // Every route of the config, and those that had holds before a reload removed them.
  std::set<std::string> routes;
  for (const auto& rc : snap->config.routes) routes.insert(rc.name);
  for (const auto& [route, counts] : totals_) routes.insert(route);
  std::string out;
  out += "# HELP ferry_proxy_route_held 1 while the route's requests are held.\n";
  out += "# TYPE ferry_proxy_route_held gauge\n";
  for (const auto& rc : snap->config.routes) {
    out += fmt::format("ferry_proxy_route_held{{route=\"{}\"}} {}\n", prometheus_label(rc.name),
                       active_.count(rc.name) ? 1 : 0);
  }
  out +=
      "# HELP ferry_proxy_held_requests_total Requests that waited in a route's hold, by how "
      "they left it.\n";
  out += "# TYPE ferry_proxy_held_requests_total counter\n";
  for (const std::string& route : routes) {
    std::array<uint64_t, std::size(kHoldOutcomes)> counts{};
    if (auto found = totals_.find(route); found != totals_.end()) counts = found->second;
    auto add_live = [&](const RouteHold& hold) {
      if (hold.route() != route) return;
      for (HoldOutcome outcome : kHoldOutcomes) {
        counts[static_cast<size_t>(outcome)] += hold.count(outcome);
      }
    };
    if (auto found = active_.find(route); found != active_.end()) add_live(*found->second.hold);
    for (const auto& hold : ending_) add_live(*hold);
    for (HoldOutcome outcome : kHoldOutcomes) {
      out += fmt::format("ferry_proxy_held_requests_total{{route=\"{}\",outcome=\"{}\"}} {}\n",
                         prometheus_label(route), hold_outcome_name(outcome),
                         counts[static_cast<size_t>(outcome)]);
    }
  }
  return out;
}

}  // namespace ferry::proxy
