#include "run/dashboard_snapshot.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/text.h"
#include "core/yaml.h"
#include "db/follow/follow_status.h"

namespace ferry::run {
namespace {

namespace fs = std::filesystem;

class DashboardSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ferry_dashboard_snapshot_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const std::string text =
        "name: shop\nstate_dir: ./state\n"
        "databases:\n"
        "  users-db: { source: \"postgres://app:pw1@old-db/shop\", target: "
        "\"postgres://app:pw2@new-db/shop\", route: users }\n"
        "  orders-db: { source: \"postgres://app:pw3@old-db/orders\", target: "
        "\"postgres://app:pw4@new-db/orders\" }\n"
        "proxy: { admin: 127.0.0.1:9901 }\n"
        "steps:\n  - clone: users-db\n  - follow: users-db\n  - approve: \"go\"\n"
        "  - cutover: users-db\n  - clone: orders-db\n";
    auto plan = parse_plan(text, (dir_ / "shop.yaml").string(), process_environment);
    ASSERT_TRUE(plan) << plan.error().message;
    plan_ = *plan;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A follow status as `ferry db follow` writes it, from this (live) process.
  void write_status(const std::string& db, bool reverse, db::FollowState state, double lag) {
    db::FollowStatus s;
    s.state = state;
    s.direction = reverse ? "reverse" : "forward";
    s.pid = ::getpid();
    s.lag_seconds = lag;
    s.lag_bytes = 4096;
    s.transactions_per_second = 120;
    s.updated_unix = unix_now();
    s.updated_at = iso_time(s.updated_unix);
    const fs::path work = fs::path(plan_.state_dir) / db;
    fs::create_directories(work);
    ASSERT_TRUE(db::write_follow_status(db::follow_status_path(work.string(), reverse), s));
  }

  YamlNode snapshot(const RunJournal& journal, const std::optional<ProxyReading>& proxy) {
    const std::string json =
        render_dashboard_snapshot(plan_, journal, read_replication(plan_), proxy);
    EXPECT_EQ(json.find("pw1"), std::string::npos) << "a password in the snapshot";
    auto doc = parse_yaml(json, "snapshot");
    EXPECT_TRUE(doc) << json;
    return doc ? *doc : YamlNode();
  }

  fs::path dir_;
  Plan plan_;
};

TEST_F(DashboardSnapshotTest, TheStatusWithEachDatabasesReplicationAndTheProxy) {
  auto journal = RunJournal::open(plan_);
  ASSERT_TRUE(journal) << journal.error().message;
  auto view = journal->view(plan_);
  ASSERT_TRUE(view);
  view->states[0] = StepState::kDone;
  ASSERT_TRUE(journal->record(*view, 0, "36 tables"));
  view->states[1] = StepState::kRunning;
  ASSERT_TRUE(journal->record(*view, 1, ""));
  ASSERT_TRUE(journal->event("command", "command=pause who=alice result=applied"));
  ASSERT_TRUE(journal->queue_command(RunCommand::kApprove, "bob"));
  write_status("users-db", false, db::FollowState::kFollowing, 0.4);
  write_status("users-db", true, db::FollowState::kCatchingUp, 12.5);

  ProxyReading proxy;
  proxy.admin = "127.0.0.1:9901";
  proxy.error = "the admin API at 127.0.0.1:9901: connecting: Connection refused";
  const YamlNode doc = snapshot(*journal, proxy);

  // The status's own fields, as `ferry run status -f json` has them.
  EXPECT_EQ(doc.find("name")->scalar(), "shop");
  EXPECT_EQ(doc.find("state")->scalar(), "running");
  EXPECT_EQ(doc.find("error")->scalar(), "");
  const YamlNode& steps = *doc.find("steps");
  ASSERT_EQ(steps.size(), 5u);
  EXPECT_EQ(steps[0].find("state")->scalar(), "done");
  EXPECT_EQ(steps[1].find("state")->scalar(), "running");
  EXPECT_NE(steps[1].find("started_at")->scalar(), "");
  EXPECT_EQ((*doc.find("events"))[0].find("detail")->scalar(),
            "command=pause who=alice result=applied");
  const YamlNode& queued = *doc.find("queued");
  ASSERT_EQ(queued.size(), 1u);
  EXPECT_EQ(queued[0].find("command")->scalar(), "approve");
  EXPECT_EQ(queued[0].find("who")->scalar(), "bob");
  EXPECT_EQ((*doc.find("plan")->find("steps"))[3].scalar(), plan_.steps[3].describe());

  // users-db forward and reverse; orders-db has no follow yet.
  const YamlNode& dbs = *doc.find("databases");
  ASSERT_EQ(dbs.size(), 3u);
  EXPECT_EQ(dbs[0].find("name")->scalar(), "users-db");
  EXPECT_EQ(dbs[0].find("direction")->scalar(), "forward");
  EXPECT_EQ(dbs[0].find("state")->scalar(), "following");
  EXPECT_EQ(dbs[0].find("running")->scalar(), "true");
  EXPECT_EQ(dbs[0].find("lag_seconds")->scalar(), "0.4");
  EXPECT_EQ(dbs[0].find("route")->scalar(), "users");
  EXPECT_EQ(dbs[0].find("source")->scalar(), "postgres://app:***@old-db/shop");
  EXPECT_EQ(dbs[1].find("direction")->scalar(), "reverse");
  EXPECT_EQ(dbs[1].find("state")->scalar(), "catching-up");
  EXPECT_EQ(dbs[1].find("lag_seconds")->scalar(), "12.5");
  EXPECT_EQ(dbs[1].find("source")->scalar(), "postgres://app:***@new-db/shop");  // the way back
  EXPECT_EQ(dbs[2].find("name")->scalar(), "orders-db");
  EXPECT_EQ(dbs[2].find("state")->scalar(), "none");
  EXPECT_EQ(dbs[2].find("running")->scalar(), "false");

  const YamlNode& p = *doc.find("proxy");
  EXPECT_EQ(p.find("ok")->scalar(), "false");
  EXPECT_NE(p.find("error")->scalar().find("Connection refused"), std::string::npos);
}

TEST_F(DashboardSnapshotTest, AStaleOrDamagedStatusIsShownAsSuch) {
  auto journal = RunJournal::open(plan_);
  ASSERT_TRUE(journal);
  // A follow that stopped writing a minute ago is not running, whatever its state says.
  write_status("users-db", false, db::FollowState::kFollowing, 0.1);
  auto stale = db::read_follow_status(
      db::follow_status_path((fs::path(plan_.state_dir) / "users-db").string(), false));
  ASSERT_TRUE(stale);
  stale->updated_unix -= 60;
  ASSERT_TRUE(db::write_follow_status(
      db::follow_status_path((fs::path(plan_.state_dir) / "users-db").string(), false), *stale));
  fs::create_directories(fs::path(plan_.state_dir) / "orders-db");
  std::ofstream(fs::path(plan_.state_dir) / "orders-db" / "follow-status.json") << "{\"x\": 1}";
  const YamlNode doc = snapshot(*journal, std::nullopt);
  const YamlNode& dbs = *doc.find("databases");
  ASSERT_EQ(dbs.size(), 2u);
  EXPECT_EQ(dbs[0].find("state")->scalar(), "following");
  EXPECT_EQ(dbs[0].find("running")->scalar(), "false");
  EXPECT_EQ(dbs[1].find("state")->scalar(), "unreadable");
  EXPECT_NE(dbs[1].find("error")->scalar().find("not a follow status"), std::string::npos);
  EXPECT_TRUE(doc.find("proxy")->is_null());
  EXPECT_EQ(doc.find("state")->scalar(), "pending");
}

}  // namespace
}  // namespace ferry::run
