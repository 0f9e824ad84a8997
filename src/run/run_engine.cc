#include "run/run_engine.h"

#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "core/log.h"

namespace ferry::run {

// The StopCheck a running step asks: takes the commands queued meanwhile
// and says whether the run is to stop (paused or on the way back).
class RunEngine::Commands final : public StopCheck {
 public:
  Commands(RunEngine& engine, RunView& view) : engine_(engine), view_(view) {}
  bool stop_requested() override {
    if (engine_.options_.interrupted()) return true;
    if (auto ok = engine_.take_commands(view_); !ok) {
      failed_ = ok.error();
      return false;
    }
    return view_.paused || view_.rolling_back;
  }
  const std::optional<Error>& failed() const { return failed_; }

 private:
  RunEngine& engine_;
  RunView& view_;
  std::optional<Error> failed_;
};

RunEngine::RunEngine(const Plan& plan, RunJournal& journal, StepRunner& runner,
                     EngineOptions options)
    : plan_(plan), journal_(journal), runner_(runner), options_(std::move(options)) {
  if (!options_.sleep) {
    options_.sleep = [](int64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); };
  }
  if (!options_.interrupted) options_.interrupted = [] { return false; };
}

Result<void> RunEngine::event(const std::string& kind, const std::string& detail) {
  log_info(fmt::format("run: event={} plan={} {}", kind, plan_.name, detail));
  return journal_.event(kind, detail);
}

Result<void> RunEngine::take_commands(RunView& view) {
  auto commands = journal_.take_commands();
  if (!commands) return tl::unexpected(commands.error());
  for (const QueuedCommand& c : *commands) {
    const std::vector<StepState> before = view.states;
    const std::string refused = apply_command(view, c.command);
    if (auto ok = journal_.record_flags(view); !ok) return ok;
    // The steps it changed (an approval given, failed steps to run again).
    for (size_t i = 0; i < before.size(); ++i) {
      if (view.states[i] == before[i]) continue;
      const std::string detail = fmt::format("{} by {}", run_command_name(c.command), c.who);
      if (auto ok = journal_.record(view, i, detail); !ok) return ok;
    }
    const std::string detail =
        fmt::format("command={} who={} result={}", run_command_name(c.command), log_value(c.who),
                    refused.empty() ? std::string("applied") : log_value("refused: " + refused));
    if (auto ok = event("command", detail); !ok) return ok;
  }
  return {};
}

Result<void> RunEngine::run_step(RunView& view, size_t index) {
  const PlanStep& step = plan_.steps[index];
  view.states[index] = StepState::kRunning;
  if (auto ok = journal_.record(view, index, ""); !ok) return ok;
  if (auto ok =
          event("step_started", fmt::format("step={} kind={} what={}", index + 1,
                                            step_kind_name(step.kind), log_value(step.describe())));
      !ok) {
    return ok;
  }
  Commands commands(*this, view);
  const StepOutcome outcome = runner_.run(index, step, commands);
  if (commands.failed()) return tl::unexpected(*commands.failed());
  if (options_.interrupted()) {
    // Left as running: the next engine runs it again (every step is idempotent).
    if (auto ok = journal_.record(view, index, "interrupted: " + outcome.detail); !ok) return ok;
    return event("interrupted",
                 fmt::format("step={} detail={}", index + 1, log_value(outcome.detail)));
  }
  if (!outcome.ok && (view.paused || view.rolling_back)) {
    // Stopped by a person: a pause runs it again on resume; on the way back
    // a step still marked running is undone if it moved anything.
    if (view.paused && !view.rolling_back) view.states[index] = StepState::kPending;
    if (auto ok = journal_.record(view, index, "stopped: " + outcome.detail); !ok) return ok;
    return event("step_stopped",
                 fmt::format("step={} detail={}", index + 1, log_value(outcome.detail)));
  }
  step_finished(view, index, outcome.ok, outcome.detail);
  if (auto ok = journal_.record(view, index, outcome.detail); !ok) return ok;
  return event(outcome.ok ? "step_done" : "step_failed",
               fmt::format("step={} kind={} detail={}{}", index + 1, step_kind_name(step.kind),
                           log_value(outcome.detail),
                           outcome.ok          ? ""
                           : view.rolling_back ? " then=rollback"
                                               : " then=pause"));
}

Result<void> RunEngine::undo_step(RunView& view, size_t index, const std::string& why) {
  const PlanStep& step = plan_.steps[index];
  if (auto ok = event("undo_started", fmt::format("step={} kind={} why={}", index + 1,
                                                  step_kind_name(step.kind), log_value(why)));
      !ok) {
    return ok;
  }
  const StepOutcome outcome = runner_.undo(index, step);
  undo_finished(view, index, outcome.ok, outcome.detail);
  if (auto ok = journal_.record(view, index, outcome.detail); !ok) return ok;
  return event(outcome.ok ? "undo_done" : "undo_failed",
               fmt::format("step={} kind={} detail={}", index + 1, step_kind_name(step.kind),
                           log_value(outcome.detail)));
}

Result<RunEnd> RunEngine::run() {
  auto loaded = journal_.view(plan_);
  if (!loaded) return tl::unexpected(loaded.error());
  RunView view = std::move(*loaded);
  std::string idle_announced;  // the wait last announced, so it is logged once
  while (true) {
    if (options_.interrupted()) {
      if (auto ok = event("stopped", "the engine was asked to stop; run it again to go on"); !ok) {
        return tl::unexpected(ok.error());
      }
      return RunEnd::kInterrupted;
    }
    if (auto ok = take_commands(view); !ok) return tl::unexpected(ok.error());
    const RunAction action = next_action(view);
    if (action.kind != ActionKind::kWaitForApproval && action.kind != ActionKind::kPaused) {
      idle_announced.clear();
    }
    switch (action.kind) {
      case ActionKind::kRunStep:
        if (auto ok = run_step(view, action.step); !ok) return tl::unexpected(ok.error());
        break;
      case ActionKind::kUndoStep:
        if (auto ok = undo_step(view, action.step, action.why); !ok) {
          return tl::unexpected(ok.error());
        }
        break;
      case ActionKind::kWaitForApproval:
      case ActionKind::kPaused: {
        const bool approval = action.kind == ActionKind::kWaitForApproval;
        const std::string wait = approval
                                     ? fmt::format("waiting step={} approve={}", action.step + 1,
                                                   log_value(plan_.steps[action.step].message))
                                     : "paused why=" + log_value(action.why);
        if (wait != idle_announced) {
          if (approval && view.states[action.step] != StepState::kWaiting) {
            view.states[action.step] = StepState::kWaiting;
            if (auto ok = journal_.record(view, action.step, ""); !ok) {
              return tl::unexpected(ok.error());
            }
          }
          if (auto ok = event(approval ? "waiting" : "paused", wait); !ok) {
            return tl::unexpected(ok.error());
          }
          idle_announced = wait;
        }
        if (options_.return_when_idle) return RunEnd::kIdle;
        options_.sleep(options_.poll_ms);
        break;
      }
      case ActionKind::kDone:
        if (auto ok = event("done", fmt::format("steps={}", plan_.steps.size())); !ok) {
          return tl::unexpected(ok.error());
        }
        return RunEnd::kDone;
      case ActionKind::kRolledBack:
        if (auto ok = event("rolled_back", "why=" + log_value(action.why)); !ok) {
          return tl::unexpected(ok.error());
        }
        return RunEnd::kRolledBack;
    }
  }
}

}  // namespace ferry::run
