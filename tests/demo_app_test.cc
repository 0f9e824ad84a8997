// The demo's sample service and load generator (examples/demo/shop_app.py,
// load.py) against a real PostgreSQL database of the CTest fixture "pg": the
// schema and seed, the API, a load without a failed request and with every
// order written once, a database made read-only (writes answer 503 with
// Retry-After, reads go on), sessions ended under load, and a faulty version
// whose failures the load generator counts.
#include "demo_harness.h"
#include "pg_harness.h"
#include "proxy_harness.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ferry_test::Child;
using ferry_test::Env;
using ferry_test::Outcome;
using pgtest::has;
using pgtest::psql;
using proxytest::body_of;
using proxytest::header_of;
using proxytest::status_of;

using demotest::demo_file;
using demotest::kPython;

long long number(const std::string& text) { return std::stoll(text.empty() ? "-1" : text); }

class DemoApp : public pgtest::PgTest {
 protected:
  // The test's (empty) database, with the app's URI: the password role, so
  // that a printed password would show.
  void make_database() {
    make_source(false);
    const std::string host_port = source().substr(source().find('@') + 1);
    db_ = "postgresql://ferry_pw:secret@" + host_port;
  }

  Outcome seed(int customers) {
    return ferry_test::run({kPython, demo_file("shop_app.py"), "--seed", std::to_string(customers)},
                           {{"SHOP_DB", db_}});
  }

  // shop_app.py serving the test's database on a free port.
  std::unique_ptr<Child> start_app(const std::string& version, Env env = {}) {
    port_ = proxytest::free_port();
    env.emplace_back("SHOP_DB", db_);
    auto app = std::make_unique<Child>(
        std::vector<std::string>{kPython, demo_file("shop_app.py"), "--port", std::to_string(port_),
                                 "--version", version},
        ferry_test::output_prefix(), env);
    if (!proxytest::wait_for_port(port_)) ADD_FAILURE() << "shop_app did not start:\n" << stop(app);
    return app;
  }

  // SIGTERM, and what it printed (stderr); the app must end cleanly without
  // ever printing the password.
  std::string stop(std::unique_ptr<Child>& app) {
    app->signal(SIGTERM);
    Outcome r = app->wait();
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_FALSE(has(r.out + r.err, "secret")) << r.err;
    return r.err;
  }

  std::vector<std::string> load_argv(int users, const std::string& seconds) {
    summary_file_ = ferry_test::scratch_dir() / ("summary_" + std::to_string(port_) + ".json");
    return {kPython,      demo_file("load.py"),
            "--url",      url(),
            "--users",    std::to_string(users),
            "--duration", seconds,
            "--think-ms", "20",
            "--summary",  summary_file_.string()};
  }

  // load.py's summary of its last run.
  ferry::YamlNode summary() const { return pgtest::parse_json(ferry_test::slurp(summary_file_)); }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::string request(const std::string& method, const std::string& path,
                      const std::string& body = "") const {
    return proxytest::round_trip(
        port_, method + " " + path + " HTTP/1.1\r\nHost: shop\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  }
  std::string order(const std::string& customer) const {
    return request("POST", "/api/customers/" + customer + "/orders",
                   R"({"item": "tea", "price": 12.5})");
  }

  long long orders() const { return number(psql(source(), "SELECT count(*) FROM orders")); }

  // Ends the app's database sessions (as a cutover or a restart would).
  void end_app_sessions() const {
    psql(source_server_,
         "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '" + name_ +
             "' AND application_name = 'shop_app'");
  }

  std::string db_;
  int port_ = 0;
  fs::path summary_file_;
};

TEST_F(DemoApp, SeedsServesAndCarriesALoadWithoutAFailedRequest) {
  make_database();
  Outcome seeded = seed(2000);
  ASSERT_EQ(seeded.status, 0) << seeded.err;
  EXPECT_TRUE(has(seeded.out, "ferry_pw:***@")) << seeded.out;
  EXPECT_FALSE(has(seeded.out + seeded.err, "secret")) << seeded.out;
  EXPECT_EQ(psql(source(), "SELECT count(*) FROM customers"), "2000");
  const long long seeded_orders = orders();
  EXPECT_GE(seeded_orders, 2000);
  EXPECT_LE(seeded_orders, 10000);
  // Again: nothing added. Both tables have the primary key clone and follow need.
  ASSERT_EQ(seed(2000).status, 0);
  EXPECT_EQ(orders(), seeded_orders);
  EXPECT_EQ(psql(source(),
                 "SELECT count(*) FROM pg_constraint WHERE contype = 'p' AND "
                 "conrelid IN ('customers'::regclass, 'orders'::regclass)"),
            "2");

  auto app = start_app("legacy");
  std::string r = request("GET", "/api/customers/c7");
  EXPECT_EQ(status_of(r), 200) << r;
  EXPECT_EQ(header_of(r, "Content-Type"), "application/json");
  EXPECT_EQ(header_of(r, "X-Served-By"), "legacy");
  EXPECT_TRUE(has(body_of(r), R"("id": "c7")")) << r;
  EXPECT_TRUE(has(body_of(r), R"("served_by": "legacy")")) << r;
  EXPECT_TRUE(has(body_of(r), R"("orders": [{"id": )")) << r;
  // A customer exists from its first order on.
  r = request("GET", "/api/customers/newcomer");
  EXPECT_EQ(status_of(r), 404) << r;
  EXPECT_EQ(header_of(r, "Content-Type"), "application/json");
  r = order("newcomer");
  EXPECT_EQ(status_of(r), 201) << r;
  EXPECT_TRUE(has(body_of(r), R"("price": 12.5)")) << r;
  EXPECT_TRUE(has(body_of(r), R"("visits": 1)")) << r;
  r = request("GET", "/api/customers/newcomer");
  EXPECT_EQ(status_of(r), 200) << r;
  EXPECT_TRUE(has(body_of(r), R"("item": "tea")")) << r;
  r = request("POST", "/api/customers/newcomer/orders", R"({"item": "tea"})");
  EXPECT_EQ(status_of(r), 400) << r;
  EXPECT_TRUE(has(body_of(r), "price")) << r;
  r = request("GET", "/health");
  EXPECT_EQ(status_of(r), 200) << r;
  EXPECT_TRUE(has(body_of(r), R"("read_only": false)")) << r;

  const long long before = orders();
  Outcome load = ferry_test::run(load_argv(8, "3"));
  EXPECT_EQ(load.status, 0) << load.out << load.err;
  const ferry::YamlNode s = summary();
  const long long requests = number(pgtest::field(s, "requests"));
  EXPECT_GT(requests, 50) << load.out;
  EXPECT_EQ(pgtest::field(s, "failed"), "0") << load.out;
  EXPECT_EQ(pgtest::field(*s.find("by_backend"), "legacy"), std::to_string(requests));
  EXPECT_EQ(pgtest::field(s, "stopped_by"), "duration");
  // Every order the load was told about is in the database, once.
  const long long created = number(pgtest::field(s, "orders_created"));
  EXPECT_GT(created, 0) << load.out;
  EXPECT_EQ(orders(), before + created);
  stop(app);
}

TEST_F(DemoApp, WritesOnAReadOnlyDatabaseAnswer503WithRetryAfterWhileReadsGoOn) {
  make_database();
  ASSERT_EQ(seed(100).status, 0);
  auto app = start_app("legacy");
  ASSERT_EQ(status_of(order("c1")), 201);
  const long long before = orders();

  // What a cutover does to its source: read-only for new sessions, the
  // current ones ended. The app reconnects by itself: its next request works.
  psql(source(), "ALTER DATABASE " + name_ + " SET default_transaction_read_only = on");
  end_app_sessions();
  std::string r = order("c1");
  EXPECT_EQ(status_of(r), 503) << r;
  EXPECT_EQ(header_of(r, "Retry-After"), "1") << r;
  EXPECT_TRUE(has(body_of(r), "read-only")) << r;
  r = request("GET", "/api/customers/c1");
  EXPECT_EQ(status_of(r), 200) << r;
  r = request("GET", "/health");
  EXPECT_EQ(status_of(r), 200) << r;
  EXPECT_TRUE(has(body_of(r), R"("read_only": true)")) << r;
  EXPECT_EQ(orders(), before);

  // And back (from another database: a session on this one is read-only now).
  psql(source_server_, "ALTER DATABASE " + name_ + " RESET default_transaction_read_only");
  end_app_sessions();
  r = order("c1");
  EXPECT_EQ(status_of(r), 201) << r;
  EXPECT_EQ(orders(), before + 1);
  EXPECT_TRUE(has(body_of(request("GET", "/health")), R"("read_only": false)"));
  stop(app);
}

TEST_F(DemoApp, SessionsEndedUnderLoadCostNoRequestAndNoOrderTwice) {
  make_database();
  ASSERT_EQ(seed(100).status, 0);
  auto app = start_app("legacy");
  const long long before = orders();
  // Half writes, so that sessions are often ended mid-transaction or in COMMIT.
  std::vector<std::string> argv = load_argv(10, "0");
  argv.insert(argv.end(), {"--write-share", "0.5"});
  Child load(argv, ferry_test::output_prefix());
  ASSERT_TRUE(proxytest::eventually(
      [&] { return number(psql(source(), "SELECT count(*) FROM orders")) > before + 20; }, 10s));
  for (int i = 0; i < 15; ++i) {
    end_app_sessions();
    std::this_thread::sleep_for(150ms);
  }
  std::this_thread::sleep_for(500ms);  // and it goes on afterwards
  load.signal(SIGTERM);
  Outcome r = load.wait();
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  const ferry::YamlNode s = summary();
  EXPECT_EQ(pgtest::field(s, "failed"), "0") << r.out;
  EXPECT_EQ(pgtest::field(s, "stopped_by"), "SIGTERM");
  EXPECT_EQ(orders(), before + number(pgtest::field(s, "orders_created"))) << r.out;
  stop(app);
}

// A connection lost in COMMIT: the app learns what became of the transaction
// (txid_status) instead of guessing. Committed: the order stands, answered
// 201, not written again. Rolled back: it is placed again, once.
TEST_F(DemoApp, ACommitCutOffIsLookedUpNotRepeated) {
  make_database();
  ASSERT_EQ(seed(10).status, 0);
  // The app reaches the database through a relay that cuts one COMMIT on demand.
  const std::string server = source_server_.substr(0, source_server_.rfind('/'));
  const std::string server_port = server.substr(server.rfind(':') + 1);
  const int relay_port = proxytest::free_port();
  const fs::path arm = ferry_test::scratch_dir() / "cut_commit";
  Child relay({"python3", std::string(FERRY_SOURCE_DIR) + "/tests/pg_cut_commit.py",
               std::to_string(relay_port), server_port, arm.string()},
              ferry_test::output_prefix());
  ASSERT_TRUE(proxytest::wait_for_port(relay_port));
  db_ = "postgresql://ferry_pw:secret@127.0.0.1:" + std::to_string(relay_port) + "/" + name_;
  auto app = start_app("legacy");
  ASSERT_EQ(status_of(request("GET", "/api/customers/c1")), 200);

  for (const char* when : {"after", "before"}) {
    const long long before = orders();
    std::ofstream(arm) << when;
    const std::string r = order("c1");
    EXPECT_FALSE(fs::exists(arm)) << when << ": no COMMIT was cut";
    EXPECT_EQ(status_of(r), 201) << when << ": " << r;
    EXPECT_EQ(orders(), before + 1) << when;
  }
  stop(app);
}

TEST_F(DemoApp, TheLoadGeneratorCountsEveryFailureOfAFaultyVersion) {
  make_database();
  ASSERT_EQ(seed(100).status, 0);
  auto app = start_app("modern", {{"SHOP_FAULTS", "error_rate=1"}});
  std::string r = request("GET", "/api/customers/c1");
  EXPECT_EQ(status_of(r), 500) << r;
  EXPECT_EQ(header_of(r, "X-Served-By"), "modern");
  EXPECT_TRUE(has(body_of(r), "injected fault")) << r;
  // The health check is exempt: it is the rollout's analysis that must notice.
  EXPECT_EQ(status_of(request("GET", "/health")), 200);

  Outcome load = ferry_test::run(load_argv(4, "2"));
  EXPECT_EQ(load.status, 1) << load.out << load.err;
  const ferry::YamlNode s = summary();
  const std::string requests = pgtest::field(s, "requests");
  EXPECT_GT(number(requests), 0);
  EXPECT_EQ(pgtest::field(s, "failed"), requests);
  EXPECT_EQ(pgtest::field(*s.find("by_backend"), "modern"), requests);
  const ferry::YamlNode& failures = *s.find("failures");
  EXPECT_EQ(failures.size(), static_cast<size_t>(std::min(20LL, number(requests))));
  for (size_t i = 0; i < failures.size(); ++i)
    EXPECT_EQ(pgtest::field(failures[i], "status"), "500");
  stop(app);

  // Slow: every request takes the latency asked for.
  app = start_app("modern", {{"SHOP_FAULTS", "slow_ms=300"}});
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(status_of(request("GET", "/api/customers/c1")), 200);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 300ms);
  stop(app);

  // A mistyped switch is refused, naming it.
  Outcome bad = ferry_test::run(
      {kPython, demo_file("shop_app.py"), "--port", std::to_string(proxytest::free_port())},
      {{"SHOP_DB", db_}, {"SHOP_FAULTS", "eror_rate=0.5"}});
  EXPECT_EQ(bad.status, 2);
  EXPECT_TRUE(has(bad.err, "SHOP_FAULTS: unknown fault 'eror_rate'")) << bad.err;

  // Nobody listening: every request fails, with no status.
  port_ = proxytest::free_port();
  load = ferry_test::run(load_argv(2, "1"));
  EXPECT_EQ(load.status, 1) << load.out;
  const ferry::YamlNode refused = summary();
  ASSERT_GT(refused.find("failures")->size(), 0u);
  EXPECT_EQ(pgtest::field((*refused.find("failures"))[0], "status"), "0");
}

}  // namespace
