#include "run/run_engine.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>

namespace ferry::run {
namespace {

namespace fs = std::filesystem;

// Records what the engine asked, in order, and answers as told.
class FakeRunner final : public StepRunner {
 public:
  StepOutcome run(size_t index, const PlanStep& step, StopCheck& stop) override {
    calls.push_back("run " + std::to_string(index + 1) + " " + step_kind_name(step.kind));
    if (during) during(index, stop);
    auto it = failures.find(index);
    if (it != failures.end()) return {false, it->second};
    return {true, "did " + std::string(step_kind_name(step.kind))};
  }
  StepOutcome undo(size_t index, const PlanStep& step) override {
    calls.push_back("undo " + std::to_string(index + 1) + " " + step_kind_name(step.kind));
    if (undo_fails > 0) {
      --undo_fails;
      return {false, "the reverse stream lags 40 s"};
    }
    return {true, "rolled back"};
  }

  std::vector<std::string> calls;
  std::map<size_t, std::string> failures;          // step index -> why it fails
  int undo_fails = 0;                              // the next N undos fail
  std::function<void(size_t, StopCheck&)> during;  // while a step runs
};

class RunEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ferry_run_engine_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    plan_.name = "shop";
    plan_.file = "shop.yaml";
    plan_.state_dir = dir_.string();
    for (StepKind k : {StepKind::kClone, StepKind::kFollow, StepKind::kApprove, StepKind::kRollout,
                       StepKind::kCutover, StepKind::kWatch}) {
      PlanStep s;
      s.kind = k;
      s.database = "users-db";
      s.route = "users";
      s.message = "cut over";
      s.for_ms = 60'000;
      plan_.steps.push_back(s);
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  // One engine process: opens the journal, runs until it ends or idles.
  RunEnd run_once(OnFailure on_failure = OnFailure::kRollback,
                  std::function<bool()> interrupted = nullptr) {
    plan_.on_failure = on_failure;
    auto journal = RunJournal::open(plan_);
    EXPECT_TRUE(journal) << journal.error().message;
    EngineOptions options;
    options.poll_ms = 1;
    options.return_when_idle = true;
    options.interrupted = std::move(interrupted);
    RunEngine engine(plan_, *journal, runner_, options);
    auto end = engine.run();
    EXPECT_TRUE(end) << end.error().message;
    return end ? *end : RunEnd::kIdle;
  }
  void command(RunCommand c, const std::string& who = "alice") {
    auto journal = RunJournal::open_existing(plan_);
    ASSERT_TRUE(journal) << journal.error().message;
    ASSERT_TRUE(journal->queue_command(c, who));
  }
  std::vector<std::string> states() {
    auto journal = RunJournal::open_existing(plan_);
    const auto steps = journal->steps();
    std::vector<std::string> out;
    for (const auto& s : *steps) out.push_back(step_state_name(s.state));
    return out;
  }
  std::vector<std::string> event_kinds() {
    auto journal = RunJournal::open_existing(plan_);
    const auto events = journal->events(100);
    std::vector<std::string> out;
    for (const auto& e : *events) out.push_back(e.kind);
    return out;
  }

  fs::path dir_;
  Plan plan_;
  FakeRunner runner_;
};

TEST_F(RunEngineTest, AnInterruptedStepStaysRunningAndTheNextEngineRunsItAgain) {
  bool stop = false;
  runner_.during = [&](size_t index, StopCheck& check) {
    if (index == 1 && !stop) {
      stop = true;  // a SIGTERM while the follow step waits
      EXPECT_TRUE(check.stop_requested());
    }
  };
  EXPECT_EQ(run_once(OnFailure::kRollback, [&] { return stop; }), RunEnd::kInterrupted);
  EXPECT_EQ(states()[0], "done");
  EXPECT_EQ(states()[1], "running");
  EXPECT_EQ(event_kinds().back(), "stopped");
  EXPECT_EQ(run_once(), RunEnd::kIdle);  // at the approval
  EXPECT_EQ(runner_.calls,
            (std::vector<std::string>{"run 1 clone", "run 2 follow", "run 2 follow"}));
}

TEST_F(RunEngineTest, RunsToTheApprovalWaitsThenFinishesOnceApproved) {
  EXPECT_EQ(run_once(), RunEnd::kIdle);
  EXPECT_EQ(runner_.calls, (std::vector<std::string>{"run 1 clone", "run 2 follow"}));
  EXPECT_EQ(states()[2], "waiting");
  command(RunCommand::kApprove, "alice");
  EXPECT_EQ(run_once(), RunEnd::kDone);
  EXPECT_EQ(runner_.calls.back(), "run 6 watch");
  EXPECT_EQ(states(), std::vector<std::string>(6, "done"));
  // Who approved is in the journal, on the step and as an event.
  auto journal = RunJournal::open_existing(plan_);
  const auto steps = journal->steps();
  EXPECT_EQ((*steps)[2].detail, "approve by alice");
  const auto events = journal->events(100);
  bool found = false;
  for (const auto& e : *events) {
    found |= e.kind == "command" &&
             e.detail.find("command=approve who=alice result=applied") != std::string::npos;
  }
  EXPECT_TRUE(found);
}

TEST_F(RunEngineTest, AKilledRunResumesWhereItStoppedWithoutRepeatingFinishedSteps) {
  // The process dies during the follow: its step stays "running" in the journal.
  runner_.during = [](size_t index, StopCheck&) {
    if (index == 1) throw std::runtime_error("kill -9");
  };
  EXPECT_THROW(run_once(), std::runtime_error);
  EXPECT_EQ(states()[0], "done");
  EXPECT_EQ(states()[1], "running");
  runner_.during = nullptr;
  runner_.calls.clear();
  EXPECT_EQ(run_once(), RunEnd::kIdle);  // at the approval
  // The clone is not repeated; the follow that was running is run again.
  EXPECT_EQ(runner_.calls, std::vector<std::string>{"run 2 follow"});
  command(RunCommand::kApprove);
  EXPECT_EQ(run_once(), RunEnd::kDone);
}

TEST_F(RunEngineTest, AFailedWatchWalksTheWayBackNewestFirst) {
  runner_.failures[5] = "error rate 4.2 % above legacy's 0.3 %";
  EXPECT_EQ(run_once(), RunEnd::kIdle);
  command(RunCommand::kApprove);
  EXPECT_EQ(run_once(), RunEnd::kRolledBack);
  EXPECT_EQ(runner_.calls, (std::vector<std::string>{"run 1 clone", "run 2 follow", "run 4 rollout",
                                                     "run 5 cutover", "run 6 watch",
                                                     "undo 5 cutover", "undo 4 rollout"}));
  EXPECT_EQ(states(),
            (std::vector<std::string>{"done", "done", "done", "undone", "undone", "failed"}));
  const auto kinds = event_kinds();
  EXPECT_EQ(kinds.back(), "rolled_back");
}

TEST_F(RunEngineTest, AnApprovalGivenBeforeItIsAskedForIsRefused) {
  runner_.during = [this](size_t index, StopCheck& stop) {
    if (index != 0) return;
    command(RunCommand::kApprove, "eager");
    EXPECT_FALSE(stop.stop_requested());
  };
  EXPECT_EQ(run_once(), RunEnd::kIdle);
  EXPECT_EQ(states()[2], "waiting");  // still waits: nobody approved what they saw
  auto journal = RunJournal::open_existing(plan_);
  const auto events = journal->events(100);
  bool refused = false;
  for (const auto& e : *events) {
    refused |=
        e.detail.find("who=eager result=\"refused: no approval is waiting\"") != std::string::npos;
  }
  EXPECT_TRUE(refused);
}

TEST_F(RunEngineTest, AnAbortDuringARolloutStopsItAndUndoesIt) {
  EXPECT_EQ(run_once(), RunEnd::kIdle);
  command(RunCommand::kApprove);
  runner_.during = [this](size_t index, StopCheck& stop) {
    if (index != 3) return;
    command(RunCommand::kAbort, "bob");
    EXPECT_TRUE(stop.stop_requested());
  };
  runner_.failures[3] = "stopped at step 2 of 4";
  EXPECT_EQ(run_once(), RunEnd::kRolledBack);
  EXPECT_EQ(runner_.calls.back(), "undo 4 rollout");
  EXPECT_EQ(states()[3], "undone");
  EXPECT_EQ(states()[4], "pending");  // the cutover never ran
}

TEST_F(RunEngineTest, WithOnFailurePauseAFailedStepWaitsAndRunsAgainOnResume) {
  runner_.failures[0] = "the target ran out of disk";
  EXPECT_EQ(run_once(OnFailure::kPause), RunEnd::kIdle);
  EXPECT_EQ(states()[0], "failed");
  runner_.failures.clear();
  command(RunCommand::kResume, "carol");
  EXPECT_EQ(run_once(OnFailure::kPause), RunEnd::kIdle);  // on to the approval
  EXPECT_EQ(runner_.calls[1], "run 1 clone");
  EXPECT_EQ(states()[0], "done");
}

TEST_F(RunEngineTest, AFailedUndoPausesTheWayBackAndResumeTriesItAgain) {
  runner_.failures[5] = "p99 2.1 x legacy's";
  runner_.undo_fails = 1;
  EXPECT_EQ(run_once(), RunEnd::kIdle);
  command(RunCommand::kApprove);
  EXPECT_EQ(run_once(), RunEnd::kIdle);  // paused: the cutover's undo failed
  EXPECT_EQ(states()[4], "done");
  command(RunCommand::kResume);
  EXPECT_EQ(run_once(), RunEnd::kRolledBack);
  EXPECT_EQ(states()[4], "undone");
  EXPECT_EQ(states()[3], "undone");
}

}  // namespace
}  // namespace ferry::run
