// A progressive rollout of one route, as a state machine that reads no
// clock: every call takes `now_ms`, and what it decides comes back as
// actions (weights to set, event lines to log), so rollout_test.cc drives
// it with fake time and rollout_controller.cc applies it.
//
//   pending --start--> running(step 0) --step passes--> running(step i+1) ...
//   running(last step) passes            -> promoted
//   a FAIL verdict (running or paused)   -> aborted: the starting weights, at once
//   no conclusive verdict for inconclusive_for -> paused (resume: running again)
//   pause / resume / promote / abort: by hand (admin API)
//
// A step passes when its pause has elapsed since its weights were set, the
// latest verdict is PASS and it came after the step began; a FAIL aborts at
// once, so "no FAIL during the step" holds for any step still running. A
// step without a pause passes as soon as its weights are set (the last step,
// at weight 100, has no old side left to compare with). Inconclusive is
// never a pass: the step waits, and after inconclusive_for without a
// conclusive verdict the rollout pauses and says why.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "proxy/proxy_config.h"
#include "proxy/rollout_analysis.h"

namespace ferry::proxy {

enum class RolloutPhase { kPending, kRunning, kPaused, kAborted, kPromoted };
const char* rollout_phase_name(RolloutPhase p);

using PoolWeights = std::vector<std::pair<std::string, int>>;

struct RolloutActions {
  std::optional<PoolWeights> set_weights;  // apply before logging the events
  std::vector<std::string> events;         // "proxy: event=rollout_... route=..." lines
};

struct TimedVerdict {
  int64_t at_ms = 0;
  int step = 0;
  Verdict verdict;
};

// What a rollout needs to continue in another process (rollout_store.h keeps
// it). Times are ages at the moment of the record: the clock this class is
// given (monotonic) means nothing after a restart.
struct RolloutRecord {
  RolloutPhase phase = RolloutPhase::kPending;
  int step = -1;  // index into the steps; -1 before the start
  PoolWeights starting_weights;
  std::string reason;
  int64_t step_elapsed_ms = 0;         // how long the current step has run
  int64_t since_conclusive_ms = 0;     // since the last conclusive verdict, step start or resume
  std::vector<TimedVerdict> verdicts;  // oldest first; at_ms is the verdict's age here
};

// The config as one line, e.g. "to=modern from=legacy steps=10/5m,50/10m,100
// interval=30s ...": a stored rollout continues only under the same text.
std::string rollout_config_text(const RolloutConfig& config);

class Rollout {
 public:
  Rollout(std::string route, RolloutConfig config);

  const std::string& route() const { return route_; }
  const RolloutConfig& config() const { return config_; }
  RolloutPhase phase() const { return phase_; }
  // Index into config().steps of the current (or last) step; -1 before start.
  int step() const { return step_; }
  const PoolWeights& starting_weights() const { return starting_weights_; }
  const std::string& reason() const { return reason_; }  // why it paused or aborted
  int64_t step_started_ms() const { return step_started_ms_; }
  const std::deque<TimedVerdict>& verdicts() const { return verdicts_; }  // newest last
  // Whether verdicts are taken now (running or paused: traffic is split).
  bool analysing() const {
    return phase_ == RolloutPhase::kRunning || phase_ == RolloutPhase::kPaused;
  }
  // The weights a step sets: `to` gets its weight, `from` the rest of 100.
  PoolWeights weights_of_step(int step) const;

  // Pending or aborted -> running at step 0. `current` is the route's
  // weights now, restored on abort.
  Result<RolloutActions> start(int64_t now_ms, const PoolWeights& current);
  // One verdict on the window that just ended; ignored unless analysing().
  RolloutActions on_verdict(int64_t now_ms, const Verdict& verdict);
  Result<RolloutActions> pause(int64_t now_ms, const std::string& reason);
  Result<RolloutActions> resume(int64_t now_ms);
  Result<RolloutActions> promote(int64_t now_ms);
  Result<RolloutActions> abort(int64_t now_ms, const std::string& reason);

  RolloutRecord record(int64_t now_ms) const;
  // A pending rollout takes a record of the same config: the phase, step,
  // starting weights, reason and verdicts come back, and the step's pause
  // and the inconclusive clock go on from the ages recorded. The actions set
  // the weights that state implies (the step's; the starting ones when
  // aborted; none when pending) and log one line; `note` ends it (where the
  // record came from). An error when the record cannot be of this config.
  Result<RolloutActions> restore(const RolloutRecord& record, int64_t now_ms,
                                 std::string_view note);

 private:
  void enter_step(int step, int64_t now_ms, RolloutActions& out);
  void maybe_advance(int64_t now_ms, RolloutActions& out);
  void enter_aborted(const std::string& reason, const std::string& numbers, RolloutActions& out);
  // The refusal of an action the phase does not allow (the admin API answers 409).
  tl::unexpected<Error> wrong_phase(const char* action) const;

  static constexpr size_t kKeptVerdicts = 20;

  std::string route_;
  RolloutConfig config_;
  RolloutPhase phase_ = RolloutPhase::kPending;
  int step_ = -1;
  PoolWeights starting_weights_;
  std::string reason_;
  int64_t step_started_ms_ = 0;
  int64_t conclusive_since_ms_ = 0;  // last conclusive verdict, step start or resume
  std::deque<TimedVerdict> verdicts_;
};

}  // namespace ferry::proxy
