// The run dashboard's page in Debian's headless Chromium (scripts/setup
// installs it), driven by playwright-core (tests/browser/dashboard_page.js):
// what the page's script builds from the journal, the follow status and a
// real proxy, a second rendering after the journal changes, screenshots, and
// buttons pressed in the browser reaching the journal the engine reads.
// Without chromium the tests are skipped, except in CI (CI=true), where they
// fail: setup must have installed it.
#include <unistd.h>

#include "core/text.h"
#include "db/follow/follow_status.h"
#include "run_dashboard_harness.h"

namespace {

using namespace dashboardtest;

constexpr const char* kChromium = "/usr/bin/chromium";

class RunDashboardInChromium : public RunScenario {
 protected:
  void SetUp() override {
    if (!fs::exists(kChromium)) {
      if (std::getenv("CI")) FAIL() << kChromium << " is missing; scripts/setup installs chromium";
      GTEST_SKIP() << kChromium << " is not installed (scripts/setup installs chromium)";
    }
    RunScenario::SetUp();
  }

  // tests/browser/dashboard_page.js ACTION URL ARG [PNG].
  Outcome page(const std::vector<std::string>& args) {
    const char* modules = std::getenv("FERRY_BROWSER_MODULES");
    EXPECT_TRUE(modules && fs::exists(fs::path(modules) / "playwright-core"))
        << "FERRY_BROWSER_MODULES has no playwright-core (the browser_modules test installs it)";
    std::vector<std::string> argv{
        "node", std::string(FERRY_SOURCE_DIR) + "/tests/browser/dashboard_page.js"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }

  // The page's DOM once it shows the run as `state`, with a screenshot
  // (kept in $FERRY_SCREENSHOTS when set, to look at).
  std::string dom_at(const std::string& url, const std::string& state, const std::string& name) {
    const char* keep = std::getenv("FERRY_SCREENSHOTS");
    const fs::path png = fs::path(keep ? keep : dir_.string()) / (name + ".png");
    Outcome o = page({"dom", url, state, png.string()});
    EXPECT_EQ(o.status, 0) << o.err;
    const std::string data = slurp(png);
    EXPECT_GT(data.size(), 30'000u) << "a nearly empty screenshot";
    EXPECT_EQ(data.substr(0, 8), "\x89PNG\r\n\x1a\n");
    return o.out;
  }

  // A follow of users-db that this (living) process reports, `lag` behind.
  void write_follow(const ferry::run::Plan& plan, double lag) {
    ferry::db::FollowStatus s;
    s.state = ferry::db::FollowState::kFollowing;
    s.pid = ::getpid();
    s.lag_seconds = lag;
    s.lag_bytes = 183'500;
    s.lag_p99_ms = 420;
    s.transactions_per_second = 212;
    s.rows_per_second = 1480;
    s.updated_unix = ferry::unix_now();
    s.updated_at = ferry::iso_time(s.updated_unix);
    const fs::path work = fs::path(plan.state_dir) / "users-db";
    fs::create_directories(work);
    ASSERT_TRUE(ferry::db::write_follow_status(ferry::db::follow_status_path(work, false), s));
  }
};

TEST_F(RunDashboardInChromium, ThePageShowsTheRunAndFollowsItsChanges) {
  Backend legacy("legacy"), modern("modern");
  Proxy proxy("pools:\n  legacy: { endpoints: [" + legacy.address() +
              "] }\n  modern:\n    endpoints: [" + modern.address() +
              "]\n    breaker: { min_requests: 50, failure_rate: 50%, open_for: 30s }\n"
              "routes:\n  - name: users\n"
              "    split: [ { pool: legacy, weight: 90 }, { pool: modern, weight: 10 } ]\n"
              "    mirror: { pool: modern, percent: 100 }\n");
  const ferry::run::Plan plan = start_run(proxy.admin_port());
  write_follow(plan, 0.4);
  Dashboard ui(plan_file_);
  ASSERT_NE(ui.port(), 0) << ui.wait().err;
  // Traffic inside the dashboard's window, for the error rate and p99.
  for (int i = 0; i < 60; ++i) proxy.get("/users/" + std::to_string(i));
  std::this_thread::sleep_for(1500ms);

  std::string dom = dom_at(ui.url(), "waiting", "dashboard-waiting");
  EXPECT_NE(dom.find("id=\"run-state\">waiting<"), std::string::npos) << dom;
  EXPECT_EQ(occurrences(dom, "class=\"step\""), 4u) << dom;
  for (const char* kind : {">clone<", ">follow<", ">approve<", ">cutover<"}) {
    EXPECT_NE(dom.find(kind), std::string::npos) << kind;
  }
  EXPECT_NE(dom.find("data-state=\"done\" data-index=\"1\""), std::string::npos);
  EXPECT_NE(dom.find("data-state=\"waiting\" data-index=\"3\""), std::string::npos);
  EXPECT_NE(dom.find("36 tables, 250048 rows"), std::string::npos);
  EXPECT_NE(dom.find("data-db=\"users-db\" data-direction=\"forward\""), std::string::npos);
  EXPECT_NE(dom.find(">0.4 s<"), std::string::npos) << "the lag";
  EXPECT_NE(dom.find("data-route=\"users\""), std::string::npos);
  EXPECT_NE(dom.find("data-pool=\"modern\""), std::string::npos);
  EXPECT_NE(dom.find(">closed<"), std::string::npos) << "modern's breaker";
  EXPECT_NE(dom.find("Parallel run: "), std::string::npos);
  EXPECT_NE(dom.find("id=\"approve\" class=\"go\">"), std::string::npos) << "approve enabled";

  {
    auto journal = ferry::run::RunJournal::open_existing(plan);
    ASSERT_TRUE(journal);
    set_step(*journal, plan, 2, ferry::run::StepState::kDone, "approve by alice");
    set_step(*journal, plan, 3, ferry::run::StepState::kRunning, "");
    ASSERT_TRUE(journal->event("command", "command=approve who=alice result=applied"));
  }
  dom = dom_at(ui.url(), "running", "dashboard-running");
  EXPECT_NE(dom.find("id=\"run-state\">running<"), std::string::npos) << dom;
  EXPECT_NE(dom.find("data-state=\"running\" data-index=\"4\""), std::string::npos);
  EXPECT_NE(dom.find(">approve by alice<"), std::string::npos) << "the audit log's command";
  EXPECT_NE(dom.find("id=\"approve\" class=\"go\" disabled"), std::string::npos);
}

TEST_F(RunDashboardInChromium, ButtonsPressedInTheBrowserReachTheJournal) {
  const ferry::run::Plan plan = start_run(free_port());
  const std::string token_file = (dir_ / "token").string();
  std::ofstream(token_file) << "t0k3n\n";
  Dashboard ui(plan_file_, {"--token-file", token_file});
  ASSERT_NE(ui.port(), 0) << ui.wait().err;

  // The token in the address once; the page keeps it and takes it out of the address bar.
  Outcome pressed = page({"press", ui.url() + "?token=t0k3n", "carol"});
  ASSERT_EQ(pressed.status, 0) << pressed.err << pressed.out;
  const ferry::YamlNode shown = json(pressed.out);
  EXPECT_EQ(shown.find("address")->scalar(), "/") << pressed.out;
  EXPECT_EQ(shown.find("state")->scalar(), "waiting");
  ASSERT_EQ(shown.find("queued")->size(), 2u);
  EXPECT_NE((*shown.find("queued"))[0].scalar().find("abort"), std::string::npos);
  EXPECT_NE((*shown.find("queued"))[1].scalar().find("by carol"), std::string::npos);
  EXPECT_EQ(shown.find("errors")->size(), 0u) << pressed.out;

  // What the engine takes at its next check.
  auto journal = ferry::run::RunJournal::open_existing(plan);
  ASSERT_TRUE(journal);
  auto taken = journal->take_commands();
  ASSERT_TRUE(taken);
  ASSERT_EQ(taken->size(), 2u);
  EXPECT_EQ((*taken)[0].command, ferry::run::RunCommand::kApprove);
  EXPECT_EQ((*taken)[0].who, "carol");
  EXPECT_EQ((*taken)[1].command, ferry::run::RunCommand::kAbort);
  EXPECT_EQ((*taken)[1].who, "carol");
}

}  // namespace
