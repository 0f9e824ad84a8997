// Runs the rollouts of the config on the proxy's control thread (with the
// admin API and the health checks, so nothing here needs a lock): every
// `interval` it reads the route's counters for both sides, takes the window
// since the last reading, has the analysis judge it (rollout_analysis.h),
// hands the verdict to the Rollout (rollout.h), sets the weights it asks
// for through ProxyState::set_weights (the admin API's path) and logs one
// line per decision.
//
// A rollout waits for POST /admin/rollouts/NAME/start. A reload keeps a
// rollout whose config is unchanged; one that changes or removes a running
// or paused rollout is refused; a pending, aborted or promoted one that
// changed starts over as pending, with the weights left as they are.
//
// With a store (the config's state_dir; rollout_store.h) every transition
// and verdict is written at once, and at the next start a rollout whose
// config is the stored one continues where it was: same state, step,
// weights and verdicts, the step's pause going on from its elapsed time;
// its analysis window starts over. One whose config changed meanwhile
// starts over as pending. Each such decision is one log line.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/json_writer.h"
#include "proxy/proxy_state.h"
#include "proxy/rollout.h"
#include "proxy/rollout_store.h"

namespace ferry::proxy {

class RolloutController {
 public:
  // `store` may be null: then rollouts live in memory only.
  RolloutController(boost::asio::io_context& io, ProxyState& state,
                    std::unique_ptr<RolloutStore> store = nullptr);

  // At the proxy's start: takes the config's rollouts, each continuing from
  // its stored state when its config is the stored one, and writes them
  // all back. An error (the store unreadable or unwritable) stops the start.
  Result<void> restore();
  // After each reload: takes the rollouts of the new config; returns what
  // changed, for the reload's log line ("" if nothing).
  std::string sync();
  // Before a reload: a config that changes or removes the rollout of a route
  // whose rollout is running or paused is refused (its steps would change
  // under it); this says why, or "" when the config may be applied.
  std::string refusal(const ProxyConfig& next) const;
  // Starts the timer that takes the verdicts.
  void run();
  void stop();

  // POST /admin/rollouts/NAME/ACTION: start, pause, resume, promote, abort.
  // Returns the rollout's JSON after the action.
  struct ActionError {
    int status = 400;  // 404 unknown route or action, 409 not allowed now
    std::string message;
  };
  tl::expected<std::string, ActionError> act(const std::string& route, std::string_view action);

  // GET /admin/rollouts: every rollout, its state, weights and latest verdicts.
  std::string render_json() const;
  // GET /admin/rollouts/NAME: one of them (404 when the route has none).
  tl::expected<std::string, ActionError> render_json(const std::string& route) const;
  // Appended to GET /metrics: ferry_rollout_state{route} (0 pending, 1 running,
  // 2 paused, 3 aborted, 4 promoted), ferry_rollout_step{route} (1-based; 0
  // before the start), ferry_rollout_verdicts_total{route,verdict}.
  std::string render_metrics() const;

 private:
  struct Entry {
    std::unique_ptr<Rollout> rollout;
    SideCounts old_before;
    SideCounts new_before;
    int64_t next_verdict_ms = 0;
    std::array<uint64_t, 3> verdicts{};  // by VerdictKind
    std::string config_text;             // rollout_config_text(), as stored
  };

  // Replaces rollouts_ with the config's; returns the reload summary and
  // the routes whose entry is new (`fresh`) or gone.
  std::string take_config(std::vector<std::string>& fresh, std::vector<std::string>& gone);
  void tick();
  // Reads both sides' counters: the baseline of the next window.
  void take_baseline(const std::string& route, Entry& e, int64_t now_ms);
  bool read_sides(const std::string& route, const Entry& e, SideCounts& old_side,
                  SideCounts& new_side) const;
  // carry_out, then writes the rollout's state.
  void apply(const std::string& route, Entry& e, const RolloutActions& actions);
  // Sets the weights the actions ask for and logs their events.
  void carry_out(const std::string& route, const RolloutActions& actions);
  // Writes a rollout's state, or removes that of a route without one now
  // (no-ops without a store). Once the proxy runs, a failure is logged by
  // log_write_failure and the proxy serves on: traffic matters more.
  Result<void> save(const std::string& route, const Entry& e);
  Result<void> forget(const std::string& route);
  void log_write_failure(const std::string& route, const Error& error) const;
  void write_rollout(JsonWriter& w, const std::string& route, const Entry& e, int64_t now_ms) const;

  ProxyState& state_;
  boost::asio::steady_timer timer_;
  std::map<std::string, Entry> rollouts_;  // by route name
  std::unique_ptr<RolloutStore> store_;
};

}  // namespace ferry::proxy
