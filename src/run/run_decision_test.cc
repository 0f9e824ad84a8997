#include "run/run_decision.h"

#include <gtest/gtest.h>

namespace ferry::run {
namespace {

using K = StepKind;
using S = StepState;

// clone, follow, approve, rollout, cutover, watch: a plan's usual shape.
RunView view(OnFailure on_failure = OnFailure::kRollback) {
  RunView v;
  v.kinds = {K::kClone, K::kFollow, K::kApprove, K::kRollout, K::kCutover, K::kWatch};
  v.states.assign(v.kinds.size(), S::kPending);
  v.on_failure = on_failure;
  return v;
}

// Runs every step the decision asks for with `outcome` (true: it succeeds),
// approving approvals, until the run needs something else; returns that.
RunAction drive(RunView& v, const std::function<bool(size_t)>& outcome) {
  for (int guard = 0; guard < 100; ++guard) {
    const RunAction a = next_action(v);
    switch (a.kind) {
      case ActionKind::kRunStep:
        step_finished(v, a.step, outcome(a.step), "it broke");
        break;
      case ActionKind::kWaitForApproval:
        EXPECT_EQ(apply_command(v, RunCommand::kApprove), "");
        break;
      case ActionKind::kUndoStep:
        undo_finished(v, a.step, true, "");
        break;
      default:
        return a;
    }
  }
  ADD_FAILURE() << "the run never settled";
  return {};
}

TEST(RunDecision, RunsTheStepsInOrderAndWaitsAtAnApproval) {
  RunView v = view();
  EXPECT_EQ(next_action(v).kind, ActionKind::kRunStep);
  EXPECT_EQ(next_action(v).step, 0u);
  step_finished(v, 0, true, "");
  step_finished(v, 1, true, "");
  const RunAction wait = next_action(v);
  EXPECT_EQ(wait.kind, ActionKind::kWaitForApproval);
  EXPECT_EQ(wait.step, 2u);
  EXPECT_EQ(next_action(v).kind, ActionKind::kWaitForApproval);  // until someone approves
  EXPECT_EQ(apply_command(v, RunCommand::kApprove), "");
  EXPECT_EQ(next_action(v).step, 3u);
  EXPECT_EQ(apply_command(v, RunCommand::kApprove), "no approval is waiting");
  EXPECT_EQ(drive(v, [](size_t) { return true; }).kind, ActionKind::kDone);
}

TEST(RunDecision, AStepRunningWhenTheEngineStoppedIsRunAgain) {
  RunView v = view();
  v.states[0] = S::kDone;
  v.states[1] = S::kRunning;  // the journal after a kill -9 mid-follow
  EXPECT_EQ(next_action(v).kind, ActionKind::kRunStep);
  EXPECT_EQ(next_action(v).step, 1u);
}

TEST(RunDecision, AFailureWalksTheWayBackNewestFirstThroughWhatMoved) {
  RunView v = view();
  // Everything up to the watch works; the watch sees the error rate climb.
  const RunAction end = drive(v, [](size_t step) { return step != 5; });
  EXPECT_EQ(end.kind, ActionKind::kRolledBack);
  EXPECT_EQ(end.why, "step 6 (watch) failed: it broke");
  // The cutover and the rollout were undone (the cutover first); the copies stay.
  EXPECT_EQ(v.states,
            (std::vector<S>{S::kDone, S::kDone, S::kDone, S::kUndone, S::kUndone, S::kFailed}));
}

TEST(RunDecision, UndoOrderIsCutoverBeforeRollout) {
  RunView v = view();
  for (size_t i = 0; i < 5; ++i) v.states[i] = S::kDone;
  EXPECT_EQ(apply_command(v, RunCommand::kAbort), "");
  RunAction a = next_action(v);
  EXPECT_EQ(a.kind, ActionKind::kUndoStep);
  EXPECT_EQ(a.step, 4u);  // the cutover
  EXPECT_EQ(a.why, "aborted by a person");
  undo_finished(v, 4, true, "");
  a = next_action(v);
  EXPECT_EQ(a.step, 3u);  // then the rollout's route
}

TEST(RunDecision, AFailedStepThatMayHaveMovedSomethingIsUndoneToo) {
  RunView v = view();
  // The cutover switched the database, then could not move the route.
  const RunAction end = drive(v, [](size_t step) { return step != 4; });
  EXPECT_EQ(end.kind, ActionKind::kRolledBack);
  EXPECT_EQ(v.states,
            (std::vector<S>{S::kDone, S::kDone, S::kDone, S::kUndone, S::kUndone, S::kPending}));
}

TEST(RunDecision, AStepRunningAtAnAbortIsUndoneToo) {
  RunView v = view();
  v.states = {S::kDone, S::kDone, S::kDone, S::kRunning, S::kPending, S::kPending};
  apply_command(v, RunCommand::kAbort);
  EXPECT_EQ(next_action(v).kind, ActionKind::kUndoStep);
  EXPECT_EQ(next_action(v).step, 3u);  // the rollout in progress is aborted
}

TEST(RunDecision, WithOnFailurePauseAFailedStepWaitsForAPersonAndRunsAgainOnResume) {
  RunView v = view(OnFailure::kPause);
  step_finished(v, 0, false, "the target ran out of disk");
  RunAction a = next_action(v);
  EXPECT_EQ(a.kind, ActionKind::kPaused);
  EXPECT_EQ(a.why, "step 1 (clone) failed: the target ran out of disk");
  EXPECT_EQ(apply_command(v, RunCommand::kResume), "");
  a = next_action(v);
  EXPECT_EQ(a.kind, ActionKind::kRunStep);
  EXPECT_EQ(a.step, 0u);
}

TEST(RunDecision, AFailedUndoPausesTheWayBackUntilResumed) {
  RunView v = view();
  for (size_t i = 0; i < 5; ++i) v.states[i] = S::kDone;
  apply_command(v, RunCommand::kAbort);
  undo_finished(v, 4, false, "the reverse stream lags 40 s");
  RunAction a = next_action(v);
  EXPECT_EQ(a.kind, ActionKind::kPaused);
  EXPECT_NE(a.why.find("rolling back step 5 (cutover) failed: the reverse stream lags 40 s"),
            std::string::npos);
  EXPECT_EQ(apply_command(v, RunCommand::kResume), "");
  a = next_action(v);
  EXPECT_EQ(a.kind, ActionKind::kUndoStep);  // the same undo, tried again
  EXPECT_EQ(a.step, 4u);
}

TEST(RunDecision, CommandsThatDoNotApplySayWhy) {
  RunView v = view();
  EXPECT_EQ(apply_command(v, RunCommand::kResume), "the run is not paused");
  EXPECT_EQ(apply_command(v, RunCommand::kPause), "");
  EXPECT_EQ(apply_command(v, RunCommand::kPause), "the run is paused already");
  EXPECT_EQ(next_action(v).kind, ActionKind::kPaused);
  EXPECT_EQ(apply_command(v, RunCommand::kAbort), "");  // an abort overrides a pause
  EXPECT_EQ(apply_command(v, RunCommand::kAbort), "the way back is being walked already");
  // Nothing moved yet: the way back is already walked.
  EXPECT_EQ(next_action(v).kind, ActionKind::kRolledBack);
}

TEST(RunDecision, TheRunsStateForStatus) {
  RunView v = view();
  EXPECT_STREQ(run_state_name(v), "pending");
  step_finished(v, 0, true, "");
  EXPECT_STREQ(run_state_name(v), "running");
  step_finished(v, 1, true, "");
  EXPECT_STREQ(run_state_name(v), "waiting");
  apply_command(v, RunCommand::kPause);
  EXPECT_STREQ(run_state_name(v), "paused");
  apply_command(v, RunCommand::kAbort);
  EXPECT_STREQ(run_state_name(v), "aborted");  // nothing had moved: walked at once

  RunView failed = view();
  step_finished(failed, 0, false, "disk full");
  EXPECT_STREQ(run_state_name(failed), "failed");
  RunView done = view();
  for (auto& s : done.states) s = S::kDone;
  EXPECT_STREQ(run_state_name(done), "done");
}

}  // namespace
}  // namespace ferry::run
