#include "run/run_decision.h"

#include <fmt/format.h>

namespace ferry::run {

const char* step_state_name(StepState state) {
  switch (state) {
    case StepState::kPending:
      return "pending";
    case StepState::kRunning:
      return "running";
    case StepState::kWaiting:
      return "waiting";
    case StepState::kDone:
      return "done";
    case StepState::kFailed:
      return "failed";
    case StepState::kUndone:
      return "undone";
  }
  return "";
}

const char* run_command_name(RunCommand command) {
  switch (command) {
    case RunCommand::kApprove:
      return "approve";
    case RunCommand::kPause:
      return "pause";
    case RunCommand::kResume:
      return "resume";
    case RunCommand::kAbort:
      return "abort";
  }
  return "";
}

bool has_undo(StepKind kind) { return kind == StepKind::kCutover || kind == StepKind::kRollout; }

RunAction next_action(const RunView& view) {
  if (view.paused) return {ActionKind::kPaused, 0, view.why};
  if (view.rolling_back) {
    // Newest first: a route goes back before the database it followed is
    // rolled back under it. A step still running is stopped and undone too,
    // and a failed one: it may have moved something before it failed (a
    // database switched whose route could not be moved); its undo finds
    // what it did and puts back only that.
    for (size_t i = view.states.size(); i-- > 0;) {
      const StepState s = view.states[i];
      if ((s == StepState::kDone || s == StepState::kRunning || s == StepState::kFailed) &&
          has_undo(view.kinds[i])) {
        return {ActionKind::kUndoStep, i, view.why};
      }
    }
    return {ActionKind::kRolledBack, 0, view.why};
  }
  for (size_t i = 0; i < view.states.size(); ++i) {
    if (view.states[i] == StepState::kDone) continue;
    // An approval is not run: it waits (journaled as waiting) for a person.
    if (view.kinds[i] == StepKind::kApprove) return {ActionKind::kWaitForApproval, i, ""};
    return {ActionKind::kRunStep, i, ""};
  }
  return {ActionKind::kDone, 0, ""};
}

const char* run_state_name(const RunView& view) {
  const RunAction next = next_action(view);
  switch (next.kind) {
    case ActionKind::kDone:
      return "done";
    case ActionKind::kRolledBack:
      return view.why.rfind("aborted", 0) == 0 ? "aborted" : "failed";
    case ActionKind::kPaused:
      return "paused";
    case ActionKind::kWaitForApproval:
      return "waiting";
    case ActionKind::kUndoStep:
      return "running";
    case ActionKind::kRunStep:
      break;
  }
  for (StepState s : view.states) {
    if (s != StepState::kPending) return "running";
  }
  return "pending";
}

std::string apply_command(RunView& view, RunCommand command) {
  switch (command) {
    case RunCommand::kApprove: {
      const RunAction next = next_action(view);
      if (next.kind != ActionKind::kWaitForApproval) return "no approval is waiting";
      view.states[next.step] = StepState::kDone;
      return "";
    }
    case RunCommand::kPause:
      if (view.paused) return "the run is paused already";
      view.paused = true;
      view.why = "paused by a person";
      return "";
    case RunCommand::kResume:
      if (!view.paused) return "the run is not paused";
      view.paused = false;
      // A step that failed under on_failure: pause is run again.
      for (auto& s : view.states) {
        if (s == StepState::kFailed && !view.rolling_back) s = StepState::kPending;
      }
      return "";
    case RunCommand::kAbort:
      if (view.rolling_back && !view.paused) return "the way back is being walked already";
      view.rolling_back = true;
      view.paused = false;
      view.why = "aborted by a person";
      return "";
  }
  return "";
}

void step_finished(RunView& view, size_t step, bool ok, const std::string& detail) {
  if (ok) {
    view.states[step] = StepState::kDone;
    return;
  }
  view.states[step] = StepState::kFailed;
  view.why =
      fmt::format("step {} ({}) failed: {}", step + 1, step_kind_name(view.kinds[step]), detail);
  if (view.on_failure == OnFailure::kPause) {
    view.paused = true;
  } else {
    view.rolling_back = true;
  }
}

void undo_finished(RunView& view, size_t step, bool ok, const std::string& detail) {
  if (ok) {
    view.states[step] = StepState::kUndone;
    return;
  }
  view.paused = true;
  view.why = fmt::format(
      "rolling back step {} ({}) failed: {}; fix it and resume (the way back "
      "goes on from there)",
      step + 1, step_kind_name(view.kinds[step]), detail);
}

}  // namespace ferry::run
