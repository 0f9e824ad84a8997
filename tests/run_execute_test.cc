// ferry run PLAN end to end, on real servers: two PostgreSQL databases of
// the CTest fixture, the demo's shop service in two versions
// (examples/demo/shop_app.py), a real `ferry proxy` in front and sticky
// users (examples/demo/load.py) counting every failed request. A whole
// migration to `done` without a failed request; an abort after the cutover
// that puts writes, data and traffic back on the old side; an analysis that
// fails and rolls back on its own; and a run killed with SIGKILL that the
// same command finishes.
#include <random>

#include "demo_harness.h"
#include "pg_harness.h"
#include "proxy_harness.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ferry_test::Child;
using ferry_test::Env;
using ferry_test::Outcome;
using pgtest::psql;

using demotest::demo_file;
using demotest::kPython;

class RunExecute : public pgtest::PgTest {
 protected:
  void TearDown() override {
    // The follows a run starts outlive it on purpose; not a test's.
    (void)ferry_test::run({"pkill", "-f", "db follow .*--dir " + dir_.string()});
    load_.reset();
    modern_.reset();
    legacy_.reset();
    proxy_.reset();
    pgtest::PgTest::TearDown();
  }

  // The shop on the source (seeded), legacy on it, modern on the database
  // the file modern-db.uri names (the source, until a cutover's hook), the
  // proxy in front with a rollout of `shop` to modern.
  void start_shop(const std::string& modern_faults = "") {
    make_source(false);
    make_target();
    fs::create_directories(dir_);
    write(dir_ / "source.uri", source());
    write(dir_ / "target.uri", target());
    write(dir_ / "modern-db.uri", source());
    Outcome seeded = ferry_test::run({kPython, demo_file("shop_app.py"), "--seed", "300"},
                                     {{"SHOP_DB", source()}});
    ASSERT_EQ(seeded.status, 0) << seeded.err;
    legacy_port_ = proxytest::free_port();
    legacy_ = std::make_unique<Child>(
        std::vector<std::string>{kPython, demo_file("shop_app.py"), "--port",
                                 std::to_string(legacy_port_), "--version", "legacy"},
        ferry_test::output_prefix(), Env{{"SHOP_DB", source()}});
    modern_port_ = proxytest::free_port();
    modern_ = std::make_unique<Child>(
        std::vector<std::string>{kPython, demo_file("shop_app.py"), "--port",
                                 std::to_string(modern_port_), "--version", "modern"},
        ferry_test::output_prefix(),
        Env{{"SHOP_DB_FILE", (dir_ / "modern-db.uri").string()}, {"SHOP_FAULTS", modern_faults}});
    ASSERT_TRUE(proxytest::wait_for_port(legacy_port_));
    ASSERT_TRUE(proxytest::wait_for_port(modern_port_));
    proxy_ = std::make_unique<proxytest::Proxy>(
        "pools:\n"
        "  legacy: { endpoints: [127.0.0.1:" +
        std::to_string(legacy_port_) +
        "] }\n"
        "  modern: { endpoints: [127.0.0.1:" +
        std::to_string(modern_port_) +
        "] }\n"
        "routes:\n"
        "  - name: shop\n"
        "    match: { path_prefix: /api/ }\n"
        "    split: [ { pool: legacy, weight: 100 }, { pool: modern, weight: 0 } ]\n"
        "    sticky: { header: X-User-Id }\n"
        "    rollout:\n"
        "      to: modern\n"
        "      steps: [ { weight: 50, pause: 2s }, { weight: 100 } ]\n"
        "      analysis: { interval: 1s, min_requests: 5, max_p99_ratio: 20, inconclusive_for: 30s "
        "}\n");
  }

  static void write(const fs::path& file, const std::string& text) {
    std::ofstream(file) << text << "\n";
  }

  void start_load(int users = 12) {
    summary_ = dir_ / "load.json";
    load_ = std::make_unique<Child>(
        std::vector<std::string>{kPython, demo_file("load.py"), "--url",
                                 "http://127.0.0.1:" + std::to_string(proxy_->port()), "--users",
                                 std::to_string(users), "--duration", "600", "--think-ms", "30",
                                 "--summary", summary_.string(), "--random-seed", "11"},
        ferry_test::output_prefix());
  }
  // Stops the users; their summary.
  ferry::YamlNode stop_load() {
    load_->signal(SIGINT);
    Outcome r = load_->wait();
    const std::string summary = ferry_test::slurp(summary_);
    load_output_ = r.out + r.err + summary;
    return pgtest::parse_json(summary);
  }

  std::string write_plan(const std::string& steps) {
    const fs::path plan = dir_ / "plan.yaml";
    // Named after the test: the slot it names is the test's own on the
    // shared servers.
    std::ofstream(plan) << "name: " << name_ << "\nstate_dir: ./state\n"
                        << "databases:\n  shop-db: { source: \"${SOURCE_URI}\", target: "
                           "\"${TARGET_URI}\", jobs: 2, route: shop }\n"
                        << "proxy: { admin: 127.0.0.1:" << proxy_->admin_port() << " }\n"
                        << steps;
    return plan.string();
  }

  // The cutover every test's plan makes: requests held, the modern
  // version's database moved by the hook, and back by the rollback's.
  std::string cutover_step() const {
    const std::string d = dir_.string();
    return "  - cutover:\n      database: shop-db\n      hold_requests: 5s\n"
           "      then: cp " +
           d + "/target.uri " + d + "/modern-db.uri\n      rollback_then: cp " + d +
           "/source.uri " + d + "/modern-db.uri\n";
  }

  Env env() const { return {{"SOURCE_URI", source()}, {"TARGET_URI", target()}}; }

  std::unique_ptr<Child> start_run(const std::string& plan) {
    return std::make_unique<Child>(std::vector<std::string>{FERRY_BINARY, "run", plan},
                                   ferry_test::output_prefix(), env());
  }

  ferry::YamlNode status(const std::string& plan) {
    Outcome r = pgtest::run_ferry({"run", "status", plan, "-f", "json"});
    EXPECT_EQ(r.status, 0) << r.err;
    return pgtest::parse_json(r.out);
  }
  // The run's state, "" before it has a journal.
  std::string state_of(const std::string& plan) {
    Outcome r = pgtest::run_ferry({"run", "status", plan, "-f", "json"});
    return r.status == 0 ? pgtest::field(pgtest::parse_json(r.out), "state") : "";
  }

  // Every event of the run, one "kind detail" line each.
  std::string events(const std::string& plan) {
    const ferry::YamlNode s = status(plan);
    std::string out;
    const ferry::YamlNode& list = *s.find("events");
    for (size_t i = 0; i < list.size(); ++i) {
      out += pgtest::field(list[i], "kind") + " " + pgtest::field(list[i], "detail") + "\n";
    }
    return out;
  }

  // The run's step `index` (1-based) as status shows it.
  std::string step_field(const std::string& plan, size_t index, const char* field) {
    const ferry::YamlNode s = status(plan);
    return pgtest::field((*s.find("steps"))[index - 1], field);
  }

  std::string weights() const {
    const std::string body = proxytest::body_of(proxy_->admin("GET", "/admin/state"));
    const std::regex re("\"pool\": \"(\\w+)\", \"weight\": (\\d+)");
    std::string out;
    for (std::sregex_iterator it(body.begin(), body.end(), re), end; it != end; ++it) {
      out += (*it)[1].str() + "=" + (*it)[2].str() + " ";
    }
    return out;
  }

  std::string read_only(const std::string& uri) {
    return psql(uri, "SHOW default_transaction_read_only");
  }

  // The HTML report as Debian's headless Chromium renders it (scripts/setup
  // installs it; without it the check is skipped, except in CI): one
  // timeline row per step, the summary's numbers, a real screenshot (kept
  // in $FERRY_SCREENSHOTS when set, to look at).
  void expect_html_report_renders(const std::string& plan, size_t steps) {
    const std::string chromium = "/usr/bin/chromium";
    if (!fs::exists(chromium)) {
      EXPECT_EQ(std::getenv("CI"), nullptr) << chromium << " is missing; scripts/setup installs it";
      return;
    }
    const fs::path html = dir_ / "report.html";
    Outcome written = pgtest::run_ferry({"run", "report", plan, "-f", "html", "-o", html.string()});
    ASSERT_EQ(written.status, 0) << written.err;
    const char* keep = std::getenv("FERRY_SCREENSHOTS");
    const fs::path png = fs::path(keep ? keep : dir_.string()) / "run_report.png";
    const std::vector<std::string> browser = {
        chromium,        "--headless",     "--no-sandbox",
        "--disable-gpu", "--no-first-run", "--user-data-dir=" + (dir_ / "profile").string()};
    std::vector<std::string> dump = browser;
    dump.insert(dump.end(), {"--dump-dom", "file://" + html.string()});
    Outcome dom = ferry_test::run(dump);
    ASSERT_EQ(dom.status, 0) << dom.err;
    std::vector<std::string> shot = browser;
    shot.insert(shot.end(), {"--window-size=1200,1400", "--screenshot=" + png.string(),
                             "file://" + html.string()});
    (void)ferry_test::run(shot);
    // Summary (4 rows and the 2 verifies), timeline (a header and a row per
    // step), traffic (a header, before, during on each pool, after).
    EXPECT_EQ(proxytest::occurrences(dom.out, "<tr>"), 6 + (1 + steps) + 5) << dom.out;
    EXPECT_NE(dom.out.find("<td>write-unavailable time</td>"), std::string::npos) << dom.out;
    EXPECT_NE(dom.out.find("0 answered 503 after the timeout"), std::string::npos) << dom.out;
    const std::string data = ferry_test::slurp(png);
    EXPECT_GT(data.size(), 30'000u) << "a nearly empty screenshot";
    EXPECT_EQ(data.substr(0, 8), "\x89PNG\r\n\x1a\n");
  }

  std::unique_ptr<Child> legacy_, modern_, load_;
  std::unique_ptr<proxytest::Proxy> proxy_;
  int legacy_port_ = 0, modern_port_ = 0;
  fs::path summary_;
  std::string load_output_;
};

TEST_F(RunExecute, AWholeMigrationUnderLoadEndsDoneWithoutAFailedRequest) {
  start_shop();
  start_load();
  const std::string plan = write_plan(
      "steps:\n  - clone: shop-db\n  - follow: shop-db\n  - verify: shop-db\n"
      "  - rollout: shop\n" +
      cutover_step() +
      "  - verify: shop-db\n"
      "  - watch: { for: 4s, route: shop, interval: 1s, min_requests: 5, "
      "max_p99_ratio: 20 }\n");
  Outcome r = pgtest::run_ferry({"run", plan}, env());
  const ferry::YamlNode load = stop_load();
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("run " + name_ + ": done"), std::string::npos) << r.out;
  // The users saw nothing fail, and ended on the modern version.
  EXPECT_EQ(pgtest::field(load, "failed"), "0") << load_output_;
  EXPECT_GT(std::stoll(pgtest::field(load, "requests")), 100);
  EXPECT_EQ(weights(), "legacy=0 modern=100 ");
  // The database moved: the target takes writes, the source is read-only
  // and kept in step by the reverse stream, and the modern version uses the target.
  EXPECT_EQ(read_only(source()), "on");
  EXPECT_EQ(read_only(target()), "off");
  EXPECT_EQ(pgtest::trim(ferry_test::slurp(dir_ / "modern-db.uri")), target());
  // What each step did, with its numbers.
  EXPECT_NE(step_field(plan, 3, "detail").find("every row equal"), std::string::npos);
  EXPECT_NE(step_field(plan, 4, "detail").find("promoted"), std::string::npos);
  const std::string cutover = step_field(plan, 5, "detail");
  EXPECT_NE(cutover.find("write-unavailable"), std::string::npos) << cutover;
  EXPECT_NE(cutover.find("requests held: held="), std::string::npos) << cutover;
  EXPECT_NE(cutover.find("timed_out=0"), std::string::npos) << cutover;
  // The requests sent on before the hold had finished before the database moved.
  const std::string log = events(plan);
  EXPECT_NE(log.find("still_active=0"), std::string::npos) << log;
  EXPECT_NE(step_field(plan, 7, "detail").find("windows passed"), std::string::npos);
  // The report: what the users saw through the proxy, the held requests,
  // the write-unavailable time, the traffic before, during and after.
  Outcome report = pgtest::run_ferry({"run", "report", plan, "-f", "json"});
  ASSERT_EQ(report.status, 0) << report.err;
  const ferry::YamlNode doc = pgtest::parse_json(report.out);
  const ferry::YamlNode& summary = *doc.find("summary");
  EXPECT_GT(std::stoll(pgtest::field(summary, "requests")), 100) << report.out;
  EXPECT_EQ(pgtest::field(summary, "errors"), "0") << report.out;
  EXPECT_EQ(summary.find("write_unavailable_seconds")->size(), 1u) << report.out;
  EXPECT_EQ(pgtest::field(*summary.find("held"), "timed_out"), "0") << report.out;
  const ferry::YamlNode& phases = *(*doc.find("traffic"))[0].find("phases");
  ASSERT_EQ(phases.size(), 3u) << report.out;
  EXPECT_EQ(pgtest::field(phases[2], "phase"), "after");
  EXPECT_EQ(pgtest::field((*phases[2].find("pools"))[0], "pool"), "modern") << report.out;
  expect_html_report_renders(plan, 7);
}

TEST_F(RunExecute, AnAbortAfterTheCutoverPutsWritesDataAndTrafficBack) {
  start_shop();
  start_load();
  const std::string plan = write_plan("steps:\n  - clone: shop-db\n  - follow: shop-db\n" +
                                      cutover_step() + "  - approve: \"keep it?\"\n");
  auto run = start_run(plan);
  ASSERT_TRUE(proxytest::eventually([&] { return state_of(plan) == "waiting"; }, 120s))
      << run->wait().err;
  EXPECT_EQ(read_only(source()), "on");
  // Writes made on the target after the cutover, through the modern version.
  std::this_thread::sleep_for(2s);
  const std::string orders_on_target = psql(target(), "SELECT count(*) FROM orders");
  Outcome abort = pgtest::run_ferry({"run", "abort", plan, "--as", "tester"});
  ASSERT_EQ(abort.status, 0) << abort.err;
  Outcome ended = run->wait();
  const ferry::YamlNode load = stop_load();
  EXPECT_EQ(ended.status, 1) << ended.out << ended.err;  // walked its way back
  EXPECT_EQ(pgtest::field(status(plan), "state"), "aborted");
  // Writes on the source again, the modern version back on it, traffic as
  // before the cutover.
  EXPECT_EQ(read_only(source()), "off");
  EXPECT_EQ(read_only(target()), "on");
  EXPECT_EQ(pgtest::trim(ferry_test::slurp(dir_ / "modern-db.uri")), source());
  EXPECT_EQ(weights(), "legacy=100 modern=0 ");
  // Every write made on the target is on the source: the orders up to the
  // target's last one (the source's sequence took the target's value, so
  // orders placed on the source since come after it).
  const std::string last = psql(target(), "SELECT max(id) FROM orders");
  EXPECT_GE(std::stoll(psql(target(), "SELECT count(*) FROM orders")),
            std::stoll(orders_on_target));
  const std::string upto =
      "SELECT count(*), sum(price), sum(hashtext(item || customer_id)) FROM orders WHERE id <= " +
      last;
  EXPECT_EQ(psql(source(), upto), psql(target(), upto));
  EXPECT_EQ(pgtest::field(load, "failed"), "0") << load_output_;
  EXPECT_NE(step_field(plan, 3, "state"), "done");
  EXPECT_EQ(step_field(plan, 3, "state"), "undone");
}

TEST_F(RunExecute, AFailingAnalysisRollsTheRolloutBackAndTheRunWithIt) {
  start_shop("error_rate=0.5");
  start_load();
  const std::string plan = write_plan("steps:\n  - rollout: shop\n  - command: echo never\n");
  Outcome r = pgtest::run_ferry({"run", plan, "-f", "json"}, env());
  (void)stop_load();
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  // -f json: the run's status as it ended, as `ferry run status -f json` has it.
  const ferry::YamlNode st = pgtest::parse_json(r.out);
  EXPECT_EQ(pgtest::field(st, "state"), "failed");
  EXPECT_NE(pgtest::field(st, "why").find("the rollout's analysis rolled it back"),
            std::string::npos)
      << pgtest::field(st, "why");
  // Its undo found the weights where the analysis had put them back.
  EXPECT_EQ(step_field(plan, 1, "state"), "undone");
  EXPECT_EQ(step_field(plan, 2, "state"), "pending");
  EXPECT_EQ(weights(), "legacy=100 modern=0 ");
}

TEST_F(RunExecute, ARunKilledMidWayIsFinishedByTheSameCommand) {
  start_shop();
  start_load();
  const std::string plan =
      write_plan("steps:\n  - clone: shop-db\n  - follow: shop-db\n  - verify: shop-db\n" +
                 cutover_step() + "  - verify: shop-db\n");
  // SIGKILL at a random moment, printed so that a failure can be replayed.
  const unsigned seed = std::random_device{}();
  std::mt19937 random(seed);
  const auto kill_after = std::chrono::milliseconds(500 + random() % 6000);
  SCOPED_TRACE("seed " + std::to_string(seed) + ": SIGKILL after " +
               std::to_string(kill_after.count()) + " ms");
  std::cerr << "RunExecute.ARunKilledMidWay: seed " << seed << ", SIGKILL after "
            << kill_after.count() << " ms\n";
  auto run = start_run(plan);
  std::this_thread::sleep_for(kill_after);
  run->kill_now();
  (void)run->wait();
  Outcome r = pgtest::run_ferry({"run", plan}, env());
  const ferry::YamlNode load = stop_load();
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(pgtest::field(status(plan), "state"), "done");
  EXPECT_EQ(read_only(source()), "on");
  EXPECT_EQ(weights(), "legacy=0 modern=100 ");
  // The data is whole: the last verify compared every row, and once the
  // users stopped and the reverse stream caught up, tests/pg_equal.sh (no
  // ferry code) finds the two databases equal. Sequences are not streamed:
  // the source's takes the target's value, as a rollback would set it.
  EXPECT_NE(step_field(plan, 5, "detail").find("every row equal"), std::string::npos);
  EXPECT_EQ(pgtest::field(load, "failed"), "0") << load_output_;
  const std::string sums =
      "SELECT (SELECT count(*) || '/' || coalesce(sum(visits), 0) FROM customers) || ' ' || "
      "(SELECT count(*) || '/' || coalesce(sum(price), 0) FROM orders)";
  EXPECT_TRUE(
      proxytest::eventually([&] { return psql(source(), sums) == psql(target(), sums); }, 30s));
  psql(source(), "BEGIN READ WRITE; SELECT setval('orders_id_seq', " +
                     psql(target(), "SELECT last_value FROM orders_id_seq") + ", true); COMMIT");
  Outcome equal = pgtest::pg_equal(source(), target());
  EXPECT_EQ(equal.status, 0) << equal.out << equal.err;
}

}  // namespace
