// ferry run status|approve|pause|resume|abort PLAN against a run's journal:
// the journal a run writes is read into the documented JSON, and the
// commands are queued for the engine with who gave them. The journal is
// written here through the library (src/run/run_journal.h), as the engine
// writes it; the commands and status go through the real binary.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "child_process.h"
#include "core/yaml.h"
#include "run/run_journal.h"

namespace {

namespace fs = std::filesystem;
using ferry_test::Outcome;
using ferry_test::run;

class RunStatus : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ferry_run_status_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    plan_file_ = (dir_ / "shop.yaml").string();
    // The secrets are not needed to read a journal: status works without them.
    std::ofstream(plan_file_) << "name: shop\nstate_dir: ./state\n"
                                 "databases:\n  users-db: { source: \"${SOURCE_URI}\", target: "
                                 "\"${TARGET_URI}\" }\n"
                                 "steps:\n  - clone: users-db\n  - approve: \"go\"\n"
                                 "  - follow: users-db\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  ferry::run::Plan plan() const {
    auto p = ferry::run::load_plan(plan_file_, ferry::run::placeholder_environment);
    EXPECT_TRUE(p) << p.error().message;
    return *p;
  }
  Outcome ferry(const std::vector<std::string>& args) {
    std::vector<std::string> argv{FERRY_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }

  fs::path dir_;
  std::string plan_file_;
};

TEST_F(RunStatus, ReadsTheJournalIntoTheDocumentedShape) {
  Outcome none = ferry({"run", "status", plan_file_});
  EXPECT_EQ(none.status, 4);
  EXPECT_NE(none.err.find("no run of plan 'shop' has started here"), std::string::npos) << none.err;

  const ferry::run::Plan p = plan();
  {
    auto journal = ferry::run::RunJournal::open(p);
    ASSERT_TRUE(journal) << journal.error().message;
    auto view = journal->view(p);
    ASSERT_TRUE(view);
    view->states[0] = ferry::run::StepState::kDone;
    ASSERT_TRUE(journal->record(*view, 0, "36 tables, 250048 rows in 4.1 s"));
    view->states[1] = ferry::run::StepState::kWaiting;
    ASSERT_TRUE(journal->record(*view, 1, ""));
    ASSERT_TRUE(journal->event("waiting", "step=2 approve=\"go\""));
  }
  Outcome r = ferry({"run", "status", plan_file_, "-f", "json"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto doc = ferry::parse_yaml(r.out, "status");
  ASSERT_TRUE(doc) << r.out;
  EXPECT_EQ(doc->find("name")->scalar(), "shop");
  EXPECT_EQ(doc->find("state")->scalar(), "waiting");
  const ferry::YamlNode& steps = *doc->find("steps");
  ASSERT_EQ(steps.size(), 3u);
  for (const char* key :
       {"index", "kind", "target", "state", "started_at", "ended_at", "seconds", "detail"}) {
    EXPECT_NE(steps[0].find(key), nullptr) << key;
  }
  EXPECT_EQ(steps[0].find("state")->scalar(), "done");
  EXPECT_EQ(steps[0].find("detail")->scalar(), "36 tables, 250048 rows in 4.1 s");
  EXPECT_EQ(steps[1].find("state")->scalar(), "waiting");
  EXPECT_EQ(steps[2].find("state")->scalar(), "pending");
  EXPECT_EQ(steps[2].find("started_at")->scalar(), "");
  EXPECT_EQ((*doc->find("events"))[0].find("kind")->scalar(), "waiting");

  Outcome text = ferry({"run", "status", plan_file_});
  EXPECT_EQ(text.status, 0);
  EXPECT_NE(text.out.find("run shop: waiting"), std::string::npos) << text.out;
}

TEST_F(RunStatus, CommandsAreQueuedWithWhoGaveThem) {
  const ferry::run::Plan p = plan();
  ASSERT_TRUE(ferry::run::RunJournal::open(p));
  EXPECT_EQ(ferry({"run", "approve", plan_file_, "--as", "alice"}).status, 0);
  Outcome abort = ferry({"run", "abort", plan_file_});
  EXPECT_EQ(abort.status, 0);
  EXPECT_NE(abort.err.find("abort queued for plan shop"), std::string::npos) << abort.err;
  auto journal = ferry::run::RunJournal::open_existing(p);
  ASSERT_TRUE(journal);
  auto taken = journal->take_commands();
  ASSERT_TRUE(taken);
  ASSERT_EQ(taken->size(), 2u);
  EXPECT_EQ((*taken)[0].command, ferry::run::RunCommand::kApprove);
  EXPECT_EQ((*taken)[0].who, "alice");
  EXPECT_EQ((*taken)[1].command, ferry::run::RunCommand::kAbort);
  EXPECT_FALSE((*taken)[1].who.empty());  // the OS user
}

}  // namespace
