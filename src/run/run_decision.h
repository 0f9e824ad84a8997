// What a run does next, decided from where its steps stand: the pure core of
// `ferry run`'s engine, in the shape of the proxy's router and breaker (no
// clock, no I/O; run_decision_test.cc drives it). The engine journals each
// step's state, asks next_action() what to do, does it, and journals the
// outcome; a run resumed after a crash asks the same question of the same
// journal and gets the same answer.
//
// The way back (seed 004's rollback paths): steps are undone newest first,
// and only those that moved something have an undo: a cutover is rolled
// back through its reverse stream, a rollout's route is set back to its
// starting weights. Copies, checks, approvals, watches and commands leave
// nothing to undo (a copied target is left as it is, still unused).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "run/plan.h"

namespace ferry::run {

enum class StepState {
  kPending,  // not started
  kRunning,  // started; after a crash, run again (every step is idempotent)
  kWaiting,  // an approval waiting for a person (journaled so; decided as not done)
  kDone,
  kFailed,
  kUndone,  // rolled back on the way back
};

const char* step_state_name(StepState state);

// What people asked for (`ferry run approve|pause|resume|abort`).
enum class RunCommand { kApprove, kPause, kResume, kAbort };

const char* run_command_name(RunCommand command);

struct RunView {
  std::vector<StepKind> kinds;    // the plan's steps
  std::vector<StepState> states;  // the journal's, one per step
  OnFailure on_failure = OnFailure::kRollback;
  bool paused = false;
  bool rolling_back = false;  // an abort, or a failure with on_failure: rollback
  std::string why;            // what started the pause or the way back
};

enum class ActionKind {
  kRunStep,          // run `step` (again, if it was running when the engine stopped)
  kWaitForApproval,  // `step` is an approval nobody has given yet
  kUndoStep,         // roll `step` back
  kPaused,           // nothing until resumed
  kDone,             // every step done
  kRolledBack,       // the way back walked: everything that moved is back
};

struct RunAction {
  ActionKind kind = ActionKind::kDone;
  size_t step = 0;
  std::string why;  // for the log and the status: the reason behind it
};

// Whether a step of this kind moved something that has a way back.
bool has_undo(StepKind kind);

RunAction next_action(const RunView& view);

// The run as a whole, for status and the dashboard: pending (nothing started),
// running, waiting (an approval), paused, done, aborted (the way back walked
// after an abort) or failed (after a failure).
const char* run_state_name(const RunView& view);

// A person's command applied to the view, or why it does not apply now
// ("" when it did): approve answers the approval the run waits at; pause holds the run
// after the current step; resume lets a paused run go on (a failed step is
// run again); abort starts the way back.
std::string apply_command(RunView& view, RunCommand command);

// A step ended: done, or failed with `detail`. A failure pauses the run or
// starts the way back, as the plan says.
void step_finished(RunView& view, size_t step, bool ok, const std::string& detail);
// An undo ended. One that failed pauses the way back for a person (the step
// stays to be undone: resume tries it again); nothing is left half-done
// silently.
void undo_finished(RunView& view, size_t step, bool ok, const std::string& detail);

}  // namespace ferry::run
