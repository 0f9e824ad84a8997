// ferry db follow, cutover and rollback on real servers, under a concurrent
// pgbench write load (tests/data/follow_load.pgbench: inserts, updates that
// do and do not change TOASTed values, deletes, truncates, a table without a
// key, multi-statement and rolled-back transactions). Equality is proved by
// tests/pg_equal.sh, which shares no code with ferry.
#include <random>
#include <set>

#include "pg_harness.h"

namespace {

using namespace pgtest;

class FollowTest : public PgTest {
 protected:
  // The fixture plus a keyless table replicated with REPLICA IDENTITY FULL,
  // cloned with this test's slot.
  void clone() {
    make_source();
    make_target();
    psql(source(),
         "CREATE TABLE public.keyless_log (note text, n integer); "
         "ALTER TABLE public.keyless_log REPLICA IDENTITY FULL; "
         "INSERT INTO public.keyless_log SELECT 'seed', i % 5 FROM generate_series(1, 50) i");
    Outcome r = run_ferry({"db", "clone", "--source", source(), "--target", target(), "--dir",
                           dir_.string(), "--slot", slot_});
    ASSERT_EQ(r.status, 0) << r.err;
  }

  std::unique_ptr<Child> start_follow(const std::vector<std::string>& extra = {}, int jobs = 4) {
    std::vector<std::string> args{
        "db",          "follow", "--source",    source(),       "--target",
        target(),      "--dir",  dir_.string(), "--apply-jobs", std::to_string(jobs),
        "--retry-for", "60"};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<Child>(ferry_argv(args), output_prefix());
  }

  std::unique_ptr<Child> start_load(int clients, int seconds) {
    return std::make_unique<Child>(
        std::vector<std::string>{
            "pgbench", "-n", "-c", std::to_string(clients), "-T", std::to_string(seconds), "-f",
            std::string(FERRY_SOURCE_DIR) + "/tests/data/follow_load.pgbench", source()},
        output_prefix());
  }

  // Waits until the slot has confirmed a marker written now: everything
  // committed on the source before it is on the target.
  void wait_caught_up(const std::string& server_db, const std::string& slot) {
    const std::string marker =
        psql(server_db, "SELECT pg_logical_emit_message(false, 'ferry-test', 'sync')");
    for (int i = 0; i < 600; ++i) {
      if (psql(server_db, "SELECT confirmed_flush_lsn >= '" + marker +
                              "'::pg_lsn FROM pg_replication_slots WHERE slot_name = '" + slot +
                              "'") == "t")
        return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL() << "the follow did not reach " << marker << " within 60 s";
  }

  // Until ferry db status says the follow has caught up.
  void wait_following(bool reverse = false) {
    std::vector<std::string> args{"db", "status", "--dir", dir_.string(), "--format", "json"};
    if (reverse) args.push_back("--reverse");
    for (int i = 0; i < 300; ++i) {
      Outcome s = run_ferry(args);
      if (s.status == 0 && field(parse_json(s.out), "state") == "following") return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL() << "the follow did not report 'following' within 30 s";
  }

  // ferry db clone --resync --tables TABLES, with this test's servers and directory.
  Outcome resync(const std::string& tables, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"db",     "clone",    "--resync",   "--tables",
                                  tables,   "--source", source(),     "--target",
                                  target(), "--dir",    dir_.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_ferry(args);
  }

  // SIGTERM: follow applies what it holds and exits 0.
  void stop(std::unique_ptr<Child>& follow) {
    follow->signal(SIGTERM);
    EXPECT_EQ(follow->wait().status, 0);
  }

  // pg_equal.sh over everything; sequences are only set by a cutover, so a
  // follow on its own is compared after setting them like one would.
  void expect_equal() {
    Outcome eq = pg_equal(source(), target());
    EXPECT_EQ(eq.status, 0) << eq.out << eq.err;
  }
};

TEST_F(FollowTest, CloneFollowCutoverRollbackUnderLoad) {
  clone();
  auto follow = start_follow({"--metrics-addr", "127.0.0.1:0"});
  auto load = start_load(4, 6);
  std::this_thread::sleep_for(std::chrono::seconds(3));

  // The status is live while the load runs.
  Outcome status = run_ferry({"db", "status", "--dir", dir_.string(), "--format", "json"});
  EXPECT_EQ(status.status, 0) << status.out << status.err;
  const auto doc = parse_json(status.out);
  EXPECT_EQ(field(doc, "running"), "true");
  EXPECT_EQ(field(doc, "direction"), "forward");
  // Prometheus scrapes the same numbers.
  const std::string metrics_url = field(doc, "metrics_url");
  ASSERT_TRUE(metrics_url.starts_with("http://127.0.0.1:")) << status.out;
  Outcome scraped = run({"curl", "-s", "--noproxy", "*", "--max-time", "5", metrics_url});
  EXPECT_EQ(scraped.status, 0) << scraped.err;
  EXPECT_TRUE(has(scraped.out, "ferry_follow_transactions_total{direction=\"forward\""))
      << scraped.out;
  EXPECT_TRUE(has(scraped.out, "ferry_follow_lag_seconds")) << scraped.out;
  Outcome elsewhere = run({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--noproxy", "*",
                           "--max-time", "5", metrics_url.substr(0, metrics_url.rfind('/'))});
  EXPECT_EQ(elsewhere.out, "404");
  // Probes on the same listener: alive, and ready (streaming, lag known).
  const std::string base = metrics_url.substr(0, metrics_url.rfind('/'));
  Outcome ready = run({"curl", "-s", "-w", "\n%{http_code}", "--noproxy", "*", "--max-time", "5",
                       base + "/readyz"});
  EXPECT_TRUE(ready.out.ends_with("\n200")) << ready.out;
  EXPECT_TRUE(has(ready.out, "\"ready\": true")) << ready.out;

  // A cutover whose switch fails puts everything back: the source takes
  // writes, the reverse slot is gone, the follow carries on.
  Outcome failed = run_ferry({"db", "cutover", "--source", source(), "--target", target(), "--dir",
                              dir_.string(), "--reverse", "--grace", "0.2", "--then", "exit 3"});
  EXPECT_EQ(failed.status, 1) << failed.out << failed.err;
  EXPECT_TRUE(has(failed.out, "restored")) << failed.out;
  EXPECT_TRUE(has(failed.err, "--then exited with status 3")) << failed.err;
  psql(source(),
       "INSERT INTO public.tenant_notes (tenant, note) VALUES ('x', 'after a failed cutover')");
  EXPECT_EQ(psql(target(), "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot_ +
                               "_reverse'"),
            "0");
  EXPECT_FALSE(follow->exited());
  // It ended the load's sessions too: a new load for the real cutover.
  (void)load->wait();
  load = start_load(4, 6);
  std::this_thread::sleep_for(std::chrono::seconds(2));

  // Cutover in the middle of the load: the source turns read-only, the
  // clients' sessions are ended, and the rest drains.
  Outcome cut = run_ferry({"db", "cutover", "--source", source(), "--target", target(), "--dir",
                           dir_.string(), "--reverse", "--grace", "1", "--final-verify", "full",
                           "--then", "echo switched to $FERRY_WRITABLE", "--format", "json"});
  ASSERT_EQ(cut.status, 0) << cut.out << cut.err;
  EXPECT_TRUE(has(cut.err, "switched to ")) << cut.err;
  const auto report = parse_json(cut.out);
  EXPECT_EQ(field(report, "switched"), "true");
  // The reverse follow got its connection strings through the environment:
  // nothing of them on its command line, where `ps` shows it.
  const std::string cmdline =
      slurp(fs::path("/proc") / field(report, "reverse_follow_pid") / "cmdline");
  EXPECT_TRUE(has(cmdline, "follow")) << cmdline;
  EXPECT_FALSE(has(cmdline, "--source") || has(cmdline, "postgres")) << cmdline;
  // For the record (docs/benchmarks.md), not asserted: machines are noisy.
  std::cout << "cutover under the test load: write-unavailable "
            << field(report, "write_unavailable_seconds") << " s\n";
  (void)load->wait();  // its sessions were ended: it fails, as an application would

  Outcome followed = follow->wait();
  EXPECT_EQ(followed.status, 0) << followed.err;
  EXPECT_TRUE(has(followed.err, "the cutover switched")) << followed.err;
  EXPECT_TRUE(has(followed.out, "transactions")) << followed.out;
  expect_equal();

  // The source refuses writes; the target takes them with default ids.
  Outcome refused = run({"psql", "-X", "-q", "-d", source(), "-c",
                         "INSERT INTO public.tenant_notes (tenant, note) VALUES ('x', 'y')"});
  EXPECT_NE(refused.status, 0);
  EXPECT_TRUE(has(refused.err, "read-only")) << refused.err;
  psql(target(),
       "INSERT INTO public.big_events (occurred_at, kind) SELECT now(), 'after cutover' FROM "
       "generate_series(1, 100); "
       "INSERT INTO public.tenant_notes (tenant, note) VALUES ('t', 'after cutover'); "
       "INSERT INTO public.keyless_log VALUES ('after cutover', 9); "
       "UPDATE public.wide_toast SET blob = NULL WHERE id = 3; "
       "DELETE FROM public.big_events WHERE id = 5");

  // The reverse stream carries those writes to the source; rollback moves
  // writes back there.
  wait_caught_up(target(), slot_ + "_reverse");
  Outcome back = run_ferry({"db", "rollback", "--source", source(), "--target", target(), "--dir",
                            dir_.string(), "--grace", "1"});
  ASSERT_EQ(back.status, 0) << back.out << back.err;
  EXPECT_EQ(psql(source(), "SELECT count(*) FROM public.big_events WHERE kind = 'after cutover'"),
            "100");
  expect_equal();
  psql(source(), "INSERT INTO public.tenant_notes (tenant, note) VALUES ('t', 'after rollback')");
  Outcome refused_target =
      run({"psql", "-X", "-q", "-d", target(), "-c",
           "INSERT INTO public.tenant_notes (tenant, note) VALUES ('x', 'y')"});
  EXPECT_NE(refused_target.status, 0);
  // The reverse follow ended itself at the rollback's switch.
  Outcome reverse_status =
      run_ferry({"db", "status", "--dir", dir_.string(), "--reverse", "--format", "json"});
  for (int i = 0; i < 50 && has(reverse_status.out, "\"running\": true"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    reverse_status =
        run_ferry({"db", "status", "--dir", dir_.string(), "--reverse", "--format", "json"});
  }
  EXPECT_EQ(reverse_status.status, 1) << reverse_status.out;
  EXPECT_EQ(field(parse_json(reverse_status.out), "state"), "switched");
}

TEST_F(FollowTest, KilledAtRandomUnderLoadLosesAndDoublesNothing) {
  clone();
  auto load = start_load(4, 10);
  std::mt19937 rng(random_seed());
  std::uniform_int_distribution<int> ms(300, 1500);
  int killed = 0;
  while (!load->exited()) {
    auto follow = start_follow({}, 1 + killed % 4);
    std::this_thread::sleep_for(std::chrono::milliseconds(ms(rng)));
    if (killed == 2) {
      // The target side's apply connections die mid-transaction: follow
      // reconnects by itself and carries on.
      psql(with_db(target(), "postgres"),
           "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name_ +
               "' AND application_name = 'ferry apply'");
      std::this_thread::sleep_for(std::chrono::milliseconds(ms(rng)));
      EXPECT_FALSE(follow->exited()) << follow->wait().err;
    }
    follow->kill_now();
    (void)follow->wait();
    ++killed;
  }
  auto follow = start_follow();
  wait_caught_up(source(), slot_);
  follow->signal(SIGTERM);
  Outcome stopped = follow->wait();
  EXPECT_EQ(stopped.status, 0) << stopped.err;
  EXPECT_GE(killed, 3);
  // Sequences are the cutover's job; set them as it would, then compare all.
  Outcome cut = run_ferry({"db", "cutover", "--source", source(), "--target", target(), "--dir",
                           dir_.string(), "--final-verify", "full"});
  EXPECT_NE(cut.status, 0) << "cutover without a running follow must refuse";
  EXPECT_TRUE(has(cut.err, "not running")) << cut.err;
  auto again = start_follow();
  wait_following();
  Outcome cut2 = run_ferry({"db", "cutover", "--source", source(), "--target", target(), "--dir",
                            dir_.string(), "--final-verify", "full"});
  EXPECT_EQ(cut2.status, 0) << cut2.out << cut2.err;
  EXPECT_EQ(again->wait().status, 0);
  expect_equal();
}

TEST_F(FollowTest, SchemaChangesAreAppliedOrExplained) {
  clone();
  auto follow = start_follow();
  // A constant default: rows that existed hold it, on both sides.
  psql(source(), "ALTER TABLE public.tenant_notes ADD COLUMN priority integer DEFAULT 3");
  psql(source(), "INSERT INTO public.tenant_notes (tenant, note, priority) VALUES ('a', 'b', 7)");
  // No default: existing rows hold NULL.
  psql(source(), "ALTER TABLE public.\"line items\" ADD COLUMN extra text");
  psql(source(), "INSERT INTO public.\"line items\" VALUES (100, 'new', 'x')");
  wait_caught_up(source(), slot_);
  EXPECT_EQ(psql(target(),
                 "SELECT count(*) FILTER (WHERE priority = 3), count(*) FILTER (WHERE "
                 "priority = 7) FROM public.tenant_notes"),
            psql(source(),
                 "SELECT count(*) FILTER (WHERE priority = 3), count(*) FILTER (WHERE "
                 "priority = 7) FROM public.tenant_notes"));
  EXPECT_EQ(psql(target(), "SELECT extra FROM public.\"line items\" WHERE \"Line ID\" = 100"), "x");
  EXPECT_EQ(psql(target(),
                 "SELECT column_default FROM information_schema.columns WHERE "
                 "table_name = 'tenant_notes' AND column_name = 'priority'"),
            "3");

  // A volatile default rewrote every row with values the target cannot know:
  // follow stops and says what to do.
  psql(source(),
       "ALTER TABLE public.tenant_notes ADD COLUMN stamp timestamptz DEFAULT clock_timestamp()");
  psql(source(), "INSERT INTO public.tenant_notes (tenant, note) VALUES ('c', 'd')");
  Outcome stopped = follow->wait();
  EXPECT_EQ(stopped.status, 3) << stopped.err;
  EXPECT_TRUE(has(stopped.err, "\"stamp\"")) << stopped.err;
  EXPECT_TRUE(has(stopped.err, "run follow again")) << stopped.err;
  Outcome status = run_ferry({"db", "status", "--dir", dir_.string(), "--format", "json"});
  EXPECT_EQ(status.status, 1);
  EXPECT_EQ(field(parse_json(status.out), "state"), "failed");
}

TEST_F(FollowTest, DivergedTargetStopsFollowNamingTheRow) {
  clone();
  // Someone deleted a row on the target: the source's update cannot apply.
  psql(target(), "DELETE FROM public.tenant_notes WHERE id = 2");
  psql(source(), "UPDATE public.tenant_notes SET note = 'changed' WHERE id = 2");
  auto follow = start_follow();
  Outcome stopped = follow->wait();
  EXPECT_EQ(stopped.status, 5) << stopped.err;
  EXPECT_TRUE(has(stopped.err, "not on the target: table public.tenant_notes, \"id\"=2"))
      << stopped.err;
  // Nothing was confirmed past it: fixed by hand, a new follow applies it.
  psql(target(),
       "INSERT INTO public.tenant_notes SELECT 2, tenant, note FROM "
       "public.tenant_notes WHERE id = 1");
  auto again = start_follow();
  wait_caught_up(source(), slot_);
  again->signal(SIGTERM);
  EXPECT_EQ(again->wait().status, 0);
  EXPECT_EQ(psql(target(), "SELECT note FROM public.tenant_notes WHERE id = 2"), "changed");
}

TEST_F(FollowTest, SourceRestartIsRidden) {
  // The source server here is this test's own: it is restarted mid-stream.
  const fs::path server = fs::temp_directory_path() / ("ferry_src_" + name_.substr(0, 20));
  Outcome started =
      run({std::string(FERRY_SOURCE_DIR) + "/scripts/pg-throwaway", "start", server.string()});
  ASSERT_EQ(started.status, 0) << started.err;
  const std::string own = trim(started.out);
  struct StopServer {
    fs::path dir;
    ~StopServer() {
      (void)run({std::string(FERRY_SOURCE_DIR) + "/scripts/pg-throwaway", "stop", dir.string()});
    }
  } stop_server{server};
  psql(own,
       "CREATE TABLE public.accounts (id bigserial PRIMARY KEY, balance numeric, "
       "note text); INSERT INTO public.accounts (balance, note) SELECT i, 'seed' FROM "
       "generate_series(1, 1000) i");
  make_target();
  Outcome cloned = run_ferry({"db", "clone", "--source", own, "--target", target(), "--dir",
                              dir_.string(), "--slot", slot_});
  ASSERT_EQ(cloned.status, 0) << cloned.err;
  auto follow =
      std::make_unique<Child>(ferry_argv({"db", "follow", "--source", own, "--target", target(),
                                          "--dir", dir_.string(), "--retry-for", "60"}),
                              output_prefix());
  psql(own, "UPDATE public.accounts SET balance = balance + 1 WHERE id % 3 = 0");
  Outcome restarted =
      run({std::string(FERRY_SOURCE_DIR) + "/scripts/pg-throwaway", "restart", server.string()});
  ASSERT_EQ(restarted.status, 0) << restarted.err;
  psql(own,
       "INSERT INTO public.accounts (balance, note) SELECT i, 'after restart' FROM "
       "generate_series(1, 500) i; DELETE FROM public.accounts WHERE id % 7 = 0");
  wait_caught_up(own, slot_);
  EXPECT_FALSE(follow->exited());
  follow->signal(SIGTERM);
  Outcome stopped = follow->wait();
  EXPECT_EQ(stopped.status, 0) << stopped.err;
  EXPECT_TRUE(has(stopped.err, "reconnecting")) << stopped.err;
  EXPECT_TRUE(has(stopped.out, "reconnects")) << stopped.out;
  psql(target(),
       "SELECT setval('public.accounts_id_seq', (SELECT last_value FROM "
       "public.accounts_id_seq))");
  Outcome rows = run({std::string(FERRY_SOURCE_DIR) + "/tests/pg_equal.sh", own, target()});
  EXPECT_TRUE(rows.status == 0 || !has(rows.out, "table public.accounts")) << rows.out;
  EXPECT_FALSE(has(rows.out, "table public.accounts")) << rows.out;
}

// Tables without a key, as pgbench -i makes them (pgbench_history) and as
// audit logs are: their inserts are carried through cutover, an UPDATE on one
// is reported within seconds and refuses the cutover, and a resync under load
// makes it equal again. Follow is killed with -9 under load on the way, and
// the cutover is started one second after a follow starts.
TEST_F(FollowTest, KeylessTablesAreCarriedReportedAndResynced) {
  make_source(/*with_fixture=*/false);
  make_target();
  Outcome init = run({"pgbench", "-i", "-q", "-s", "1", source()});
  ASSERT_EQ(init.status, 0) << init.err;
  psql(source(),
       "CREATE TABLE public.audit_events (at timestamptz, what text); "
       "CREATE TABLE public.mutable_notes (k integer, v text); "
       "INSERT INTO public.mutable_notes SELECT i, 'seed' FROM generate_series(1, 100) i");
  Outcome cloned = run_ferry({"db", "clone", "--source", source(), "--target", target(), "--dir",
                              dir_.string(), "--slot", slot_, "--format", "json"});
  ASSERT_EQ(cloned.status, 0) << cloned.err;
  const auto summary = parse_json(cloned.out);
  const ferry::YamlNode* insert_only = summary.find("insert_only_tables");
  ASSERT_TRUE(insert_only && insert_only->size() == 3) << cloned.out;
  std::set<std::string> keyless;
  for (size_t i = 0; i < insert_only->size(); ++i) keyless.insert((*insert_only)[i].scalar());
  EXPECT_EQ(keyless, (std::set<std::string>{"public.audit_events", "public.mutable_notes",
                                            "public.pgbench_history"}));

  const std::string load_args = std::string(FERRY_SOURCE_DIR) + "/tests/data/keyless_load.pgbench";
  auto start_pgbench = [&](int seconds) {
    return std::make_unique<Child>(
        std::vector<std::string>{"pgbench", "-n", "-c", "4", "-T", std::to_string(seconds), "-b",
                                 "tpcb-like", "-f", load_args, source()},
        output_prefix());
  };
  auto status_json = [&] {
    return run_ferry({"db", "status", "--dir", dir_.string(), "--format", "json"});
  };

  // Killed with -9 under load, then started again: nothing lost.
  auto load = start_pgbench(12);
  auto follow = start_follow();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  follow->kill_now();
  (void)follow->wait();
  follow = start_follow({"--metrics-addr", "127.0.0.1:0"});
  wait_following();

  // An UPDATE on a keyless table cannot be carried: reported within seconds.
  psql(source(), "UPDATE public.mutable_notes SET v = 'changed' WHERE k = 7");
  Outcome status;
  for (int i = 0; i < 100; ++i) {
    status = status_json();
    if (has(status.out, "\"table\": \"public.mutable_notes\"")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(status.status, 1) << status.out << status.err;
  const auto reported = parse_json(status.out);
  const ferry::YamlNode* diverged = reported.find("diverged_tables");
  ASSERT_TRUE(diverged && diverged->size() == 1) << status.out;
  EXPECT_EQ(field((*diverged)[0], "table"), "public.mutable_notes");
  EXPECT_TRUE(has(field((*diverged)[0], "detail"), "1 row(s) updated or deleted")) << status.out;
  EXPECT_TRUE(has(status.err, "ferry db clone --resync --tables public.mutable_notes"))
      << status.err;
  EXPECT_EQ(field(reported, "running"), "true");
  const std::string metrics_url = field(reported, "metrics_url");
  Outcome scraped = run({"curl", "-s", "--noproxy", "*", "--max-time", "5", metrics_url});
  EXPECT_TRUE(has(scraped.out, "ferry_follow_table_diverged{direction=\"forward\",slot=\"" + slot_ +
                                   "\",table=\"public.mutable_notes\"} 1"))
      << scraped.out;

  // A cutover now refuses, names the table and changes nothing.
  Outcome refused = run_ferry({"db", "cutover", "--source", source(), "--target", target(), "--dir",
                               dir_.string(), "--grace", "0.2"});
  EXPECT_EQ(refused.status, 3) << refused.out << refused.err;
  EXPECT_TRUE(has(refused.err, "public.mutable_notes has diverged")) << refused.err;
  psql(source(), "INSERT INTO public.audit_events VALUES (now(), 'still writable')");

  // REPLICA IDENTITY FULL, then both keyless tables copied again under load
  // (pgbench_history is being inserted into all along).
  psql(source(), "ALTER TABLE public.mutable_notes REPLICA IDENTITY FULL");
  Outcome resynced_both = resync("public.mutable_notes,pgbench_history", {"--format", "json"});
  ASSERT_EQ(resynced_both.status, 0) << resynced_both.out << resynced_both.err;
  const auto resynced = parse_json(resynced_both.out);
  EXPECT_EQ(field(resynced, "state"), "done");
  EXPECT_EQ((*resynced.find("now_fully_carried"))[0].scalar(), "public.mutable_notes");
  // From now on its updates and deletes are carried.
  psql(source(),
       "UPDATE public.mutable_notes SET v = 'after resync' WHERE k < 10; "
       "DELETE FROM public.mutable_notes WHERE k = 50");
  (void)load->wait();
  wait_caught_up(source(), slot_);
  status = status_json();
  EXPECT_EQ(status.status, 0) << status.out << status.err;
  EXPECT_EQ(parse_json(status.out).find("diverged_tables")->size(), 0u) << status.out;
  expect_equal();

  // A new follow, a new load, and a cutover one second later: it waits for
  // the follow to catch up instead of refusing, and succeeds.
  stop(follow);
  load = start_pgbench(8);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  follow = start_follow();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  Outcome cut = run_ferry({"db", "cutover", "--source", source(), "--target", target(), "--dir",
                           dir_.string(), "--reverse", "--grace", "1"});
  ASSERT_EQ(cut.status, 0) << cut.out << cut.err;
  (void)load->wait();
  EXPECT_EQ(follow->wait().status, 0);
  expect_equal();

  // The way back carries the keyless tables' inserts too; a DELETE on one on
  // the target is reported by the reverse follow and refuses the rollback
  // until it is accepted (then its row counts are not compared).
  psql(target(),
       "INSERT INTO public.audit_events VALUES (now(), 'written on the target'); "
       "INSERT INTO public.pgbench_history (tid, bid, aid, delta, mtime) VALUES "
       "(1, 1, 1, 5, now()); "
       "DELETE FROM public.audit_events WHERE what = 'still writable'");
  wait_caught_up(target(), slot_ + "_reverse");
  Outcome reverse_status;
  for (int i = 0; i < 100; ++i) {
    reverse_status =
        run_ferry({"db", "status", "--dir", dir_.string(), "--reverse", "--format", "json"});
    if (has(reverse_status.out, "\"table\": \"public.audit_events\"")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(reverse_status.status, 1) << reverse_status.out;
  EXPECT_TRUE(has(reverse_status.err, "copy public.audit_events back from the target by hand"))
      << reverse_status.err;
  Outcome refused_back = run_ferry({"db", "rollback", "--source", source(), "--target", target(),
                                    "--dir", dir_.string(), "--grace", "1"});
  EXPECT_EQ(refused_back.status, 3) << refused_back.out << refused_back.err;
  EXPECT_TRUE(has(refused_back.err, "public.audit_events has diverged")) << refused_back.err;
  Outcome back = run_ferry({"db", "rollback", "--source", source(), "--target", target(), "--dir",
                            dir_.string(), "--grace", "1", "--allow-diverged", "--format", "json"});
  ASSERT_EQ(back.status, 0) << back.out << back.err;
  EXPECT_EQ((*parse_json(back.out).find("diverged_accepted"))[0].scalar(), "public.audit_events")
      << back.out;
  EXPECT_TRUE(has(back.err, "event=diverged_table_accepted table=public.audit_events")) << back.err;
  EXPECT_EQ(psql(source(),
                 "SELECT count(*) FROM public.audit_events WHERE what = 'written on "
                 "the target'"),
            "1");
  // The table copied back by hand, as the message says: then all is equal.
  psql(source(), "TRUNCATE public.audit_events");
  Outcome copied_back = sh("pg_dump --data-only -t public.audit_events -d '" + target() +
                           "' | psql -X -q -v ON_ERROR_STOP=1 -d '" + source() + "'");
  ASSERT_EQ(copied_back.status, 0) << copied_back.err;
  expect_equal();
}

// A cutover refuses when the follow does not catch up within
// --catch-up-timeout (its apply is blocked by a lock on the target), and
// says so; nothing changes on the source.
TEST_F(FollowTest, CutoverRefusesAFollowThatDoesNotCatchUpInTime) {
  clone();
  auto follow = start_follow();
  wait_following();
  auto blocker = std::make_unique<Child>(
      std::vector<std::string>{"psql", "-X", "-q", "-d", target(), "-c",
                               "BEGIN; LOCK TABLE public.tenant_notes; SELECT pg_sleep(8)"},
      output_prefix());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  for (int i = 0; i < 20; ++i) {
    psql(source(), "INSERT INTO public.tenant_notes (tenant, note) VALUES ('late', 'blocked')");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  Outcome cut = run_ferry({"db", "cutover", "--source", source(), "--target", target(), "--dir",
                           dir_.string(), "--max-lag", "0.5", "--catch-up-timeout", "2s"});
  EXPECT_EQ(cut.status, 3) << cut.out << cut.err;
  EXPECT_TRUE(has(cut.err, "waiting for the follow to catch up")) << cut.err;
  EXPECT_TRUE(has(cut.err, "did not catch up within --catch-up-timeout (2 s)")) << cut.err;
  psql(source(), "INSERT INTO public.tenant_notes (tenant, note) VALUES ('x', 'still writable')");
  (void)blocker->wait();
  stop(follow);
}

// Follow killed after a resync's copy committed but before the changes it
// held were applied: the request stays open, the resync command says so, and
// the next follow copies the table again; nothing is lost or doubled.
TEST_F(FollowTest, ResyncCutShortByAKillIsDoneAgainByTheNextFollow) {
  clone();
  auto load = start_load(4, 8);
  auto follow =
      std::make_unique<Child>(ferry_argv({"db", "follow", "--source", source(), "--target",
                                          target(), "--dir", dir_.string(), "--retry-for", "60"}),
                              output_prefix(), Env{{"FERRY_FAILPOINT", "follow.resync-copied"}});
  std::this_thread::sleep_for(std::chrono::seconds(1));
  // Not a table of this database, and a follow that runs: named, nothing asked.
  Outcome unknown = resync("public.nope,big_events");
  EXPECT_EQ(unknown.status, 3) << unknown.err;
  EXPECT_TRUE(has(unknown.err, "--tables public.nope: no such table on the source")) << unknown.err;
  Outcome cut_short = resync("big_events");
  EXPECT_EQ(cut_short.status, 5) << cut_short.out << cut_short.err;
  EXPECT_TRUE(has(cut_short.err, "the next ferry db follow copies the tables again"))
      << cut_short.err;
  EXPECT_EQ(follow->wait().status, 128 + SIGKILL);
  // Without a follow, a resync is refused.
  Outcome no_follow = resync("big_events");
  EXPECT_EQ(no_follow.status, 3) << no_follow.err;
  EXPECT_TRUE(has(no_follow.err, "ferry db follow is not running")) << no_follow.err;

  follow = start_follow();
  (void)load->wait();
  wait_caught_up(source(), slot_);
  for (int i = 0; i < 300; ++i) {
    Outcome s = run_ferry({"db", "status", "--dir", dir_.string(), "--format", "json"});
    if (field(parse_json(s.out), "resync").empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  wait_caught_up(source(), slot_);
  Outcome cut = run_ferry({"db", "cutover", "--source", source(), "--target", target(), "--dir",
                           dir_.string(), "--final-verify", "full"});
  EXPECT_EQ(cut.status, 0) << cut.out << cut.err;
  Outcome followed = follow->wait();
  EXPECT_TRUE(has(followed.err, "event=resync_done")) << followed.err;
  expect_equal();
}

// An UPDATE on a keyless table right before a cutover: follow's watch
// (every 2 s) may not have seen it yet, but the cutover looks again once the
// source's sessions have ended, and refuses: the source takes writes again.
TEST_F(FollowTest, AnUpdateJustBeforeTheCutoverIsCaught) {
  clone();
  auto follow = start_follow();
  wait_following();
  psql(source(),
       "UPDATE public.no_pk_dups SET a = a WHERE ctid = (SELECT min(ctid) FROM "
       "public.no_pk_dups)");
  Outcome cut = run_ferry({"db", "cutover", "--source", source(), "--target", target(), "--dir",
                           dir_.string(), "--grace", "0.2"});
  EXPECT_NE(cut.status, 0) << cut.out << cut.err;
  EXPECT_TRUE(has(cut.err, "public.no_pk_dups has diverged")) << cut.err;
  // Which look caught it depends on timing; for the record, not asserted.
  std::cout << "caught by "
            << (cut.status == 3 ? "the preflight" : "the look after the sessions ended") << "\n";
  psql(source(), "INSERT INTO public.tenant_notes (tenant, note) VALUES ('x', 'still writable')");
  EXPECT_FALSE(follow->exited());
  stop(follow);
}

// A table created on the source after the clone is in no publication; a
// resync adds it to the right one and copies it, and from then on its
// changes are carried.
TEST_F(FollowTest, ResyncBringsInATableCreatedAfterTheClone) {
  clone();
  auto follow = start_follow();
  wait_following();
  const std::string ddl = "CREATE TABLE public.late_orders (id integer PRIMARY KEY, note text)";
  psql(source(), ddl +
                     "; INSERT INTO public.late_orders SELECT i, 'before' FROM "
                     "generate_series(1, 500) i");
  psql(target(), ddl);
  Outcome brought_in = resync("late_orders");
  ASSERT_EQ(brought_in.status, 0) << brought_in.out << brought_in.err;
  EXPECT_EQ(psql(source(),
                 "SELECT count(*) FROM pg_publication_tables WHERE pubname = 'ferry' "
                 "AND tablename = 'late_orders'"),
            "1");
  psql(source(),
       "INSERT INTO public.late_orders VALUES (501, 'after'); UPDATE "
       "public.late_orders SET note = 'changed' WHERE id = 7; DELETE FROM "
       "public.late_orders WHERE id = 9");
  wait_caught_up(source(), slot_);
  EXPECT_EQ(psql(target(),
                 "SELECT count(*), count(*) FILTER (WHERE note = 'changed') FROM "
                 "public.late_orders"),
            "500|1");
  stop(follow);
}

// A resync whose copy fails (a CHECK on the target refuses a row) after it
// began to publish the table's updates: the table is put back to inserts
// only and reported diverged, and follow keeps running for everything else.
// Fixed, a second resync makes it equal.
TEST_F(FollowTest, AFailedResyncLeavesTheTableDivergedAndFollowRunning) {
  clone();
  auto follow = start_follow();
  wait_following();
  psql(source(), "ALTER TABLE public.no_pk_dups REPLICA IDENTITY FULL");
  psql(target(),
       "ALTER TABLE public.no_pk_dups ADD CONSTRAINT refuses_dup_3 CHECK (b <> "
       "'dup 3') NOT VALID");
  Outcome failed = resync("no_pk_dups");
  EXPECT_EQ(failed.status, 1) << failed.out << failed.err;
  EXPECT_TRUE(has(failed.out,
                  "public.no_pk_dups is diverged: the resync's copy failed after its "
                  "updates and deletes began to be published"))
      << failed.out;
  EXPECT_EQ(psql(source(),
                 "SELECT count(*) FROM pg_publication_tables WHERE pubname = "
                 "'ferry_insert_only' AND tablename = 'no_pk_dups'"),
            "1");
  // Writes go on, to that table too, and follow carries the rest.
  psql(source(),
       "UPDATE public.no_pk_dups SET a = a + 100 WHERE a = 1; "
       "INSERT INTO public.tenant_notes (tenant, note) VALUES ('t', 'after the failure')");
  wait_caught_up(source(), slot_);
  EXPECT_FALSE(follow->exited());
  EXPECT_EQ(psql(target(),
                 "SELECT count(*) FROM public.tenant_notes WHERE note = 'after the "
                 "failure'"),
            "1");
  Outcome status = run_ferry({"db", "status", "--dir", dir_.string(), "--format", "json"});
  EXPECT_EQ(status.status, 1) << status.out;
  EXPECT_TRUE(has(status.out, "\"table\": \"public.no_pk_dups\"")) << status.out;

  psql(target(), "ALTER TABLE public.no_pk_dups DROP CONSTRAINT refuses_dup_3");
  Outcome fixed = resync("no_pk_dups");
  ASSERT_EQ(fixed.status, 0) << fixed.out << fixed.err;
  psql(source(),
       "DELETE FROM public.no_pk_dups WHERE ctid = (SELECT min(ctid) FROM "
       "public.no_pk_dups)");
  wait_caught_up(source(), slot_);
  const std::string digest =
      "SELECT count(*), sum(hashtext(coalesce(a::text, '-') || coalesce(b, '-') || "
      "coalesce(c::text, '-'))) FROM public.no_pk_dups";
  EXPECT_EQ(psql(target(), digest), psql(source(), digest));
  status = run_ferry({"db", "status", "--dir", dir_.string(), "--format", "json"});
  EXPECT_EQ(status.status, 0) << status.out << status.err;
  stop(follow);
}

}  // namespace

// Managed servers give no superuser. A role with only REPLICATION, the
// ownership of its database and tables, and the grants docs/db.md lists
// clones, follows, cuts over with a reverse stream (started by its own
// supervisor, as under systemd) and rolls back. Before the grants, db check
// and the cutover name each missing one with its GRANT, and the cutover
// changes nothing.
TEST_F(FollowTest, ARoleWithoutSuperuserMovesADatabaseWithTheListedGrants) {
  make_source(false);
  make_target();
  const std::string role = "ferry_mover";
  const std::string create_role = "DO $$ BEGIN CREATE ROLE " + role +
                                  " LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$";
  for (const auto& uri : {source(), target()}) {
    psql(uri, create_role);
    psql(uri, "ALTER ROLE " + role +
                  " NOREPLICATION; REVOKE SET ON PARAMETER "
                  "session_replication_role FROM " +
                  role);
    psql(uri, "ALTER DATABASE " + name_ + " OWNER TO " + role);
  }
  auto as_mover = [&](const std::string& uri) {
    return uri.substr(0, uri.find("://") + 3) + role + uri.substr(uri.find('@'));
  };
  const std::string src = as_mover(source()), tgt = as_mover(target());
  psql(src,
       "CREATE TABLE public.items (id serial PRIMARY KEY, name text, price numeric); "
       "INSERT INTO public.items (name, price) SELECT 'item ' || i, i FROM "
       "generate_series(1, 2000) i");
  const std::vector<std::string> conn{"--source", src, "--target", tgt, "--dir", dir_.string()};
  auto args = [&](std::vector<std::string> a, const std::vector<std::string>& extra = {}) {
    a.insert(a.end(), conn.begin(), conn.end());
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };

  // Without the grants: every missing one named, with its statement.
  Outcome check = run_ferry({"db", "check", "--source", src, "--target", tgt, "--slot", slot_});
  EXPECT_EQ(check.status, 1) << check.out << check.err;
  EXPECT_TRUE(has(check.out, "ALTER ROLE \"ferry_mover\" REPLICATION")) << check.out;
  EXPECT_TRUE(has(check.out, "GRANT SET ON PARAMETER session_replication_role TO \"ferry_mover\""))
      << check.out;
  EXPECT_TRUE(has(check.out, "GRANT EXECUTE ON FUNCTION pg_replication_origin_create(text)"))
      << check.out;

  // The grants of docs/db.md, made by a superuser (on a managed server: the
  // platform's admin role).
  const std::string origin_functions =
      "pg_replication_origin_create(text), pg_replication_origin_drop(text), "
      "pg_replication_origin_oid(text), pg_replication_origin_progress(text, boolean), "
      "pg_replication_origin_session_setup(text), "
      "pg_replication_origin_xact_setup(pg_lsn, timestamp with time zone)";
  psql(source(), "ALTER ROLE " + role + " REPLICATION");
  psql(target(), "GRANT SET ON PARAMETER session_replication_role TO " + role);
  psql(target(), "GRANT EXECUTE ON FUNCTION " + origin_functions + " TO " + role);
  check = run_ferry({"db", "check", "--source", src, "--target", tgt, "--slot", slot_});
  EXPECT_EQ(check.status, 0) << check.out << check.err;

  Outcome cloned = run_ferry(args({"db", "clone"}, {"--slot", slot_, "--no-owner"}));
  ASSERT_EQ(cloned.status, 0) << cloned.out << cloned.err;
  // Not a superuser: the publication lists the tables.
  EXPECT_EQ(psql(source(), "SELECT puballtables FROM pg_publication WHERE pubname = 'ferry'"), "f");
  std::vector<std::string> follow_args = args({"db", "follow"}, {"--slot", slot_});
  auto follow = std::make_unique<Child>(ferry_argv(follow_args), output_prefix());
  wait_following();
  psql(src,
       "UPDATE public.items SET price = price * 2 WHERE id <= 100; DELETE FROM public.items "
       "WHERE id > 1990");

  // A table created after the clone is in no publication: reported at once,
  // and brought in by a resync.
  const std::string ddl = "CREATE TABLE public.late (id integer PRIMARY KEY)";
  psql(src, ddl + "; INSERT INTO public.late VALUES (1)");
  std::string diverged;
  for (int i = 0; i < 100 && !has(diverged, "public.late"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    diverged = run_ferry({"db", "status", "--dir", dir_.string(), "--format", "json"}).out;
  }
  EXPECT_TRUE(has(diverged, "no publication carries it")) << diverged;
  psql(tgt, ddl);
  Outcome resynced = run_ferry(args({"db", "clone", "--resync", "--tables", "public.late"}));
  ASSERT_EQ(resynced.status, 0) << resynced.out << resynced.err;
  psql(src, "INSERT INTO public.late VALUES (2)");
  wait_caught_up(source(), slot_);

  // The reverse stream needs the same on the other side: refused first,
  // nothing changed.
  Outcome refused = run_ferry(args({"db", "cutover"}, {"--slot", slot_, "--reverse"}));
  EXPECT_EQ(refused.status, 3) << refused.out << refused.err;
  EXPECT_TRUE(has(refused.err, "--reverse: the user ferry_mover")) << refused.err;
  psql(src, "INSERT INTO public.items (name, price) VALUES ('still writable', 1)");
  psql(target(), "ALTER ROLE " + role + " REPLICATION");
  psql(source(), "GRANT SET ON PARAMETER session_replication_role TO " + role);
  psql(source(), "GRANT EXECUTE ON FUNCTION " + origin_functions + " TO " + role);

  // The reverse follow left to a supervisor (as ferry-follow-reverse@ does):
  // the target's writes wait in the reverse slot until it starts.
  Outcome cut = run_ferry(args({"db", "cutover"}, {"--slot", slot_, "--reverse", "--reverse-follow",
                                                   "external", "--format", "json"}));
  ASSERT_EQ(cut.status, 0) << cut.out << cut.err;
  EXPECT_EQ(field(parse_json(cut.out), "reverse_follow"), "external") << cut.out;
  EXPECT_EQ(field(parse_json(cut.out), "reverse_follow_pid"), "0") << cut.out;
  EXPECT_EQ(follow->wait().status, 0);
  psql(tgt,
       "INSERT INTO public.items (name, price) VALUES ('after cutover', 3); "
       "INSERT INTO public.late VALUES (3)");
  Outcome not_yet = run_ferry({"db", "status", "--reverse", "--dir", dir_.string()});
  EXPECT_NE(not_yet.status, 0) << not_yet.out;
  auto reverse = std::make_unique<Child>(
      ferry_argv(args({"db", "follow"}, {"--slot", slot_, "--reverse"})), output_prefix());
  wait_following(true);
  wait_caught_up(target(), slot_ + "_reverse");
  Outcome back = run_ferry(args({"db", "rollback"}, {"--slot", slot_}));
  ASSERT_EQ(back.status, 0) << back.out << back.err;
  EXPECT_EQ(reverse->wait().status, 0);
  EXPECT_EQ(psql(source(), "SELECT count(*) FROM public.items WHERE name = 'after cutover'"), "1");
  EXPECT_EQ(psql(source(), "SELECT count(*) FROM public.late"), "3");
  expect_equal();
}
