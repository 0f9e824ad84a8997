#include "proxy/rollout.h"

#include <fmt/format.h>

#include "core/log.h"
#include "core/text.h"

namespace ferry::proxy {

namespace {

std::string weights_text(const PoolWeights& weights) {
  std::string out;
  for (const auto& [pool, weight] : weights) out += fmt::format(" {}={}", pool, weight);
  return out;
}

}  // namespace

std::string rollout_config_text(const RolloutConfig& c) {
  std::string steps;
  for (const auto& s : c.steps) {
    steps += fmt::format("{}{}", steps.empty() ? "" : ",", s.weight);
    if (s.pause_ms > 0) steps += "/" + duration_text(s.pause_ms);
  }
  const AnalysisConfig& a = c.analysis;
  // fmt's shortest form of a double reads back as the same double: equal
  // texts are equal configs.
  return fmt::format(
      "to={} from={} steps={} interval={} max_error_rate_increase={} max_p99_ratio={} "
      "min_requests={} inconclusive_for={}",
      c.to, c.from, steps, duration_text(a.interval_ms), a.max_error_rate_increase, a.max_p99_ratio,
      a.min_requests, duration_text(a.inconclusive_for_ms));
}

const char* rollout_phase_name(RolloutPhase p) {
  switch (p) {
    case RolloutPhase::kPending:
      return "pending";
    case RolloutPhase::kRunning:
      return "running";
    case RolloutPhase::kPaused:
      return "paused";
    case RolloutPhase::kAborted:
      return "aborted";
    case RolloutPhase::kPromoted:
      return "promoted";
  }
  return "";
}

Rollout::Rollout(std::string route, RolloutConfig config)
    : route_(std::move(route)), config_(std::move(config)) {}

PoolWeights Rollout::weights_of_step(int step) const {
  const int w = config_.steps[static_cast<size_t>(step)].weight;
  return {{config_.from, 100 - w}, {config_.to, w}};
}

tl::unexpected<Error> Rollout::wrong_phase(const char* action) const {
  return fail(ErrorCode::kInvalidInput, fmt::format("cannot {} the rollout of '{}': it is {}",
                                                    action, route_, rollout_phase_name(phase_)));
}

Result<RolloutActions> Rollout::start(int64_t now_ms, const PoolWeights& current) {
  if (phase_ != RolloutPhase::kPending && phase_ != RolloutPhase::kAborted) {
    return wrong_phase("start");
  }
  starting_weights_ = current;
  reason_.clear();
  verdicts_.clear();
  RolloutActions out;
  out.events.push_back(
      fmt::format("proxy: event=rollout_started route={} to={} from={} steps={} interval={} "
                  "starting_weights:{}",
                  route_, config_.to, config_.from, config_.steps.size(),
                  duration_text(config_.analysis.interval_ms), weights_text(starting_weights_)));
  enter_step(0, now_ms, out);
  return out;
}

void Rollout::enter_step(int step, int64_t now_ms, RolloutActions& out) {
  phase_ = RolloutPhase::kRunning;
  step_ = step;
  step_started_ms_ = now_ms;
  conclusive_since_ms_ = now_ms;
  const RolloutStepConfig& s = config_.steps[static_cast<size_t>(step)];
  out.set_weights = weights_of_step(step);
  out.events.push_back(
      fmt::format("proxy: event=rollout_step route={} step={} of={} weight={} "
                  "pause={} weights:{}",
                  route_, step + 1, config_.steps.size(), s.weight, duration_text(s.pause_ms),
                  weights_text(*out.set_weights)));
  maybe_advance(now_ms, out);
}

void Rollout::maybe_advance(int64_t now_ms, RolloutActions& out) {
  if (phase_ != RolloutPhase::kRunning) return;
  const RolloutStepConfig& s = config_.steps[static_cast<size_t>(step_)];
  if (s.pause_ms > 0) {
    if (now_ms - step_started_ms_ < s.pause_ms) return;
    // The latest verdict, taken during this step, must be a pass.
    if (verdicts_.empty()) return;
    const TimedVerdict& last = verdicts_.back();
    if (last.step != step_ || last.at_ms <= step_started_ms_ ||
        last.verdict.kind != VerdictKind::kPass) {
      return;
    }
  }
  if (static_cast<size_t>(step_) + 1 < config_.steps.size()) {
    enter_step(step_ + 1, now_ms, out);
    return;
  }
  phase_ = RolloutPhase::kPromoted;
  out.events.push_back(
      fmt::format("proxy: event=rollout_promoted route={} by=analysis steps={} weights:{}", route_,
                  config_.steps.size(), weights_text(weights_of_step(step_))));
}

void Rollout::enter_aborted(const std::string& reason, const std::string& numbers,
                            RolloutActions& out) {
  phase_ = RolloutPhase::kAborted;
  reason_ = reason;
  out.set_weights = starting_weights_;
  out.events.push_back(
      fmt::format("proxy: event=rollout_aborted route={} step={} reason={}{} "
                  "weights:{}",
                  route_, step_ + 1, reason, numbers, weights_text(starting_weights_)));
}

RolloutActions Rollout::on_verdict(int64_t now_ms, const Verdict& verdict) {
  RolloutActions out;
  if (!analysing()) return out;
  verdicts_.push_back({now_ms, step_, verdict});
  if (verdicts_.size() > kKeptVerdicts) verdicts_.pop_front();
  out.events.push_back(fmt::format("proxy: event=rollout_verdict route={} step={} {}", route_,
                                   step_ + 1, verdict_fields(verdict)));
  if (verdict.kind == VerdictKind::kFail) {
    // A fail rolls back even while paused: the new side still has traffic.
    enter_aborted(verdict_reason_name(verdict.reason), " " + verdict_numbers(verdict), out);
    return out;
  }
  if (verdict.kind == VerdictKind::kPass) conclusive_since_ms_ = now_ms;
  if (phase_ != RolloutPhase::kRunning) return out;
  if (verdict.kind == VerdictKind::kInconclusive &&
      now_ms - conclusive_since_ms_ >= config_.analysis.inconclusive_for_ms) {
    phase_ = RolloutPhase::kPaused;
    reason_ = fmt::format(
        "inconclusive: no conclusive verdict for {} (requests_new={} requests_old={} "
        "min_requests={} per {})",
        duration_text(now_ms - conclusive_since_ms_), verdict.requests_new, verdict.requests_old,
        config_.analysis.min_requests, duration_text(config_.analysis.interval_ms));
    out.events.push_back(fmt::format(
        "proxy: event=rollout_paused route={} step={} reason=inconclusive for={} "
        "inconclusive_for={} requests_new={} requests_old={} min_requests={} weights:{}",
        route_, step_ + 1, duration_text(now_ms - conclusive_since_ms_),
        duration_text(config_.analysis.inconclusive_for_ms), verdict.requests_new,
        verdict.requests_old, config_.analysis.min_requests, weights_text(weights_of_step(step_))));
    return out;
  }
  maybe_advance(now_ms, out);
  return out;
}

Result<RolloutActions> Rollout::pause(int64_t /*now_ms*/, const std::string& reason) {
  if (phase_ != RolloutPhase::kRunning) return wrong_phase("pause");
  phase_ = RolloutPhase::kPaused;
  reason_ = reason;
  RolloutActions out;
  out.events.push_back(fmt::format("proxy: event=rollout_paused route={} step={} reason={}", route_,
                                   step_ + 1, reason));
  return out;
}

Result<RolloutActions> Rollout::resume(int64_t now_ms) {
  if (phase_ != RolloutPhase::kPaused) return wrong_phase("resume");
  phase_ = RolloutPhase::kRunning;
  reason_.clear();
  // The step starts over: its pause is analysed again from now.
  step_started_ms_ = now_ms;
  conclusive_since_ms_ = now_ms;
  RolloutActions out;
  out.events.push_back(
      fmt::format("proxy: event=rollout_resumed route={} step={} pause={}", route_, step_ + 1,
                  duration_text(config_.steps[static_cast<size_t>(step_)].pause_ms)));
  return out;
}

Result<RolloutActions> Rollout::promote(int64_t /*now_ms*/) {
  if (phase_ == RolloutPhase::kPromoted) return wrong_phase("promote");
  phase_ = RolloutPhase::kPromoted;
  reason_.clear();
  step_ = static_cast<int>(config_.steps.size()) - 1;
  RolloutActions out;
  out.set_weights = weights_of_step(step_);
  out.events.push_back(
      fmt::format("proxy: event=rollout_promoted route={} by=admin steps={} "
                  "weights:{}",
                  route_, config_.steps.size(), weights_text(*out.set_weights)));
  return out;
}

Result<RolloutActions> Rollout::abort(int64_t /*now_ms*/, const std::string& reason) {
  if (!analysing()) return wrong_phase("abort");
  RolloutActions out;
  enter_aborted(reason, "", out);
  return out;
}

RolloutRecord Rollout::record(int64_t now_ms) const {
  RolloutRecord r;
  r.phase = phase_;
  r.step = step_;
  r.starting_weights = starting_weights_;
  r.reason = reason_;
  if (step_ >= 0) {
    r.step_elapsed_ms = now_ms - step_started_ms_;
    r.since_conclusive_ms = now_ms - conclusive_since_ms_;
  }
  for (const TimedVerdict& v : verdicts_)
    r.verdicts.push_back({now_ms - v.at_ms, v.step, v.verdict});
  return r;
}

Result<RolloutActions> Rollout::restore(const RolloutRecord& record, int64_t now_ms,
                                        std::string_view note) {
  if (phase_ != RolloutPhase::kPending) return wrong_phase("restore");
  const int steps = static_cast<int>(config_.steps.size());
  const bool started = record.phase != RolloutPhase::kPending;
  const auto misfit = [&](const std::string& what) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("the stored rollout of '{}' does not fit its config ({} steps): {}",
                            route_, steps, what));
  };
  if (started ? record.step < 0 || record.step >= steps : record.step != -1) {
    return misfit(
        fmt::format("it is {} at step index {}", rollout_phase_name(record.phase), record.step));
  }
  if (started && record.starting_weights.empty()) return misfit("it has no starting weights");
  for (const TimedVerdict& v : record.verdicts) {
    if (v.step < 0 || v.step >= steps) {
      return misfit(fmt::format("a verdict is of step index {}", v.step));
    }
  }
  RolloutActions out;
  if (!started) return out;
  phase_ = record.phase;
  step_ = record.step;
  starting_weights_ = record.starting_weights;
  reason_ = record.reason;
  step_started_ms_ = now_ms - record.step_elapsed_ms;
  conclusive_since_ms_ = now_ms - record.since_conclusive_ms;
  verdicts_.clear();
  for (const TimedVerdict& v : record.verdicts) {
    verdicts_.push_back({now_ms - v.at_ms, v.step, v.verdict});
    verdicts_.back().verdict.policy = config_.analysis;
    if (verdicts_.size() > kKeptVerdicts) verdicts_.pop_front();
  }
  out.set_weights = phase_ == RolloutPhase::kAborted ? starting_weights_ : weights_of_step(step_);
  out.events.push_back(fmt::format(
      "proxy: event=rollout_restored route={} state={} step={} of={} step_elapsed={} pause={} "
      "verdicts={}{} weights:{}{}",
      route_, rollout_phase_name(phase_), step_ + 1, steps, duration_text(record.step_elapsed_ms),
      duration_text(config_.steps[static_cast<size_t>(step_)].pause_ms), verdicts_.size(),
      reason_.empty() ? "" : " reason=" + log_value(reason_), weights_text(*out.set_weights),
      note));
  return out;
}

}  // namespace ferry::proxy
