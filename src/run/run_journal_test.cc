#include "run/run_journal.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace ferry::run {
namespace {

namespace fs = std::filesystem;

class RunJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ferry_run_journal_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Plan plan(const std::string& name = "shop") const {
    Plan p;
    p.name = name;
    p.file = "shop.yaml";
    p.state_dir = dir_.string();
    for (StepKind k : {StepKind::kClone, StepKind::kApprove, StepKind::kCutover}) {
      PlanStep s;
      s.kind = k;
      s.database = k == StepKind::kApprove ? "" : "users-db";
      s.message = "go";
      p.steps.push_back(s);
    }
    return p;
  }

  fs::path dir_;
};

TEST_F(RunJournalTest, AStepsStateSurvivesReopeningAsTheDecisionSawIt) {
  const Plan p = plan();
  {
    auto j = RunJournal::open(p);
    ASSERT_TRUE(j) << j.error().message;
    auto v = j->view(p);
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_EQ(v->states, std::vector<StepState>(3, StepState::kPending));
    v->states[0] = StepState::kRunning;
    ASSERT_TRUE(j->record(*v, 0, "copying 36 tables"));
    step_finished(*v, 0, false, "the target ran out of disk");
    ASSERT_TRUE(j->record(*v, 0, "the target ran out of disk"));
    ASSERT_TRUE(j->event("step_failed", "step=1 detail=\"the target ran out of disk\""));
  }
  // As after a kill -9: a new process opens the same journal.
  auto j = RunJournal::open(p);
  ASSERT_TRUE(j) << j.error().message;
  auto v = j->view(p);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->states[0], StepState::kFailed);
  EXPECT_TRUE(v->rolling_back);
  EXPECT_EQ(v->why, "step 1 (clone) failed: the target ran out of disk");
  auto steps = j->steps();
  ASSERT_TRUE(steps);
  EXPECT_EQ((*steps)[0].detail, "the target ran out of disk");
  EXPECT_GT((*steps)[0].started_at, 0);
  EXPECT_GE((*steps)[0].ended_at, (*steps)[0].started_at);
  EXPECT_EQ((*steps)[2].kind, "cutover");
  EXPECT_EQ((*steps)[2].target, "users-db");
  auto events = j->events(10);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].kind, "step_failed");
}

TEST_F(RunJournalTest, WhatAStepKeepsSurvivesReopeningAndIsReplacedByANewValue) {
  const Plan p = plan();
  {
    auto j = RunJournal::open(p);
    ASSERT_TRUE(j);
    EXPECT_EQ(j->recall("step3.weights_before").value(), "");
    ASSERT_TRUE(j->remember("step3.weights_before", R"({"legacy":100,"modern":0})"));
    ASSERT_TRUE(j->remember("step3.weights_before", R"({"legacy":90,"modern":10})"));
  }
  auto j = RunJournal::open_existing(p);
  ASSERT_TRUE(j);
  EXPECT_EQ(j->recall("step3.weights_before").value(), R"({"legacy":90,"modern":10})");
}

TEST_F(RunJournalTest, CommandsAreTakenOnceInOrder) {
  const Plan p = plan();
  auto j = RunJournal::open(p);
  ASSERT_TRUE(j);
  auto other = RunJournal::open_existing(p);  // the CLI's side
  ASSERT_TRUE(other) << other.error().message;
  ASSERT_TRUE(other->queue_command(RunCommand::kApprove, "alice"));
  ASSERT_TRUE(other->queue_command(RunCommand::kAbort, "bob"));
  // Seen as queued (by status and the dashboard) without being taken.
  auto queued = j->queued_commands();
  ASSERT_TRUE(queued);
  ASSERT_EQ(queued->size(), 2u);
  EXPECT_EQ((*queued)[1].who, "bob");
  EXPECT_GT((*queued)[1].at, 0);
  auto taken = j->take_commands();
  ASSERT_TRUE(taken);
  ASSERT_EQ(taken->size(), 2u);
  EXPECT_EQ((*taken)[0].command, RunCommand::kApprove);
  EXPECT_EQ((*taken)[0].who, "alice");
  EXPECT_EQ((*taken)[1].command, RunCommand::kAbort);
  EXPECT_TRUE(j->take_commands()->empty());
  EXPECT_TRUE(j->queued_commands()->empty());
}

TEST_F(RunJournalTest, AJournalOnlyResumesThePlanItStarted) {
  ASSERT_TRUE(RunJournal::open(plan()));
  Plan changed = plan();
  changed.steps[2].database = "orders-db";
  auto j = RunJournal::open(changed);
  ASSERT_FALSE(j);
  EXPECT_NE(j.error().message.find("the plan changed since this run started: step 3 was "
                                   "\"cutover users-db"),
            std::string::npos)
      << j.error().message;
  Plan shorter = plan();
  shorter.steps.pop_back();
  ASSERT_FALSE(RunJournal::open(shorter));
  auto renamed = RunJournal::open(plan("books"));
  ASSERT_FALSE(renamed);
  EXPECT_NE(renamed.error().message.find("is the journal of plan 'shop', not 'books'"),
            std::string::npos);

  fs::remove_all(dir_);
  auto none = RunJournal::open_existing(plan());
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("no run of plan 'shop' has started here"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_));  // looking created nothing
}

}  // namespace
}  // namespace ferry::run
