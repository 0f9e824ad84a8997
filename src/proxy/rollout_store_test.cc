// The rollout store on real SQLite files in a scratch directory: a rollout
// written mid-step comes back exactly (state, step, weights, verdicts, the
// step's elapsed time), a controller starts a rollout whose config changed
// over as pending, and a file or directory ferry cannot use is an error
// that names it.
#include "proxy/rollout_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>

#include "proxy/rollout_controller.h"

namespace ferry::proxy {
namespace {

namespace fs = std::filesystem;

class ScratchDir {
 public:
  ScratchDir()
      : dir_(fs::temp_directory_path() /
             ("ferry_rollout_store_" + std::to_string(getpid()) + "_" + std::to_string(count_++))) {
    fs::remove_all(dir_);
  }
  ~ScratchDir() { fs::remove_all(dir_); }
  std::string path() const { return dir_.string(); }

 private:
  static inline int count_ = 0;
  fs::path dir_;
};

RolloutConfig config() {
  RolloutConfig c;
  c.to = "modern";
  c.from = "legacy";
  c.steps = {{10, 60'000}, {50, 60'000}, {100, 0}};
  c.analysis.interval_ms = 10'000;
  c.analysis.max_p99_ratio = 1.25;
  return c;
}

Verdict pass() {
  Verdict v;
  v.kind = VerdictKind::kPass;
  v.reason = VerdictReason::kNone;
  v.requests_new = 150;
  v.requests_old = 900;
  v.error_rate_new = 0.5;
  v.error_rate_old = 0.25;
  v.p99_ms_new = 41.5;
  v.p99_ms_old = 38.75;
  v.policy = config().analysis;
  return v;
}

const PoolWeights kStart{{"legacy", 95}, {"modern", 5}};

TEST(RolloutStore, ARolloutMidStepComesBackExactly) {
  ScratchDir dir;
  Rollout r("users", config());
  ASSERT_TRUE(r.start(0, kStart));
  for (int64_t t = 10'000; t <= 60'000; t += 10'000) r.on_verdict(t, pass());
  ASSERT_EQ(r.step(), 1);  // step 2 began at 60 s
  r.on_verdict(70'000, pass());
  ASSERT_TRUE(r.pause(75'000, "admin"));
  const std::string text = rollout_config_text(config());
  {
    auto store = RolloutStore::open(dir.path());
    ASSERT_TRUE(store) << store.error().to_string();
    ASSERT_TRUE(store->save("users", text, r.record(80'000), 1'000'000));
  }
  // Read back 5 s of wall clock later, by another "process".
  auto store = RolloutStore::open(dir.path());
  ASSERT_TRUE(store) << store.error().to_string();
  auto loaded = store->load(1'005'000);
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  ASSERT_EQ(loaded->size(), 1u);
  const StoredRollout& s = loaded->at("users");
  EXPECT_EQ(s.config_text, text);
  EXPECT_EQ(s.saved_unix_ms, 1'000'000);

  Rollout again("users", config());
  auto restored = again.restore(s.record, 500, " file=x");
  ASSERT_TRUE(restored) << restored.error().to_string();
  EXPECT_EQ(again.phase(), RolloutPhase::kPaused);
  EXPECT_EQ(again.step(), 1);
  EXPECT_EQ(again.reason(), "admin");
  EXPECT_EQ(again.starting_weights(), kStart);
  // The step had run 20 s when written; the 5 s without a proxy do not count.
  EXPECT_EQ(again.step_started_ms(), 500 - 20'000);
  ASSERT_TRUE(restored->set_weights);
  EXPECT_EQ(*restored->set_weights, (PoolWeights{{"legacy", 50}, {"modern", 50}}));
  ASSERT_EQ(restored->events.size(), 1u);
  EXPECT_EQ(restored->events[0],
            "proxy: event=rollout_restored route=users state=paused step=2 of=3 "
            "step_elapsed=20s pause=1m verdicts=7 reason=admin weights: legacy=50 modern=50 "
            "file=x");
  ASSERT_EQ(again.verdicts().size(), 7u);
  const TimedVerdict& last = again.verdicts().back();
  // Written 10 s after it was taken, read 5 s later: 15 s old.
  EXPECT_EQ(last.at_ms, 500 - 15'000);
  EXPECT_EQ(last.step, 1);
  EXPECT_EQ(last.verdict.kind, VerdictKind::kPass);
  EXPECT_EQ(last.verdict.requests_new, 150);
  EXPECT_DOUBLE_EQ(last.verdict.error_rate_new, 0.5);
  EXPECT_DOUBLE_EQ(last.verdict.p99_ms_old, 38.75);
  EXPECT_DOUBLE_EQ(last.verdict.policy.max_p99_ratio, 1.25);
  // It goes on as before: resume, and the next step after its pause and a pass.
  ASSERT_TRUE(again.resume(1000));
  EXPECT_TRUE(again.on_verdict(61'000, pass()).set_weights);
  EXPECT_EQ(again.phase(), RolloutPhase::kPromoted);

  // Removed: gone from the file.
  ASSERT_TRUE(store->remove("users"));
  loaded = store->load(1'010'000);
  ASSERT_TRUE(loaded);
  EXPECT_TRUE(loaded->empty());
}

TEST(RolloutStore, ARecordOfAnotherShapeIsRefused) {
  RolloutRecord record;
  record.phase = RolloutPhase::kRunning;
  record.step = 5;
  record.starting_weights = kStart;
  Rollout r("users", config());
  auto restored = r.restore(record, 0, "");
  ASSERT_FALSE(restored);
  EXPECT_NE(restored.error().message.find("the stored rollout of 'users' does not fit its config "
                                          "(3 steps): it is running at step index 5"),
            std::string::npos)
      << restored.error().message;
  EXPECT_EQ(r.phase(), RolloutPhase::kPending);
}

// A controller over a real ProxyState (no sockets): what restore() does with
// the stored state of a rollout whose config is the same, or not.
class ControllerRun {
 public:
  ControllerRun(const std::string& state_dir, int first_pause_s) {
    const std::string text =
        "listen: 127.0.0.1:0\nstate_dir: " + state_dir +
        "\npools: { legacy: { endpoints: [127.0.0.1:1] }, modern: { endpoints: [127.0.0.1:2] } }\n"
        "routes:\n  - name: users\n"
        "    split: [ { pool: legacy, weight: 100 }, { pool: modern, weight: 0 } ]\n"
        "    rollout: { to: modern, steps: [ { weight: 20, pause: " +
        std::to_string(first_pause_s) + "s }, { weight: 100 } ] }\n";
    auto config = parse_proxy_config(text, "p.yaml");
    EXPECT_TRUE(config) << config.error().to_string();
    auto state = ProxyState::create(*config);
    EXPECT_TRUE(state) << state.error().to_string();
    state_ = std::move(*state);
    auto store = RolloutStore::open(state_dir);
    EXPECT_TRUE(store) << store.error().to_string();
    controller_ = std::make_unique<RolloutController>(
        io_, *state_, std::make_unique<RolloutStore>(std::move(*store)));
  }
  RolloutController& controller() { return *controller_; }
  std::vector<int> weights() const {
    const auto snap = state_->snapshot();
    const auto weights = snap->router.weights(0);
    return {weights.begin(), weights.end()};
  }

 private:
  boost::asio::io_context io_;
  std::unique_ptr<ProxyState> state_;
  std::unique_ptr<RolloutController> controller_;
};

TEST(RolloutStore, TheControllerResumesTheSameConfigAndStartsAChangedOneOver) {
  ScratchDir dir;
  {
    ControllerRun run(dir.path(), 60);
    ASSERT_TRUE(run.controller().restore());
    ASSERT_TRUE(run.controller().act("users", "start"));
    EXPECT_EQ(run.weights(), (std::vector<int>{80, 20}));
  }
  {
    ControllerRun same(dir.path(), 60);
    EXPECT_EQ(same.weights(), (std::vector<int>{100, 0})) << "the file's, before restore()";
    ASSERT_TRUE(same.controller().restore());
    EXPECT_EQ(same.weights(), (std::vector<int>{80, 20}));
    const std::string json = same.controller().render_json();
    EXPECT_NE(json.find("\"state\": \"running\""), std::string::npos) << json;
    EXPECT_NE(json.find("\"step\": 1,"), std::string::npos) << json;
  }
  for (int run = 0; run < 2; ++run) {
    // The first start finds the old config's state; the second, what the first wrote.
    ControllerRun changed(dir.path(), 30);
    ASSERT_TRUE(changed.controller().restore());
    EXPECT_EQ(changed.weights(), (std::vector<int>{100, 0})) << run;
    const std::string json = changed.controller().render_json();
    EXPECT_NE(json.find("\"state\": \"pending\""), std::string::npos) << run << json;
  }
}

TEST(RolloutStore, AFileThatIsNotAStoreIsAnErrorNamingIt) {
  ScratchDir dir;
  fs::create_directories(dir.path());
  const std::string file = RolloutStore::path(dir.path());
  std::ofstream(file) << "not a database, but long enough to be read as one's header....\n";
  auto store = RolloutStore::open(dir.path());
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().to_string().find(file), std::string::npos) << store.error().to_string();
  EXPECT_NE(store.error().to_string().find("not a database"), std::string::npos)
      << store.error().to_string();
}

TEST(RolloutStore, RowsFerryNeverWritesAreAnErrorNamingTheFile) {
  ScratchDir dir;
  {
    auto store = RolloutStore::open(dir.path());
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->save("users", "x", RolloutRecord{}, 0));
  }
  {
    auto db = SqliteDb::open(RolloutStore::path(dir.path()));
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec("UPDATE rollout SET state = 'sideways'"));
  }
  auto store = RolloutStore::open(dir.path());
  ASSERT_TRUE(store);
  auto loaded = store->load(0);
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().to_string().find(RolloutStore::path(dir.path())), std::string::npos)
      << loaded.error().to_string();
  EXPECT_NE(loaded.error().to_string().find("state 'sideways'"), std::string::npos)
      << loaded.error().to_string();
}

TEST(RolloutStore, AStoreOfANewerFerryIsRefused) {
  ScratchDir dir;
  ASSERT_TRUE(RolloutStore::open(dir.path()));
  {
    auto db = SqliteDb::open(RolloutStore::path(dir.path()));
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec("PRAGMA user_version = 7"));
  }
  auto store = RolloutStore::open(dir.path());
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().to_string().find("a rollout store of version 7"), std::string::npos)
      << store.error().to_string();
}

TEST(RolloutStore, PlacesFerryCannotWriteAreErrorsNamingThem) {
  ScratchDir dir;
  fs::create_directories(dir.path());
  // The state_dir is a file: no directory can be made there.
  const std::string not_dir = dir.path() + "/plain";
  std::ofstream(not_dir) << "x";
  auto store = RolloutStore::open(not_dir + "/state");
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().to_string().find("state_dir " + not_dir + "/state"), std::string::npos)
      << store.error().to_string();
  // The file's place is taken by a directory.
  const std::string taken = dir.path() + "/taken";
  fs::create_directories(RolloutStore::path(taken));
  store = RolloutStore::open(taken);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().to_string().find(RolloutStore::path(taken)), std::string::npos)
      << store.error().to_string();
}

TEST(RolloutStore, OneProxyPerStateDir) {
  ScratchDir dir;
  auto first = RolloutStore::open(dir.path());
  ASSERT_TRUE(first);
  auto second = RolloutStore::open(dir.path());
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().to_string().find("another ferry proxy is using it"), std::string::npos)
      << second.error().to_string();
}

}  // namespace
}  // namespace ferry::proxy
