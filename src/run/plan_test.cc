#include "run/plan.h"

#include <gtest/gtest.h>

#include <map>

#include "run/default_steps.h"
#include "run/plan_preflight.h"

namespace ferry::run {
namespace {

const std::map<std::string, std::string, std::less<>> kEnv{
    {"SOURCE_URI", "postgres://app:s3cret@db-old:5432/shop"},
    {"TARGET_URI", "postgres://app:t0psecret@db-new:5432/shop"}};

std::optional<std::string> test_env(std::string_view name) {
  auto it = kEnv.find(name);
  if (it == kEnv.end()) return std::nullopt;
  return it->second;
}

Result<Plan> parse(const std::string& text) {
  return parse_plan(text, "plans/shop.yaml", test_env);
}

std::string errors_of(const std::string& text) {
  auto p = parse(text);
  return p ? std::string() : p.error().message;
}

// The example of docs/run.md.
constexpr const char* kExample = R"(name: shop-users
state_dir: ./ferry-run
databases:
  users-db: { source: "${SOURCE_URI}", target: "${TARGET_URI}", jobs: 4 }
proxy: { admin: 127.0.0.1:9901, token_file: ./admin.token }
steps:
  - clone: users-db
  - follow: users-db
  - verify: users-db
  - approve: "data verified, start the canary"
  - rollout: users
  - cutover: { database: users-db, route: users, reverse: true, hold_requests: 5s }
  - verify: users-db
  - watch: { for: 30m, route: users }
  - command: ./notify.sh "users moved"
)";

TEST(Plan, ACutoverNamesItsNewPoolAndAWatchItsCriteria) {
  auto p = parse(R"(name: shop
databases:
  users-db: { source: "${SOURCE_URI}", target: "${TARGET_URI}", route: users }
proxy: { admin: 127.0.0.1:9901 }
steps:
  - clone: users-db
  - follow: users-db
  - cutover: { database: users-db, to: modern, hold_requests: 5s, then: ./point-at-new.sh, rollback_then: ./point-at-old.sh }
  - watch: { for: 10m, route: users, interval: 20s, max_error_rate_increase: 0.5, max_p99_ratio: 2, min_requests: 50 }
)");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_TRUE(p->warnings.empty());
  EXPECT_EQ(p->steps[2].to_pool, "modern");
  EXPECT_EQ(p->steps[2].then, "./point-at-new.sh");
  EXPECT_EQ(p->steps[2].rollback_then, "./point-at-old.sh");
  EXPECT_NE(p->steps[2].describe().find("route users moved to pool modern"), std::string::npos);
  const WatchCriteria& c = p->steps[3].criteria;
  EXPECT_EQ(c.interval_ms, 20'000);
  EXPECT_DOUBLE_EQ(c.max_error_rate_increase, 0.5);
  EXPECT_DOUBLE_EQ(c.max_p99_ratio, 2);
  EXPECT_EQ(c.min_requests, 50);
  EXPECT_EQ(WatchCriteria().max_error_rate_increase, 1.0);  // seed 000: 1 point
  EXPECT_EQ(WatchCriteria().max_p99_ratio, 1.5);            // seed 000: +50 % p99

  const std::string bad = errors_of(R"(name: shop
databases:
  users-db: { source: "${SOURCE_URI}", target: "${TARGET_URI}", route: users }
proxy: { admin: 127.0.0.1:9901 }
steps:
  - watch: { for: 1m, route: users, interval: 2m }
)");
  EXPECT_NE(
      bad.find("plans/shop.yaml:6:47: error: steps[0].watch.interval: 2m is longer than the watch"),
      std::string::npos)
      << bad;
}

TEST(Plan, WarnsOfAStrategyItIgnoresAndOfACutoverWithoutAWayBack) {
  auto p = parse(R"(name: shop
databases:
  users-db: { source: "${SOURCE_URI}", target: "${TARGET_URI}" }
strategy: layer-by-layer
steps:
  - clone: users-db
  - follow: users-db
  - cutover: { database: users-db, reverse: false }
)");
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_EQ(p->warnings.size(), 2u);
  const std::string all = p->warnings[0] + "\n" + p->warnings[1];
  EXPECT_NE(all.find("plans/shop.yaml:4:11: warning: strategy: ignored"), std::string::npos) << all;
  EXPECT_NE(all.find("plans/shop.yaml:8:45: warning: steps[2].cutover.reverse: false: no way back "
                     "past this cutover"),
            std::string::npos)
      << all;
}

TEST(Plan, LoadsTheDocumentedExample) {
  auto p = parse(kExample);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->name, "shop-users");
  EXPECT_EQ(p->state_dir, "plans/ferry-run");  // from the plan's directory
  ASSERT_EQ(p->databases.size(), 1u);
  const PlanDatabase& db = p->databases[0];
  EXPECT_EQ(db.source, "postgres://app:s3cret@db-old:5432/shop");
  EXPECT_EQ(db.source_shown.find("s3cret"), std::string::npos) << db.source_shown;
  EXPECT_NE(db.target_shown.find("db-new"), std::string::npos) << db.target_shown;
  ASSERT_TRUE(p->proxy);
  EXPECT_EQ(p->proxy->admin, "127.0.0.1:9901");
  EXPECT_EQ(p->proxy->token_file, "plans/admin.token");
  ASSERT_EQ(p->steps.size(), 9u);
  const PlanStep& cutover = p->steps[5];
  EXPECT_EQ(cutover.kind, StepKind::kCutover);
  EXPECT_EQ(cutover.database, "users-db");
  EXPECT_EQ(cutover.route, "users");
  EXPECT_EQ(cutover.hold_ms, 5000);
  EXPECT_TRUE(cutover.reverse);
  EXPECT_EQ(cutover.describe(),
            "cutover users-db: make the target the database of record (route users moved to "
            "its rollout's pool, requests held up to 5s, reverse stream started (the way back))");
  EXPECT_EQ(p->steps[7].for_ms, 30 * 60'000);
  EXPECT_EQ(p->steps[8].command, "./notify.sh \"users moved\"");
  EXPECT_EQ(p->on_failure, OnFailure::kRollback);
}

TEST(Plan, ReportsEveryProblemWithItsPlace) {
  const std::string bad = errors_of(R"(name: shop users
databases:
  users-db: { source: "${SOURCE_URL}", target: "not a connection string", jobs: 0 }
strategy: big-bang
steps:
  - clone: users-db
  - folow: users-db
  - verify: user-db
  - cutover: { database: users-db, hold_requests: 5s }
  - watch: { for: 30m, route: users }
)");
  for (const char* expected : {
           "plans/shop.yaml:1:7: error: name: 'shop users' must be letters",
           "plans/shop.yaml:3:23: error: databases.users-db.source: ${SOURCE_URL} is not set in "
           "the environment",
           "databases.users-db.jobs",
           "strategy",
           "plans/shop.yaml:7:5: error: steps[1]: 'folow' is not a step",
           "(did you mean 'follow'?)",
           "plans/shop.yaml:8:13: error: steps[2].verify: no database named 'user-db' in "
           "databases (did you mean 'users-db'?)",
           "steps[3].cutover.hold_requests: holds a route's requests, and the cutover has no route",
           "steps[3]: cutover users-db comes before any follow of it",
           "steps[4]: watch works on route 'users' of a proxy, and the plan has no proxy",
       }) {
    EXPECT_NE(bad.find(expected), std::string::npos) << expected << "\n" << bad;
  }
  // The target's text is libpq's complaint, never the string (it may hold a password).
  EXPECT_NE(bad.find("databases.users-db.target"), std::string::npos) << bad;
  EXPECT_EQ(bad.find("s3cret"), std::string::npos);
}

TEST(Plan, WithoutStepsTheStrategyGivesThem) {
  const std::string base = R"(name: shop
databases:
  users-db: { source: "${SOURCE_URI}", target: "${TARGET_URI}", route: users }
  audit-db: { source: "${SOURCE_URI}", target: "${TARGET_URI}" }
proxy: { admin: 127.0.0.1:9901 }
)";
  auto all = parse(base + "strategy: all-at-once\n");
  ASSERT_TRUE(all) << all.error().message;
  std::vector<std::string> kinds;
  for (const auto& s : all->steps) {
    EXPECT_TRUE(s.from_strategy);
    kinds.push_back(std::string(step_kind_name(s.kind)) + " " +
                    (s.database.empty() ? s.route : s.database));
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"clone users-db", "follow users-db", "verify users-db",
                                             "approve ", "cutover users-db", "verify users-db",
                                             "watch users", "clone audit-db", "follow audit-db",
                                             "verify audit-db", "approve ", "cutover audit-db",
                                             "verify audit-db"}));
  EXPECT_EQ(all->steps[4].hold_ms, kDefaultHoldMs);
  EXPECT_EQ(all->steps[4].route, "users");
  EXPECT_EQ(all->steps[11].hold_ms, 0);  // no route: nothing to hold

  auto layers = parse(base + "strategy: layer-by-layer\n");
  ASSERT_TRUE(layers) << layers.error().message;
  // The application layer first: its traffic moved and watched, then its data.
  EXPECT_EQ(layers->steps[0].kind, StepKind::kRollout);
  EXPECT_EQ(layers->steps[1].kind, StepKind::kWatch);
  EXPECT_EQ(layers->steps[2].kind, StepKind::kClone);
}

TEST(Plan, APlanWithStepsOfItsOwnMayMoveTrafficOnly) {
  // A stateless service behind the proxy: nothing to copy, its route to move.
  auto p = parse(R"(name: web-api
proxy: { admin: 127.0.0.1:9901 }
steps:
  - approve: "move web-api"
  - rollout: web-api
  - watch: { for: 30m, route: web-api }
)");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_TRUE(p->databases.empty());
  ASSERT_EQ(p->steps.size(), 3u);
  EXPECT_EQ(p->steps[1].route, "web-api");
  // Without steps, the strategy's come from the databases: a plan needs some.
  const std::string none = errors_of("name: web-api\nproxy: { admin: 127.0.0.1:9901 }\n");
  EXPECT_NE(none.find("plans/shop.yaml:1:1: error: document: missing required field 'databases'"),
            std::string::npos)
      << none;
}

}  // namespace
}  // namespace ferry::run

namespace ferry::run {
namespace {

TEST(SlotName, IsThePlansAndDatabasesNamesWithinFortyCharacters) {
  Plan plan;
  plan.name = "shop-users";
  PlanDatabase db;
  db.name = "users-db";
  EXPECT_EQ(slot_name(plan, db), "ferry_shop_users_users_db");
  plan.name = "runexecute_awholemigrationund_12619418";
  const std::string long_one = slot_name(plan, db);
  EXPECT_EQ(long_one.size(), 40u) << long_one;
  EXPECT_EQ(long_one.substr(0, 32), "ferry_runexecute_awholemigratio_") << long_one;
  plan.name = "runexecute_awholemigrationund_99999999";
  EXPECT_NE(slot_name(plan, db), long_one);  // the same beginning, its own slot
  for (char c : long_one) EXPECT_TRUE(std::islower(c) || std::isdigit(c) || c == '_') << long_one;
}

}  // namespace
}  // namespace ferry::run
