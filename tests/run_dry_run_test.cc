// ferry run PLAN --dry-run end to end: a plan read with its environment,
// its steps shown, and everything they need checked against real servers (two
// PostgreSQL databases from the CTest fixture, a real `ferry proxy` with
// backends), with nothing changed: no state directory, no slot.
#include "pg_harness.h"
#include "proxy_harness.h"

namespace {

namespace fs = std::filesystem;

using pgtest::PgTest;
using pgtest::psql;
using pgtest::run_ferry;

class RunDryRun : public PgTest {
 protected:
  // A running proxy with route `users` (legacy/modern, with a rollout) and
  // route `search` (no rollout).
  // `token`: the proxy's admin token (from its environment), "" for none.
  std::unique_ptr<proxytest::Proxy> start_proxy(const std::string& token = "") {
    legacy_ = std::make_unique<proxytest::Backend>("legacy");
    modern_ = std::make_unique<proxytest::Backend>("modern");
    return std::make_unique<proxytest::Proxy>(
        "pools:\n  legacy: { endpoints: [" + legacy_->address() + "] }\n  modern: { endpoints: [" +
            modern_->address() +
            "] }\nroutes:\n"
            "  - { name: search, match: { path_prefix: /search }, to: modern }\n"
            "  - name: users\n    split: [ { pool: legacy, weight: 100 }, { pool: modern, weight: "
            "0 } "
            "]\n"
            "    rollout: { to: modern, steps: [ { weight: 50, pause: 1m }, { weight: 100 } ] }\n",
        "", token.empty() ? ferry_test::Env{} : ferry_test::Env{{"FERRY_ADMIN_TOKEN", token}});
  }

  std::string write_plan(const std::string& name, const std::string& admin,
                         const std::string& steps) {
    fs::create_directories(dir_);
    const fs::path plan = dir_ / (name + ".yaml");
    std::ofstream(plan) << "name: " << name << "\nstate_dir: ./state\n"
                        << "databases:\n  users-db: { source: \"${SOURCE_URI}\", "
                           "target: \"${TARGET_URI}\", route: users }\n"
                        << "proxy: { admin: " << admin << " }\n"
                        << steps;
    return plan.string();
  }

  ferry_test::Env env() const { return {{"SOURCE_URI", source()}, {"TARGET_URI", target()}}; }

  std::unique_ptr<proxytest::Backend> legacy_, modern_;
};

TEST_F(RunDryRun, ChecksTheDatabasesAndTheProxyAndChangesNothing) {
  make_source();
  make_target();
  auto proxy = start_proxy();
  const std::string admin = "127.0.0.1:" + std::to_string(proxy->admin_port());
  // No steps: the strategy's own (all-at-once: clone ... watch).
  const std::string plan = write_plan("shop", admin, "strategy: all-at-once\n");
  ferry_test::Outcome r = run_ferry({"run", plan, "--dry-run", "-f", "json"}, env());
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const ferry::YamlNode doc = pgtest::parse_json(r.out);
  EXPECT_EQ(pgtest::field(doc, "ok"), "true");
  const ferry::YamlNode& steps = *doc.find("plan")->find("steps");
  ASSERT_EQ(steps.size(), 7u);
  EXPECT_EQ(pgtest::field(steps[4], "kind"), "cutover");
  EXPECT_EQ(pgtest::field(steps[4], "route"), "users");
  const ferry::YamlNode& checks = *doc.find("preflight");
  std::vector<std::string> subjects;
  for (size_t i = 0; i < checks.size(); ++i) {
    EXPECT_EQ(pgtest::field(checks[i], "ok"), "true") << r.out;
    subjects.push_back(pgtest::field(checks[i], "subject"));
  }
  EXPECT_EQ(subjects, (std::vector<std::string>{
                          "state_dir " + (dir_ / "state").string(), "database users-db source",
                          "database users-db target", "database users-db check", "proxy " + admin,
                          "route users", "route users"}));
  // Nothing was changed: no journal directory, no replication slot.
  EXPECT_FALSE(fs::exists(dir_ / "state"));
  EXPECT_EQ(psql(source(),
                 "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE "
                 "'ferry_shop%'"),
            "0");
}

TEST_F(RunDryRun, NamesWhatTheProxyLacksAndFailsTheCheck) {
  make_source();
  make_target();
  auto proxy = start_proxy();
  const std::string admin = "127.0.0.1:" + std::to_string(proxy->admin_port());
  const std::string plan =
      write_plan("shop", admin,
                 "steps:\n  - rollout: search\n  - watch: { for: 10m, route: user }\n"
                 "  - clone: users-db\n  - follow: users-db\n"
                 "  - cutover: { database: users-db, to: modren }\n");
  ferry_test::Outcome r = run_ferry({"run", plan, "--dry-run"}, env());
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAIL  route search: has no rollout in the proxy's config (steps[0] runs "
                       "it)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("FAIL  route user: the proxy has no route 'user' (steps[1] needs it) "
                       "(did you mean 'users'?)"),
            std::string::npos)
      << r.out;
  // A cutover's pool is checked before the copy, not found missing after it.
  EXPECT_NE(r.out.find("FAIL  route users: has no pool 'modren' for steps[4] to move it to (did "
                       "you mean 'modern'?) (its pools: legacy, modern); the run would stop at "
                       "the cutover, after the copy"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("nothing was changed"), std::string::npos) << r.out;
}

TEST_F(RunDryRun, SendsTheAdminTokenFromTheEnvironment) {
  make_source();
  make_target();
  auto proxy = start_proxy("s3cret-token");
  const std::string admin = "127.0.0.1:" + std::to_string(proxy->admin_port());
  const std::string plan = write_plan("shop", admin, "steps:\n  - rollout: users\n");
  ferry_test::Env with_token = env();
  with_token.emplace_back("FERRY_ADMIN_TOKEN", "s3cret-token");
  ferry_test::Outcome r = run_ferry({"run", plan, "--dry-run"}, with_token);
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("ok    route users: exists and has a rollout"), std::string::npos) << r.out;
  // Without it, the proxy refuses and the check says so.
  r = run_ferry({"run", plan, "--dry-run"}, env());
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAIL  proxy " + admin + ": the admin API answered 401"), std::string::npos)
      << r.out;
}

TEST_F(RunDryRun, AnInvalidPlanIsRefusedWithEveryProblemAndItsLine) {
  const std::string plan = write_plan("shop", "127.0.0.1:9",
                                      "steps:\n  - clone: users-db\n  - "
                                      "cutover: users\n  - folow: users-db\n");
  ferry_test::Outcome r = run_ferry({"run", plan, "--dry-run"}, {{"SOURCE_URI", source()}});
  EXPECT_EQ(r.status, 3) << r.out << r.err;
  EXPECT_NE(r.err.find(plan + ":4:48: error: databases.users-db.target: ${TARGET_URI} is not set "
                              "in the environment"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(plan + ":8:14: error: steps[1].cutover: no database named 'users' in "
                              "databases"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(plan + ":9:5: error: steps[2]: 'folow' is not a step"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("(did you mean 'follow'?)"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;

  // Run for real, the same plan is refused the same way, before anything
  // is created.
  r = run_ferry({"run", plan}, env());
  EXPECT_EQ(r.status, 3) << r.err;
  EXPECT_NE(r.err.find("'folow' is not a step"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "state"));
}

}  // namespace
