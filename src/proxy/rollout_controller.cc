#include "proxy/rollout_controller.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>

#include "core/log.h"
#include "core/text.h"

namespace ferry::proxy {

namespace asio = boost::asio;
using error_code = boost::system::error_code;

namespace {

// How often the timer looks for a verdict that is due; the shortest
// interval the config allows is 100 ms.
constexpr auto kTick = std::chrono::milliseconds(50);

// Two decimals, as in the log: 61.9 rather than 61.904761904761905.
double hundredths(double v) { return std::round(v * 100) / 100; }

int64_t unix_ms() { return static_cast<int64_t>(unix_now() * 1000); }

RolloutController::ActionError no_rollout(const std::string& route) {
  return {404, fmt::format("no rollout on a route named '{}'", route)};
}

}  // namespace

RolloutController::RolloutController(asio::io_context& io, ProxyState& state,
                                     std::unique_ptr<RolloutStore> store)
    : state_(state), timer_(io), store_(std::move(store)) {}

std::string RolloutController::take_config(std::vector<std::string>& fresh,
                                           std::vector<std::string>& gone) {
  const auto snap = state_.snapshot();
  std::string summary;
  std::map<std::string, Entry> next;
  for (const auto& route : snap->config.routes) {
    if (!route.rollout) continue;
    auto found = rollouts_.find(route.name);
    if (found != rollouts_.end() && found->second.rollout->config() == *route.rollout) {
      next[route.name] = std::move(found->second);
      continue;
    }
    if (found != rollouts_.end()) {
      summary += fmt::format(
          "; rollout of '{}' starts over as pending (its config changed; it "
          "was {})",
          route.name, rollout_phase_name(found->second.rollout->phase()));
    }
    Entry e;
    e.rollout = std::make_unique<Rollout>(route.name, *route.rollout);
    e.config_text = rollout_config_text(*route.rollout);
    next[route.name] = std::move(e);
    fresh.push_back(route.name);
  }
  for (const auto& [route, e] : rollouts_) {
    if (!next.count(route)) {
      summary += fmt::format("; rollout of '{}' removed (it was {})", route,
                             rollout_phase_name(e.rollout->phase()));
      gone.push_back(route);
    }
  }
  rollouts_ = std::move(next);
  return summary;
}

std::string RolloutController::sync() {
  std::vector<std::string> fresh, gone;
  std::string summary = take_config(fresh, gone);
  for (const auto& route : fresh) {
    if (auto ok = save(route, rollouts_.at(route)); !ok) log_write_failure(route, ok.error());
  }
  for (const auto& route : gone) {
    if (auto ok = forget(route); !ok) log_write_failure(route, ok.error());
  }
  return summary;
}

Result<void> RolloutController::restore() {
  std::vector<std::string> fresh, gone;
  (void)take_config(fresh, gone);
  if (!store_) return {};
  const int64_t now_unix = unix_ms();
  auto stored = store_->load(now_unix);
  if (!stored) return tl::unexpected(stored.error());
  const int64_t now = monotonic_ms();
  for (auto& [route, e] : rollouts_) {
    auto found = stored->find(route);
    if (found == stored->end()) continue;
    const StoredRollout& s = found->second;
    const RolloutRecord& r = s.record;
    if (s.config_text != e.config_text) {
      // Its steps or thresholds are not the ones it ran under: nothing it
      // decided holds for the new ones. Pending (the file's weights) is safe.
      if (r.phase != RolloutPhase::kPending) {
        log_warn(fmt::format(
            "proxy: event=rollout_reset route={} reason=config_changed was={} step={} "
            "file={} stored_config={} config={}: the rollout is pending, with the file's weights",
            route, rollout_phase_name(r.phase), r.step + 1, log_value(store_->path()),
            log_value(s.config_text), log_value(e.config_text)));
      }
      continue;
    }
    auto actions =
        e.rollout->restore(r, now,
                           fmt::format(" file={} saved_ms_ago={}", log_value(store_->path()),
                                       now_unix - s.saved_unix_ms));
    if (!actions) return tl::unexpected(std::move(actions.error()).with_context(store_->path()));
    carry_out(route, *actions);  // written below with the others
    // The counters began at zero with this process: a new window starts now.
    if (e.rollout->analysing()) take_baseline(route, e, now);
  }
  for (const auto& [route, s] : *stored) {
    if (rollouts_.count(route)) continue;
    if (s.record.phase != RolloutPhase::kPending) {
      log_warn(fmt::format(
          "proxy: event=rollout_reset route={} reason=no_rollout_in_config was={} step={} file={}: "
          "its stored state is dropped",
          route, rollout_phase_name(s.record.phase), s.record.step + 1, log_value(store_->path())));
    }
    if (auto ok = forget(route); !ok) return ok;
  }
  for (const auto& [route, e] : rollouts_) {
    if (auto ok = save(route, e); !ok) return ok;
  }
  return {};
}

std::string RolloutController::refusal(const ProxyConfig& next) const {
  std::string why;
  for (const auto& [route, e] : rollouts_) {
    if (!e.rollout->analysing()) continue;
    const RouteConfig* rc = next.find_route(route);
    if (rc && rc->rollout && *rc->rollout == e.rollout->config()) continue;
    why += fmt::format(
        "{}the rollout of '{}' is {} at step {}; a reload may not {} it (pause and abort it "
        "first, or let it finish)",
        why.empty() ? "" : "; ", route, rollout_phase_name(e.rollout->phase()),
        e.rollout->step() + 1, rc && rc->rollout ? "change" : "remove");
  }
  return why;
}

void RolloutController::run() {
  timer_.expires_after(kTick);
  timer_.async_wait([this](const error_code& ec) {
    if (ec) return;
    tick();
    run();
  });
}

void RolloutController::stop() { timer_.cancel(); }

bool RolloutController::read_sides(const std::string& route, const Entry& e, SideCounts& old_side,
                                   SideCounts& new_side) const {
  const auto snap = state_.snapshot();
  const int r = snap->router.find_route(route);
  const RolloutConfig& c = e.rollout->config();
  int from = -1, to = -1;
  for (size_t p = 0; p < snap->config.pools.size(); ++p) {
    if (snap->config.pools[p].name == c.from) from = static_cast<int>(p);
    if (snap->config.pools[p].name == c.to) to = static_cast<int>(p);
  }
  if (r < 0 || from < 0 || to < 0) return false;
  old_side = read_counts(*snap->stats_for(r, from));
  new_side = read_counts(*snap->stats_for(r, to));
  return true;
}

void RolloutController::take_baseline(const std::string& route, Entry& e, int64_t now_ms) {
  read_sides(route, e, e.old_before, e.new_before);
  e.next_verdict_ms = now_ms + e.rollout->config().analysis.interval_ms;
}

void RolloutController::apply(const std::string& route, Entry& e, const RolloutActions& actions) {
  carry_out(route, actions);
  if (auto ok = save(route, e); !ok) log_write_failure(route, ok.error());
}

void RolloutController::carry_out(const std::string& route, const RolloutActions& actions) {
  if (actions.set_weights) {
    if (auto ok = state_.set_weights(route, *actions.set_weights); !ok) {
      log_error(fmt::format("proxy: event=rollout_weights_refused route={} detail={}", route,
                            log_value(ok.error().message)));
    }
  }
  for (const auto& line : actions.events) log_info(line);
}

Result<void> RolloutController::save(const std::string& route, const Entry& e) {
  if (!store_) return {};
  return store_->save(route, e.config_text, e.rollout->record(monotonic_ms()), unix_ms());
}

Result<void> RolloutController::forget(const std::string& route) {
  if (!store_) return {};
  return store_->remove(route);
}

void RolloutController::log_write_failure(const std::string& route, const Error& error) const {
  log_error(fmt::format(
      "proxy: event=rollout_state_write_failed route={} file={} detail={}: the proxy serves on; "
      "a restart now would not see the rollout's latest state",
      route, log_value(store_->path()), log_value(error.to_string())));
}

void RolloutController::tick() {
  const int64_t now = monotonic_ms();
  for (auto& [route, e] : rollouts_) {
    if (!e.rollout->analysing() || now < e.next_verdict_ms) continue;
    SideCounts old_now, new_now;
    if (!read_sides(route, e, old_now, new_now)) continue;
    const Verdict v =
        analyse(old_now - e.old_before, new_now - e.new_before, e.rollout->config().analysis);
    e.old_before = old_now;
    e.new_before = new_now;
    e.next_verdict_ms = now + e.rollout->config().analysis.interval_ms;
    ++e.verdicts[static_cast<size_t>(v.kind)];
    apply(route, e, e.rollout->on_verdict(now, v));
  }
}

tl::expected<std::string, RolloutController::ActionError> RolloutController::act(
    const std::string& route, std::string_view action) {
  auto found = rollouts_.find(route);
  if (found == rollouts_.end()) return tl::unexpected(no_rollout(route));
  Entry& e = found->second;
  Rollout& r = *e.rollout;
  const int64_t now = monotonic_ms();
  Result<RolloutActions> done = fail(ErrorCode::kInvalidInput, "");
  if (action == "start") {
    const auto snap = state_.snapshot();
    const int index = snap->router.find_route(route);
    if (index < 0) {
      return tl::unexpected(ActionError{404, fmt::format("no route named '{}'", route)});
    }
    const RouteConfig& rc = snap->config.routes[static_cast<size_t>(index)];
    const auto weights = snap->router.weights(static_cast<size_t>(index));
    PoolWeights current;
    for (size_t i = 0; i < rc.split.size() && i < weights.size(); ++i) {
      current.emplace_back(rc.split[i].pool, weights[i]);
    }
    done = r.start(now, current);
  } else if (action == "pause") {
    done = r.pause(now, "admin");
  } else if (action == "resume") {
    done = r.resume(now);
  } else if (action == "promote") {
    done = r.promote(now);
  } else if (action == "abort") {
    done = r.abort(now, "admin");
  } else {
    return tl::unexpected(ActionError{
        404,
        fmt::format("unknown action '{}'; use start, pause, resume, promote or abort", action)});
  }
  if (!done) return tl::unexpected(ActionError{409, done.error().message});
  apply(route, e, *done);
  // Each window covers one state of the rollout: a new one starts now.
  if (action == "start" || action == "resume") take_baseline(route, e, now);
  JsonWriter w;
  write_rollout(w, route, e, now);
  return w.take();
}

void RolloutController::write_rollout(JsonWriter& w, const std::string& route, const Entry& e,
                                      int64_t now_ms) const {
  const Rollout& r = *e.rollout;
  const RolloutConfig& c = r.config();
  w.begin_object();
  w.field("route", route);
  w.field("to", c.to);
  w.field("from", c.from);
  w.field("state", rollout_phase_name(r.phase()));
  w.field("reason", r.reason());
  w.field("step", r.step() + 1);  // 1-based, as in the log; 0 before start
  w.field("steps", c.steps.size());
  if (r.step() >= 0) {
    const RolloutStepConfig& s = c.steps[static_cast<size_t>(r.step())];
    w.field("step_weight", s.weight);
    w.field("step_pause_ms", s.pause_ms);
    w.field("step_elapsed_ms", now_ms - r.step_started_ms());
  }
  const auto snap = state_.snapshot();
  const int index = snap->router.find_route(route);
  w.key("weights").begin_object();
  if (index >= 0) {
    const RouteConfig& rc = snap->config.routes[static_cast<size_t>(index)];
    const auto weights = snap->router.weights(static_cast<size_t>(index));
    for (size_t i = 0; i < rc.split.size() && i < weights.size(); ++i) {
      w.field(rc.split[i].pool, weights[i]);
    }
  }
  w.end_object();
  w.key("starting_weights").begin_object();
  for (const auto& [pool, weight] : r.starting_weights()) w.field(pool, weight);
  w.end_object();
  const AnalysisConfig& a = c.analysis;
  w.key("analysis").begin_object();
  w.field("interval_ms", a.interval_ms);
  w.field("max_error_rate_increase", a.max_error_rate_increase);
  w.field("max_p99_ratio", a.max_p99_ratio);
  w.field("min_requests", a.min_requests);
  w.field("inconclusive_for_ms", a.inconclusive_for_ms);
  w.end_object();
  w.key("verdicts").begin_array();  // newest first
  for (auto it = r.verdicts().rbegin(); it != r.verdicts().rend(); ++it) {
    const Verdict& v = it->verdict;
    w.begin_object();
    w.field("ms_ago", now_ms - it->at_ms);
    w.field("step", it->step + 1);
    w.field("verdict", verdict_name(v.kind));
    w.field("reason", verdict_reason_name(v.reason));
    w.field("requests_new", v.requests_new);
    w.field("requests_old", v.requests_old);
    w.field("error_rate_new", hundredths(v.error_rate_new));
    w.field("error_rate_old", hundredths(v.error_rate_old));
    w.field("p99_ms_new", hundredths(v.p99_ms_new));
    w.field("p99_ms_old", hundredths(v.p99_ms_old));
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

std::string RolloutController::render_json() const {
  const int64_t now = monotonic_ms();
  JsonWriter w(4);
  w.begin_object().key("rollouts").begin_array();
  for (const auto& [route, e] : rollouts_) write_rollout(w, route, e, now);
  w.end_array().end_object();
  return w.take();
}

tl::expected<std::string, RolloutController::ActionError> RolloutController::render_json(
    const std::string& route) const {
  auto found = rollouts_.find(route);
  if (found == rollouts_.end()) return tl::unexpected(no_rollout(route));
  JsonWriter w;
  write_rollout(w, route, found->second, monotonic_ms());
  return w.take();
}

std::string RolloutController::render_metrics() const {
  // Route names are letters, digits, '_', '-' and '.': nothing to escape.
  std::string out;
  out +=
      "# HELP ferry_rollout_state Rollout state: 0 pending, 1 running, 2 paused, 3 aborted, "
      "4 promoted.\n";
  out += "# TYPE ferry_rollout_state gauge\n";
  for (const auto& [route, e] : rollouts_) {
    out += fmt::format("ferry_rollout_state{{route=\"{}\"}} {}\n", route,
                       static_cast<int>(e.rollout->phase()));
  }
  out += "# HELP ferry_rollout_step The rollout's current step, 1-based (0 before the start).\n";
  out += "# TYPE ferry_rollout_step gauge\n";
  for (const auto& [route, e] : rollouts_) {
    out += fmt::format("ferry_rollout_step{{route=\"{}\"}} {}\n", route, e.rollout->step() + 1);
  }
  out += "# HELP ferry_rollout_verdicts_total Analysis verdicts, by verdict.\n";
  out += "# TYPE ferry_rollout_verdicts_total counter\n";
  for (const auto& [route, e] : rollouts_) {
    for (VerdictKind k : {VerdictKind::kPass, VerdictKind::kFail, VerdictKind::kInconclusive}) {
      out += fmt::format("ferry_rollout_verdicts_total{{route=\"{}\",verdict=\"{}\"}} {}\n", route,
                         verdict_name(k), e.verdicts[static_cast<size_t>(k)]);
    }
  }
  return out;
}

}  // namespace ferry::proxy
