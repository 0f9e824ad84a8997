// `ferry db clone` and `ferry db check` against two real PostgreSQL 15 servers
// (the CTest fixture "pg": tests/pg_servers.sh). Each test clones its own
// copy of tests/data/clone_fixture.sql (database ferry_fixture on the source
// server, copied with CREATE DATABASE ... TEMPLATE) and proves the result with
// tests/pg_equal.sh, which shares no code with ferry.
#include <map>
#include <random>

#include "core/sqlite.h"
#include "pg_harness.h"

namespace {

using namespace pgtest;
using ferry::YamlNode;

// Every table holding rows (plain tables and partitions) as "schema.name" ->
// count(*), the way ferry's summary names them.
std::map<std::string, std::string> table_rows(const std::string& uri) {
  const std::string out =
      psql(uri,
           "SELECT n.nspname || '.' || c.relname || '|' || (xpath('/row/c/text()', "
           "query_to_xml(format('SELECT count(*) AS c FROM ONLY %I.%I', n.nspname, c.relname), "
           "false, true, '')))[1]::text FROM pg_class c JOIN pg_namespace n ON n.oid = "
           "c.relnamespace WHERE c.relkind = 'r' AND n.nspname <> 'information_schema' AND "
           "n.nspname NOT LIKE 'pg\\_%' ORDER BY 1");
  std::map<std::string, std::string> rows;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    const auto bar = line.rfind('|');
    rows[line.substr(0, bar)] = line.substr(bar + 1);
  }
  return rows;
}

// The summary's tables with their row counts ("null" for a part whose count
// is unknown after a resume).
std::map<std::string, std::string> summary_rows(const YamlNode& summary) {
  std::map<std::string, std::string> rows;
  if (const YamlNode* tables = summary.find("tables"))
    for (size_t i = 0; i < tables->size(); ++i) {
      const YamlNode* r = (*tables)[i].find("rows");
      rows[field((*tables)[i], "table")] = r && r->is_scalar() ? r->scalar() : "null";
    }
  return rows;
}

class CloneTest : public PgTest {
 protected:
  // Three jobs and big tables in 4MB parts, unless `jobs` says otherwise
  // (one job copies in a fixed order, largest table first).
  std::vector<std::string> clone_args(const std::vector<std::string>& extra = {},
                                      const std::string& jobs = "3") const {
    std::vector<std::string> args{"db",
                                  "clone",
                                  "--source",
                                  source(),
                                  "--target",
                                  target(),
                                  "--dir",
                                  dir_.string(),
                                  "--jobs",
                                  jobs,
                                  "--split-tables-larger-than",
                                  "4MB",
                                  "--slot",
                                  slot_,
                                  "--format",
                                  "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  Outcome clone(const std::vector<std::string>& extra = {}, const Env& env = {}) {
    return run_ferry(clone_args(extra), env);
  }

  void expect_equal() {
    Outcome r = pg_equal(source(), target());
    EXPECT_EQ(r.status, 0) << r.out << r.err;
  }

  // The target's schema and rows as pg_dump prints them: "nothing was written".
  std::string target_dump() {
    Outcome r = run({"pg_dump", "--no-comments", "-d", target()});
    EXPECT_EQ(r.status, 0) << r.err;
    std::istringstream in(r.out);
    std::string dump;
    for (std::string line; std::getline(in, line);)  // \restrict KEY: random per run
      if (line.rfind("\\restrict", 0) != 0 && line.rfind("\\unrestrict", 0) != 0)
        dump += line + "\n";
    return dump;
  }

  // "schema.table,..." the source publishes in `publication`, sorted.
  std::string published_tables(const std::string& publication) {
    return psql(source(),
                "SELECT string_agg(schemaname || '.' || tablename, ',' ORDER BY 1) FROM "
                "pg_publication_tables WHERE pubname = '" +
                    publication + "'");
  }

  std::string publications_on_source() {
    return psql(source(), "SELECT string_agg(pubname, ',' ORDER BY pubname) FROM pg_publication");
  }

  // Temporary slots of killed or finished runs go when their session ends.
  void expect_only_the_slot_left(const std::string& expected) {
    std::string slots;
    for (int i = 0; i < 100 && (slots = slots_on_source()) != expected; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(slots, expected);
  }

  // `ferry db check|clone --source S --target T` (clone in the test's --dir).
  std::vector<std::string> endpoints(const std::string& command, const std::string& from,
                                     const std::string& to) const {
    std::vector<std::string> args{"db", command, "--source", from, "--target", to};
    if (command == "clone") {
      args.push_back("--dir");
      args.push_back(dir_.string());
      args.push_back("--slot");
      args.push_back(slot_);
    }
    return args;
  }

  // Runs a journal statement, as a crash at an unlucky moment would leave it.
  void edit_journal(const std::string& sql) {
    auto db = ferry::SqliteDb::open((dir_ / "clone.db").string());
    ASSERT_TRUE(db) << db.error().to_string();
    auto ok = db->exec(sql);
    ASSERT_TRUE(ok) << ok.error().to_string();
  }
};

// ---------------------------------------------------------------- a whole clone

TEST_F(CloneTest, FixtureCopiedEqualWithSlotAndPublication) {
  make_source();
  make_target();
  Outcome r = clone();
  ASSERT_EQ(r.status, 0) << r.err;
  const YamlNode summary = parse_json(r.out);
  const std::string lsn = field(summary, "snapshot_lsn");
  EXPECT_NE(lsn.find('/'), std::string::npos) << lsn;
  EXPECT_EQ(field(summary, "slot"), slot_);
  EXPECT_EQ(field(summary, "publication"), "ferry");
  EXPECT_EQ(field(summary, "resumed"), "false");

  // The slot starts exactly where the copy's snapshot is.
  EXPECT_EQ(psql(source_server_,
                 "SELECT plugin || ' ' || database || ' ' || temporary || ' ' || "
                 "confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '" +
                     slot_ + "'"),
            "pgoutput " + name_ + " false " + lsn);
  EXPECT_EQ(publications_on_source(), "ferry,ferry_insert_only");
  const std::string published = published_tables("ferry");
  EXPECT_TRUE(has(published, "public.big_events")) << published;
  // public.trucks is published through its parent public.vehicles (a known bug, below).
  for (const char* left_out : {"public.no_pk_dups", "public.unlogged_cache"})
    EXPECT_FALSE(has(published + ",", std::string(left_out) + ",")) << left_out;
  // The keyless tables are published for their inserts and TRUNCATEs only.
  const YamlNode* insert_only = summary.find("insert_only_tables");
  ASSERT_TRUE(insert_only && insert_only->size() == 2) << r.out;
  EXPECT_EQ((*insert_only)[0].scalar(), "public.no_pk_dups");
  EXPECT_EQ((*insert_only)[1].scalar(), "public.trucks");
  EXPECT_EQ(published_tables("ferry_insert_only"), "public.no_pk_dups,public.trucks");
  EXPECT_EQ(psql(source(),
                 "SELECT pubinsert, pubupdate, pubdelete, pubtruncate FROM "
                 "pg_publication WHERE pubname = 'ferry_insert_only'"),
            "t|f|f|t");

  // Every table, with the source's row count; the big ones were split.
  EXPECT_EQ(summary_rows(summary), table_rows(source()));
  const YamlNode* tables = summary.find("tables");
  ASSERT_TRUE(tables);
  for (size_t i = 0; i < tables->size(); ++i) {
    const YamlNode& t = (*tables)[i];
    if (field(t, "table") == "public.big_events") {
      EXPECT_GT(std::stoi(field(t, "parts")), 1);
    }
    EXPECT_EQ(field(t, "unlogged"),
              field(t, "table") == "public.unlogged_cache" ? "true" : "false");
  }
  EXPECT_EQ(field(summary, "large_objects"),
            psql(source(), "SELECT count(*) FROM pg_largeobject_metadata"));
  expect_equal();
}

TEST_F(CloneTest, NoSlotCreatesNothingOnTheSource) {
  make_source();
  make_target();
  Outcome r = clone({"--no-slot"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(field(parse_json(r.out), "slot"), "");
  EXPECT_EQ(slots_on_source(), "");
  EXPECT_EQ(publications_on_source(), "");
  expect_equal();
}

// Large values are written with lz4 unless the target's default is asked for;
// either way the values are the same.
TEST_F(CloneTest, LargeValuesAreLz4CompressedUnlessTheServerDefaultIsAskedFor) {
  make_source();
  make_target();
  const std::string compression =
      "SELECT string_agg(DISTINCT pg_column_compression(body), ',') FROM public.wide_toast";
  // The fixture's values are stored uncompressed or with pglz on the source.
  EXPECT_NE(psql(source(), compression), "lz4");
  Outcome r = clone({"--no-slot"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(field(parse_json(r.out), "toast_compression"), "lz4");
  EXPECT_EQ(psql(target(), compression), "lz4");
  expect_equal();

  psql(target_server_, "DROP DATABASE " + name_);
  make_target();
  fs::remove_all(dir_);
  r = clone({"--no-slot", "--toast-compression", "server"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(field(parse_json(r.out), "toast_compression"), "pglz");
  EXPECT_NE(psql(target(), compression), "lz4");
  expect_equal();
}

// ---------------------------------------------------------------- kill -9 and --resume

struct KillPlan {
  const char* name;
  std::vector<std::string> failpoints;  // the first run dies at the first, each resume at the next
  bool no_slot = false;
};

// ctest lists the case as ".../committed_3  # GetParam() = clone.part-committed:3".
void PrintTo(const KillPlan& plan, std::ostream* os) {
  for (size_t i = 0; i < plan.failpoints.size(); ++i) *os << (i ? ", " : "") << plan.failpoints[i];
  if (plan.no_slot) *os << " (--no-slot)";
}

class CloneKill : public CloneTest, public ::testing::WithParamInterface<KillPlan> {};

TEST_P(CloneKill, ResumeFinishesEqual) {
  const KillPlan& plan = GetParam();
  make_source();
  make_target();
  std::vector<std::string> extra;
  if (plan.no_slot) extra.push_back("--no-slot");
  std::string first_lsn;
  for (size_t i = 0; i < plan.failpoints.size(); ++i) {
    auto args = extra;
    if (i > 0) args.push_back("--resume");
    Outcome killed = clone(args, {{"FERRY_FAILPOINT", plan.failpoints[i]}});
    ASSERT_EQ(killed.status, 137) << plan.failpoints[i] << " was never reached:\n" << killed.err;
    if (i == 0 && !plan.no_slot)
      first_lsn = psql(source_server_,
                       "SELECT confirmed_flush_lsn FROM pg_replication_slots "
                       "WHERE slot_name = '" +
                           slot_ + "'");
  }
  extra.push_back("--resume");
  Outcome r = clone(extra);
  ASSERT_EQ(r.status, 0) << r.err;
  const YamlNode summary = parse_json(r.out);
  EXPECT_EQ(field(summary, "resumed"), "true");
  if (!plan.no_slot) {
    // The slot is the first run's; the summary reports where it starts.
    if (!first_lsn.empty()) {
      EXPECT_EQ(field(summary, "snapshot_lsn"), first_lsn);
    }
    expect_only_the_slot_left(slot_);
  } else {
    expect_only_the_slot_left("");
    EXPECT_EQ(publications_on_source(), "");
  }
  // Row counts the summary knows are right; unknown ones (a part committed
  // just before the kill) are null.
  const auto source_rows = table_rows(source());
  for (const auto& [table, rows] : summary_rows(summary)) {
    if (rows != "null") {
      EXPECT_EQ(rows, source_rows.at(table)) << table;
    }
  }
  expect_equal();
}

INSTANTIATE_TEST_SUITE_P(
    At, CloneKill,
    ::testing::Values(KillPlan{"pre_data", {"clone.after-pre-data:1"}},
                      KillPlan{"before_commit_5", {"clone.part-before-commit:5"}},
                      KillPlan{"committed_3", {"clone.part-committed:3"}},
                      KillPlan{"committed_20", {"clone.part-committed:20"}},
                      KillPlan{"done_7", {"clone.part-done:7"}},
                      KillPlan{"post_data_started", {"clone.post-data-started:1"}},
                      KillPlan{"after_post_data", {"clone.after-post-data:1"}},
                      KillPlan{"three_in_a_row",
                               {"clone.part-before-commit:12", "clone.part-committed:2",
                                "clone.post-data-started:1"}},
                      KillPlan{"no_slot", {"clone.part-committed:3", "clone.part-done:4"}, true}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

// A kill at a moment no failpoint marks: after a random delay, mostly while
// the data is copied (the fixture's copy takes about 0.3 to 0.9 s).
// The kill lands while the clone runs: after its journal exists, at a random
// moment of the copy (a run that finished first is done again with a
// shorter delay, so the test never passes without having killed anything).
TEST_F(CloneTest, KilledAtARandomMomentThenResumed) {
  std::mt19937 random(random_seed());
  int longest_ms = 800;
  Outcome killed;
  for (int attempt = 0; attempt < 5 && killed.status != 137; ++attempt, longest_ms /= 2) {
    if (attempt > 0) {
      drop_all();
      fs::remove_all(dir_);
    }
    make_source();
    make_target();
    const int ms = std::uniform_int_distribution<int>(0, longest_ms)(random);
    Child child(ferry_argv(clone_args()), output_prefix());
    for (int i = 0; i < 500 && !fs::exists(dir_ / "clone.db") && !child.exited(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    child.kill_now();
    killed = child.wait();
    std::cout << "attempt " << attempt + 1 << ": killed " << ms << " ms after the journal "
              << "appeared, exit status " << killed.status << "\n";
    ASSERT_TRUE(killed.status == 137 || killed.status == 0) << killed.status << "\n" << killed.err;
  }
  ASSERT_EQ(killed.status, 137) << "the clone always finished before the kill";
  Outcome r = clone({"--resume"});
  ASSERT_EQ(r.status, 0) << r.err;
  expect_only_the_slot_left(slot_);
  expect_equal();
}

// ---------------------------------------------------------------- the journal

TEST_F(CloneTest, ResumeWithoutJournalIsRefused) {
  make_source(false);
  make_target();
  Outcome r = clone({"--resume"});
  EXPECT_EQ(r.status, 3) << r.err;
  EXPECT_TRUE(has(r.err, "--resume")) << r.err;
  EXPECT_TRUE(has(r.err, "no clone to resume")) << r.err;
  EXPECT_EQ(slots_on_source(), "");
}

TEST_F(CloneTest, FreshRunInADirWithAJournalIsRefused) {
  make_source(false);
  make_target();
  ASSERT_EQ(clone({"--no-slot"}).status, 0);
  const std::string before = target_dump();
  Outcome r = clone();
  EXPECT_EQ(r.status, 3) << r.err;
  EXPECT_TRUE(has(r.err, "--resume")) << r.err;
  EXPECT_TRUE(has(r.err, "earlier clone")) << r.err;
  EXPECT_EQ(slots_on_source(), "");
  EXPECT_EQ(target_dump(), before);
}

// ---------------------------------------------------------------- target safety

TEST_F(CloneTest, NonEmptyTargetTableIsRefusedAndNothingWritten) {
  make_source();
  make_target();
  copy_schema_to_target();
  psql(target(), "INSERT INTO public.no_pk_dups VALUES (99, 'junk', '{}')");
  const std::string before = target_dump();
  Outcome r = clone();
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_TRUE(has(r.err, "public.no_pk_dups")) << r.err;
  EXPECT_TRUE(has(r.err, "--truncate-target")) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(target_dump(), before);
  EXPECT_EQ(slots_on_source(), "");
  EXPECT_EQ(publications_on_source(), "");
}

TEST_F(CloneTest, PartOfTheSchemaOnTheTargetIsRefused) {
  make_source();
  make_target();
  psql(target(), "CREATE TABLE public.trucks (id int); INSERT INTO public.trucks VALUES (1)");
  const std::string before = target_dump();
  Outcome r = clone();
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_TRUE(has(r.err, "public.trucks")) << r.err;
  EXPECT_EQ(target_dump(), before);
  EXPECT_EQ(slots_on_source(), "");
}

TEST_F(CloneTest, TruncateTargetReplacesJunkRows) {
  make_source();
  make_target();
  copy_schema_to_target();
  // The fixture's NOT VALID check constraint rejects one of the source's own
  // rows; a pre-created schema must not have it while loading (see the
  // report: preflight does not flag it). It is added back afterwards.
  psql(target(), "ALTER TABLE inventory.products DROP CONSTRAINT name_not_blank");
  psql(target(),
       "INSERT INTO public.no_pk_dups VALUES (99, 'junk', '{}'); "
       "INSERT INTO public.empty_table (note) VALUES ('junk'); "
       "INSERT INTO inventory.categories (name) VALUES ('junk')");
  Outcome r = clone({"--truncate-target"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(summary_rows(parse_json(r.out)), table_rows(source()));
  psql(target(),
       "ALTER TABLE inventory.products ADD CONSTRAINT name_not_blank "
       "CHECK (name <> '') NOT VALID");
  expect_equal();
}

TEST_F(CloneTest, ExistingSlotIsRefused) {
  make_source(false);
  make_target();
  psql(source(), "SELECT pg_create_logical_replication_slot('" + slot_ + "', 'pgoutput')");
  Outcome r = clone();
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_TRUE(has(r.err, "'" + slot_ + "' already exists")) << r.err;
  EXPECT_EQ(publications_on_source(), "");
}

// ---------------------------------------------------------------- errors

TEST_F(CloneTest, MalformedUriIsInvalidInputWithoutThePassword) {
  make_target();
  for (const std::string& uri : {std::string("postgresql://app:hunter2pw@db/x?bogus=1"),
                                 std::string("host=db password=hunter2pw port")}) {
    for (const char* command : {"clone", "check"}) {
      Outcome r = run_ferry(endpoints(command, uri, target()));
      EXPECT_EQ(r.status, 3) << command << " " << uri << "\n" << r.err;
      EXPECT_TRUE(has(r.err, "--source")) << r.err;
      EXPECT_FALSE(has(r.err + r.out, "hunter2pw")) << r.err;
    }
  }
  EXPECT_FALSE(fs::exists(dir_));
}

TEST_F(CloneTest, UnreachableServerExitsFiveNamingHostAndPort) {
  make_target();
  // A port nothing listens on: bound, then released.
  const std::string port = trim(sh("python3 -c 'import socket; s = socket.socket(); "
                                   "s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])'")
                                    .out);
  const std::string nowhere = "postgresql://postgres@127.0.0.1:" + port + "/postgres";
  for (const char* command : {"clone", "check"}) {
    Outcome r = run_ferry(endpoints(command, nowhere, target()));
    EXPECT_EQ(r.status, 5) << r.err;
    EXPECT_TRUE(has(r.err, "127.0.0.1:" + port)) << r.err;
  }
}

TEST_F(CloneTest, WrongPasswordExitsFiveWithoutThePassword) {
  make_source(false);
  make_target();
  const std::string host_port = source_server_.substr(source_server_.find('@') + 1);
  const std::string wrong = "postgresql://ferry_pw:notthesecret@" + host_port;
  for (const char* command : {"clone", "check"}) {
    Outcome r = run_ferry(endpoints(command, wrong, target()));
    EXPECT_EQ(r.status, 5) << r.err;
    EXPECT_TRUE(has(r.err, "password authentication failed")) << r.err;
    EXPECT_FALSE(has(r.err + r.out, "notthesecret")) << r.err;
  }
  // The right password gets in: it was the password that failed.
  Outcome ok = run_ferry({"db", "check", "--source", "postgresql://ferry_pw:secret@" + host_port,
                          "--target", target()});
  EXPECT_NE(ok.status, 5) << ok.err;
}

TEST_F(CloneTest, TargetThatIsTheSourceIsRefused) {
  make_source(false);
  const std::string host = source_server_.substr(source_server_.find('@') + 1);
  // The same database spelled another way.
  const std::string same = "host=" + host.substr(0, host.find(':')) + " port=" +
                           host.substr(host.find(':') + 1, host.find('/') - host.find(':') - 1) +
                           " user=postgres dbname=" + name_;
  Outcome check = run_ferry({"db", "check", "--source", source(), "--target", same});
  EXPECT_EQ(check.status, 1) << check.err;
  EXPECT_TRUE(has(check.out, "the target is the source")) << check.out;
  Outcome r = run_ferry({"db", "clone", "--source", source(), "--target", source(), "--dir",
                         dir_.string(), "--slot", slot_});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_TRUE(has(r.err, "the target is the source")) << r.err;
  EXPECT_EQ(slots_on_source(), "");
  EXPECT_EQ(publications_on_source(), "");
}

// A resume copies what is left at a new snapshot. If the source changed in
// between, rows copied at the two instants can disagree: here the orders were
// copied before a customer was deleted (with its orders), the customers after.
// The foreign key then cannot be validated yet: the clone adds it NOT VALID,
// says so, and finishes.
TEST_F(CloneTest, ForeignKeysAcrossTwoSnapshotsAreAddedNotValid) {
  make_source();
  make_target();
  Outcome killed =
      run_ferry(clone_args({}, "1"), {{"FERRY_FAILPOINT", "clone.table-copied Sales Data.Orders"}});
  ASSERT_EQ(killed.status, 137) << killed.err;
  psql(source(),
       "DELETE FROM \"Sales Data\".\"Customers\" WHERE \"CustomerID\" = (SELECT "
       "min(\"CustomerID\") FROM \"Sales Data\".\"Orders\")");
  Outcome r = run_ferry(clone_args({"--resume"}, "1"));
  ASSERT_EQ(r.status, 0) << r.err;
  const YamlNode summary = parse_json(r.out);
  const YamlNode* pending = summary.find("foreign_keys_not_valid");
  ASSERT_TRUE(pending && pending->size() == 1) << r.out;
  EXPECT_TRUE(has((*pending)[0].scalar(), "VALIDATE CONSTRAINT \"Orders_CustomerID_fkey\""))
      << (*pending)[0].scalar();
  EXPECT_EQ(psql(target(),
                 "SELECT convalidated FROM pg_constraint WHERE conname = "
                 "'Orders_CustomerID_fkey'"),
            "f");
  // Every other foreign key agreed and was validated.
  EXPECT_EQ(psql(target(),
                 "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND NOT "
                 "convalidated AND conname <> 'Orders_CustomerID_fkey'"),
            psql(source(),
                 "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND NOT "
                 "convalidated"));
}

// ------------------------------------------------- crash windows and regressions
// Each of these once failed. Crashes at moments no failpoint marks are
// reproduced by editing the journal into the state such a kill leaves.

// libpq's complaint quotes the offending token or the whole URI, and with it
// the password.
TEST_F(CloneTest, MalformedUriNeverEchoesThePassword) {
  make_target();
  for (const std::string& uri : {std::string("postgresql://app:hunter%zz2pw@db/x"),
                                 std::string("postgres://app:hunter2pw@[::1/x")}) {
    Outcome r = run_ferry({"db", "check", "--source", uri, "--target", target()});
    EXPECT_EQ(r.status, 3) << r.err;
    EXPECT_FALSE(has(r.err, "hunter")) << r.err;
  }
}

// Killed in the middle of post-data, as soon as the first index exists on the
// target. The resume re-creates what pg_restore had already built of the
// entries it does not filter (CHECK CONSTRAINT ... NOT VALID, POLICY) and fails.
TEST_F(CloneTest, KilledInThePostDataStepThenResumed) {
  make_source();
  make_target();
  const std::string count_indexes =
      "SELECT count(*) FROM pg_indexes WHERE schemaname <> 'information_schema' AND schemaname "
      "NOT LIKE 'pg\\_%'";
  Child child(ferry_argv(clone_args()), output_prefix());
  while (!child.exited() && psql(target(), count_indexes) == "0")
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  child.kill_now();
  Outcome killed = child.wait();
  if (killed.status == 0)  // finished between two looks: the resume below still must work
    std::cout << "note: the clone finished before the kill; post-data was not interrupted\n";
  else
    ASSERT_EQ(killed.status, 137) << killed.err;
  EXPECT_LT(std::stoi(psql(target(), count_indexes)), std::stoi(psql(source(), count_indexes)));
  Outcome r = clone({"--resume"});
  ASSERT_EQ(r.status, 0) << r.err;
  expect_equal();
}

// A blocked run ("nothing was copied") leaves a journal behind; --resume, which
// the refusal of a fresh run then asks for, skips the non-empty-target check.
TEST_F(CloneTest, ResumeAfterABlockedRunStillRefusesANonEmptyTarget) {
  make_source();
  make_target();
  copy_schema_to_target();
  psql(target(), "ALTER TABLE inventory.products DROP CONSTRAINT name_not_blank");
  psql(target(), "INSERT INTO public.no_pk_dups VALUES (99, 'junk', '{}')");
  ASSERT_EQ(clone().status, 1);
  EXPECT_FALSE(fs::exists(dir_ / "clone.db")) << "a blocked run left a journal";
  Outcome r = clone({"--resume"});
  EXPECT_NE(r.status, 0) << r.err;
  EXPECT_EQ(psql(target(), "SELECT count(*) FROM public.no_pk_dups"), "1");
}

// Killed after the pre-data transaction committed, before the journal recorded
// the step (clone.after-pre-data sits exactly there): the target says it committed.
TEST_F(CloneTest, ResumeAfterPreDataCommittedButNotJournaled) {
  make_source();
  make_target();
  ASSERT_EQ(clone({}, {{"FERRY_FAILPOINT", "clone.after-pre-data:1"}}).status, 137);
  Outcome r = clone({"--resume"});
  EXPECT_EQ(r.status, 0) << r.err;
  expect_equal();
}

// Killed while the parts were being planned.
TEST_F(CloneTest, ResumeAfterAKillWhilePlanningTheParts) {
  make_source();
  make_target();
  ASSERT_EQ(clone({}, {{"FERRY_FAILPOINT", "clone.part-before-commit:1"}}).status, 137);
  // The parts and the "planned" step are journaled in one SQLite transaction:
  // a kill while planning leaves neither.
  edit_journal("DELETE FROM part; DELETE FROM step WHERE name = 'planned'");
  Outcome r = clone({"--resume"});
  EXPECT_EQ(r.status, 0) << r.err;
  expect_equal();
}

// The publication is FOR TABLE ONLY ... public.vehicles, which would otherwise
// take in its inheritance child public.trucks (no primary key, no replica
// identity): UPDATE and DELETE on public.trucks would then fail on the source.
// public.trucks is in the insert-only publication, which allows them.
TEST_F(CloneTest, PublicationLeavesOutKeylessInheritanceChildren) {
  make_source();
  make_target();
  ASSERT_EQ(clone().status, 0);
  EXPECT_EQ(psql(source(),
                 "SELECT count(*) FROM pg_publication_tables WHERE pubname = 'ferry' "
                 "AND tablename = 'trucks'"),
            "0");
  Outcome update =
      run({"psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", source(), "-c",
           "UPDATE public.trucks SET payload_kg = 1 WHERE id = 21; DELETE FROM "
           "public.no_pk_dups WHERE ctid = (SELECT min(ctid) FROM public.no_pk_dups)"});
  EXPECT_EQ(update.status, 0) << update.err;
}

// --replica-identity-full: the keyless tables get REPLICA IDENTITY FULL on
// the source before the snapshot (so the target's schema has it too), join
// the main publication, and no insert-only publication is needed.
TEST_F(CloneTest, ReplicaIdentityFullPublishesEveryChangeOfKeylessTables) {
  make_source();
  make_target();
  Outcome r = clone({"--replica-identity-full"});
  ASSERT_EQ(r.status, 0) << r.err;
  const YamlNode summary = parse_json(r.out);
  const YamlNode* set = summary.find("replica_identity_set");
  ASSERT_TRUE(set && set->size() == 2) << r.out;
  EXPECT_EQ(summary.find("insert_only_tables")->size(), 0u) << r.out;
  const std::string identity =
      "SELECT string_agg(relname || '=' || relreplident::text, ',' ORDER BY relname) FROM pg_class "
      "WHERE relname IN ('no_pk_dups', 'trucks')";
  EXPECT_EQ(psql(source(), identity), "no_pk_dups=f,trucks=f");
  EXPECT_EQ(psql(target(), identity), "no_pk_dups=f,trucks=f");
  EXPECT_EQ(publications_on_source(), "ferry");
  EXPECT_EQ(psql(source(),
                 "SELECT count(*) FROM pg_publication_tables WHERE pubname = 'ferry' "
                 "AND tablename IN ('no_pk_dups', 'trucks')"),
            "2");
  expect_equal();
}

// Killed after the slot was created, before its snapshot LSN was journaled.
TEST_F(CloneTest, ResumeReportsTheSlotsStartAfterAKillRightAfterCreatingIt) {
  make_source();
  make_target();
  ASSERT_EQ(clone({}, {{"FERRY_FAILPOINT", "clone.after-pre-data:1"}}).status, 137);
  // No schema restored, no step done: as right after CREATE_REPLICATION_SLOT.
  edit_journal(
      "DELETE FROM step; DELETE FROM setting WHERE key IN ('snapshot_lsn', 'pre-data xid')");
  psql(target_server_, "DROP DATABASE " + name_ + " WITH (FORCE)");
  make_target();
  Outcome r = clone({"--resume"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(field(parse_json(r.out), "snapshot_lsn"),
            psql(source_server_,
                 "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE "
                 "slot_name = '" +
                     slot_ + "'"));
}

}  // namespace
