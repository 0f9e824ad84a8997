// The traffic steps of LiveStepRunner: a rollout driven through the proxy's
// admin API, the cutover (hold, database switch, weights, release) and its
// undo, and the watch of seed 000's rollback criteria (live_step_runner.h).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include "core/log.h"
#include "core/text.h"
#include "run/live_step_runner.h"
#include "run/proxy_admin.h"
#include "run/route_metrics.h"

namespace ferry::run {

namespace {

using Clock = std::chrono::steady_clock;

// Calls to the proxy failing this many times in a row fail the step: one
// failed call (a proxy reloading, a busy moment) does not.
constexpr int kProxyFailuresTolerated = 10;
// How long a hold waits for the requests already sent on to finish.
constexpr int64_t kMaxDrainMs = 2'000;

int64_t ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

std::string rollout_detail(const RolloutView& r) {
  return fmt::format("state={} step={}/{} weights: {}{}{}", r.state, r.step, r.steps,
                     weights_text(r.weights),
                     r.reason.empty() ? "" : " reason=" + log_value(r.reason),
                     r.last_verdict.empty() ? "" : "; last verdict: " + r.last_verdict);
}

}  // namespace

void LiveStepRunner::note_traffic(const std::string& route, const char* label, bool first_only) {
  std::vector<std::string> routes;
  for (const PlanStep& s : plan_.steps) {
    if (s.route.empty() || (!route.empty() && s.route != route)) continue;
    if (std::find(routes.begin(), routes.end(), s.route) == routes.end()) routes.push_back(s.route);
  }
  std::string error;
  ProxyAdmin* p = routes.empty() ? nullptr : proxy(&error);
  if (!p) return;
  std::optional<std::string> metrics;
  for (const std::string& r : routes) {
    const std::string k = fmt::format("traffic.{}.{}", r, label);
    if (first_only && !recall(k).empty()) continue;
    if (!metrics) {
      auto read = p->metrics();
      if (!read) {
        log_warn(fmt::format("run: could not read the proxy's metrics ({} of route {}): {}", label,
                             r, read.error().to_string()));
        return;
      }
      metrics = std::move(*read);
    }
    remember(k, pool_counts_line(pool_counts(*metrics, r)));
  }
}

StepOutcome LiveStepRunner::rollout(size_t index, const PlanStep& step, StopCheck& stop) {
  std::string error;
  ProxyAdmin* p = proxy(&error);
  if (!p) return {false, error};
  const std::string& route = step.route;
  const std::string started_key = key(index, "rollout_started");
  const std::string paused_key = key(index, "paused_by_run");
  int failures = 0;
  int64_t last_step = -1;
  while (true) {
    auto r = p->rollout(route);
    if (!r) {
      if (++failures >= kProxyFailuresTolerated) return {false, r.error().to_string()};
      sleep_poll();
      continue;
    }
    failures = 0;
    const bool ours = recall(started_key) == "yes";
    if (r->state == "promoted") {
      return {true,
              (ours ? "promoted: " : "promoted already (not by this run): ") + rollout_detail(*r)};
    }
    if (r->state == "aborted" && ours) {
      return {false, "the rollout's analysis rolled it back (" + rollout_detail(*r) + ")"};
    }
    if (r->state == "pending" || r->state == "aborted") {
      if (ours) {
        event("rollout_restarted", fmt::format("step={} route={} the proxy's rollout is {} again "
                                               "(its config changed?); starting it over",
                                               index + 1, route, r->state));
      }
      if (recall(key(index, "starting_weights")).empty()) {
        remember(key(index, "starting_weights"), weights_json(r->weights));
      }
      auto started = p->rollout_action(route, "start");
      if (!started) return {false, started.error().to_string()};
      remember(started_key, "yes");
      event("rollout_started",
            fmt::format("step={} route={} to={} steps={} weights: {}", index + 1, route,
                        started->to, started->steps, weights_text(started->weights)));
      continue;
    }
    if (r->state == "paused") {
      if (recall(paused_key) == "yes") {
        auto resumed = p->rollout_action(route, "resume");
        if (!resumed) return {false, resumed.error().to_string()};
        remember(paused_key, "");
        event("rollout_resumed", fmt::format("step={} route={}", index + 1, route));
        continue;
      }
      if (r->reason.rfind("inconclusive", 0) == 0) {
        return {false, "the rollout's analysis paused it: " + r->reason +
                           " (too little traffic to judge is never a pass)"};
      }
    }
    if (r->step != last_step && r->state == "running") {
      last_step = r->step;
      event("rollout_step",
            fmt::format("step={} route={} {}", index + 1, route, rollout_detail(*r)));
    }
    if (stop.stop_requested()) {
      // Traffic stays where it is while a person decides; an abort undoes it.
      if (r->state == "running") {
        if (p->rollout_action(route, "pause")) remember(paused_key, "yes");
      }
      return {false, "stopped by a person's command at " + rollout_detail(*r)};
    }
    sleep_poll();
  }
}

StepOutcome LiveStepRunner::undo_rollout(size_t index, const PlanStep& step) {
  std::string error;
  ProxyAdmin* p = proxy(&error);
  if (!p) return {false, error};
  auto r = p->rollout(step.route);
  if (!r) return {false, r.error().to_string()};
  if (r->state == "running" || r->state == "paused") {
    auto aborted = p->rollout_action(step.route, "abort");
    if (!aborted) return {false, aborted.error().to_string()};
    remember(key(index, "paused_by_run"), "");
    return {true, "rollout aborted: weights " + weights_text(aborted->weights)};
  }
  // Promoted (or aborted by its analysis, or never started): the weights the
  // route had before the step.
  const std::string kept = recall(key(index, "starting_weights"));
  if (kept.empty()) return {true, "the rollout never started: nothing moved"};
  auto weights = parse_weights_json(kept);
  if (!weights) return {false, weights.error().to_string()};
  if (auto ok = p->set_weights(step.route, *weights); !ok) return {false, ok.error().to_string()};
  return {true, "weights set back to " + weights_text(*weights)};
}

StepOutcome LiveStepRunner::cutover(size_t index, const PlanStep& step, StopCheck& stop) {
  (void)stop;  // a cutover, once begun, runs to its end or restores the old side itself
  const PlanDatabase& db = *plan_.find_database(step.database);
  if (step.route.empty()) return switch_database(index, step, db, false);
  std::string error;
  ProxyAdmin* p = proxy(&error);
  if (!p) return {false, error};
  // Where the route goes, known before anything moves.
  std::string to = step.to_pool;
  if (to.empty()) {
    auto r = p->rollout(step.route);
    if (!r) {
      return {false, "the cutover moves route " + step.route +
                         " to its rollout's pool, and the proxy has no rollout for it (give the "
                         "cutover to: POOL): " +
                         r.error().message};
    }
    to = r->to;
  }
  auto before = p->weights(step.route);
  if (!before) return {false, before.error().to_string()};
  RouteWeights after;
  bool known = false;
  for (const auto& [pool, weight] : *before) {
    after.emplace_back(pool, pool == to ? 100 : 0);
    known = known || pool == to;
  }
  if (!known) {
    return {false, fmt::format("route {} has no pool '{}' (its pools: {})", step.route, to,
                               weights_text(*before))};
  }
  if (recall(key(index, "weights_before")).empty()) {
    remember(key(index, "weights_before"), weights_json(*before));
  }
  return held_switch(index, step, false, after);
}

StepOutcome LiveStepRunner::undo_cutover(size_t index, const PlanStep& step) {
  const PlanDatabase& db = *plan_.find_database(step.database);
  // What the cutover did, from the database itself: a cutover that failed
  // has restored the old side, and only the route may have to go back.
  const bool switched = database_switched(db);
  if (step.route.empty()) {
    return switched ? switch_database(index, step, db, true)
                    : StepOutcome{true, "nothing had moved"};
  }
  const std::string kept = recall(key(index, "weights_before"));
  if (kept.empty()) return {true, "nothing had moved"};
  auto weights = parse_weights_json(kept);
  if (!weights) return {false, weights.error().to_string()};
  if (!switched) {
    std::string error;
    ProxyAdmin* p = proxy(&error);
    if (!p) return {false, error};
    if (auto ok = p->set_weights(step.route, *weights); !ok) return {false, ok.error().to_string()};
    return {true, "route " + step.route + " back to " + weights_text(*weights)};
  }
  return held_switch(index, step, true, *weights);
}

// The cutover's order, and its rollback's: hold the route's requests (from
// here they wait in the proxy), switch the database, move the route's
// weights, release, whatever happened (each released request goes where
// the weights then say).
StepOutcome LiveStepRunner::held_switch(size_t index, const PlanStep& step, bool rollback,
                                        const RouteWeights& weights) {
  const PlanDatabase& db = *plan_.find_database(step.database);
  std::string error;
  ProxyAdmin* p = proxy(&error);
  if (!p) return {false, error};
  auto before = p->weights(step.route);
  if (!before) return {false, before.error().to_string()};
  const auto t0 = Clock::now();
  const std::string holding_key = key(index, rollback ? "rollback_holding" : "holding");
  if (step.hold_ms > 0) {
    // Longer than the switch should ever take, short enough that a driver
    // that died mid-way leaves the route blocked for seconds, not minutes.
    const int64_t max_hold_ms = 2 * step.hold_ms + 10'000;
    // An engine that died after its hold finds the route held: its own
    // (the intent is journaled before the call, so it is known).
    const bool ours = recall(holding_key) == "yes";
    remember(holding_key, "yes");
    auto held = p->hold(step.route, step.hold_ms, max_hold_ms);
    if (!held || (!*held && !ours)) {
      remember(holding_key, "");
      return {false, !held ? "could not hold the route's requests (nothing changed): " +
                                 held.error().to_string()
                           : "route " + step.route +
                                 " is held already, by someone else (nothing changed): release "
                                 "it (POST /admin/routes/" +
                                 step.route + "/release) and resume the run"};
    }
    // Requests sent on before the hold finish first: one that reached the
    // database after it turned read-only would fail.
    const auto drain_start = Clock::now();
    int64_t active = -1;
    while (ms_since(drain_start) < std::min<int64_t>(step.hold_ms / 2, kMaxDrainMs)) {
      auto now = p->active_requests(step.route);
      active = now ? *now : -1;
      if (active == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    event("hold",
          fmt::format("step={} route={} for={} timeout_ms={} max_hold_ms={} "
                      "drained_ms={} still_active={}",
                      index + 1, step.route, rollback ? "rollback" : "cutover", step.hold_ms,
                      max_hold_ms, ms_since(drain_start), std::max<int64_t>(active, 0)));
  }
  StepOutcome outcome = switch_database(index, step, db, rollback);
  std::string traffic;
  if (outcome.ok) {
    if (auto ok = p->set_weights(step.route, weights); !ok) {
      outcome = {false, fmt::format("the database is {}, but the route's weights could not be "
                                    "moved: {}",
                                    rollback ? "rolled back" : "cut over", ok.error().to_string())};
    } else {
      traffic = "route " + step.route + ": " + weights_text(weights);
      event("weights_changed",
            fmt::format("step={} route={} weights: {} (were {})", index + 1, step.route,
                        weights_text(weights), weights_text(*before)));
    }
  }
  std::string held;
  if (step.hold_ms > 0) {
    bool was_held = false;
    auto summary = p->release(step.route, &was_held);
    remember(holding_key, "");
    if (!summary) {
      held = "release failed (the hold ends by itself at its max_hold): " +
             summary.error().to_string();
    } else if (!was_held) {
      held = "the route was no longer held (the proxy restarted, or max_hold passed)";
    } else {
      held = "requests held: " + summary->text();
      remember(key(index, rollback ? "rollback_hold" : "hold"), summary->text());
    }
    event("release", fmt::format("step={} route={} {} step_ms={}", index + 1, step.route,
                                 log_value(held), ms_since(t0)));
  }
  std::vector<std::string> parts = {outcome.detail};
  if (!traffic.empty()) parts.push_back(traffic);
  if (!held.empty()) parts.push_back(held);
  return {outcome.ok, join(parts, "; ")};
}

StepOutcome LiveStepRunner::watch(size_t index, const PlanStep& step, StopCheck& stop) {
  std::string error;
  ProxyAdmin* p = proxy(&error);
  if (!p) return {false, error};
  const WatchCriteria& c = step.criteria;
  // The baseline: the route from the run's start until its traffic first
  // moved (or until now, when no step moved it).
  const auto kept = [&](const char* label) -> std::optional<PoolCounts> {
    const std::string line = recall(fmt::format("traffic.{}.{}", step.route, label));
    return line.empty() ? std::nullopt : parse_pool_counts_line(line);
  };
  const auto start = kept("start");
  auto end = kept("moved");
  if (!end) {
    auto metrics = p->metrics();
    if (!metrics) return {false, metrics.error().to_string()};
    end = pool_counts(*metrics, step.route);
  }
  proxy::SideCounts baseline;
  if (start && counts_follow(total(*start), total(*end))) baseline = total(*end) - total(*start);
  proxy::AnalysisConfig policy;
  policy.interval_ms = c.interval_ms;
  policy.max_error_rate_increase = c.max_error_rate_increase;
  policy.max_p99_ratio = c.max_p99_ratio;
  policy.min_requests = static_cast<int>(c.min_requests);
  // Where the watch stands survives a restart: it goes on for what is left.
  const std::string elapsed_key = key(index, "watched_ms");
  auto watched = static_cast<int64_t>(parse_double(recall(elapsed_key)).value_or(0));
  auto conclusive =
      static_cast<int64_t>(parse_double(recall(key(index, "conclusive"))).value_or(0));
  int64_t inconclusive = 0;
  int failures = 0;
  proxy::SideCounts last;
  bool have_last = false;
  auto window_start = Clock::now();
  while (watched < step.for_ms) {
    auto metrics = p->metrics();
    if (!metrics) {
      if (++failures >= kProxyFailuresTolerated) return {false, metrics.error().to_string()};
    } else {
      failures = 0;
      const proxy::SideCounts now = route_counts(*metrics, step.route);
      if (!have_last || !counts_follow(last, now)) {
        last = now;  // the first reading, or the proxy restarted: a window starts here
        have_last = true;
        window_start = Clock::now();
      } else if (ms_since(window_start) >= c.interval_ms) {
        const proxy::Verdict v = proxy::analyse(baseline, now - last, policy);
        watched += ms_since(window_start);
        remember(elapsed_key, std::to_string(watched));
        last = now;
        window_start = Clock::now();
        event("watch_verdict",
              fmt::format("step={} route={} {} baseline_requests={}", index + 1, step.route,
                          proxy::verdict_fields(v), baseline.requests));
        if (v.kind == proxy::VerdictKind::kFail) {
          return {false, fmt::format("seed 000's rollback criteria are met on route {}: {} "
                                     "(baseline: {} requests, error rate {:.2f} %, p99 {:.1f} ms)",
                                     step.route, proxy::verdict_fields(v), baseline.requests,
                                     baseline.error_rate_percent(), baseline.p99_ms())};
        }
        if (v.kind == proxy::VerdictKind::kPass) {
          remember(key(index, "conclusive"), std::to_string(++conclusive));
        } else {
          ++inconclusive;
        }
      }
    }
    if (stop.stop_requested()) return {false, "stopped by a person's command"};
    sleep_poll();
  }
  if (conclusive == 0) {
    return {false, fmt::format("no window of {} had enough requests to judge (min_requests {} "
                               "on the route and in its baseline of {} requests): too little "
                               "data is never a pass",
                               duration_text(c.interval_ms), c.min_requests, baseline.requests)};
  }
  return {true, fmt::format("{} windows passed, {} inconclusive, over {}; baseline {} requests, "
                            "error rate {:.2f} %, p99 {:.1f} ms",
                            conclusive, inconclusive, fmt::format("{:.1f} s", watched / 1000.0),
                            baseline.requests, baseline.error_rate_percent(), baseline.p99_ms())};
}

}  // namespace ferry::run
