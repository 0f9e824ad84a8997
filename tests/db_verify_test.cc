// `ferry db verify` against two real PostgreSQL 15 servers (the CTest fixture
// "pg"): a clone of the fixture is equal; single rows corrupted, deleted or
// added on the target are each named by key; keyless tables are compared as
// multisets; sequences, schema and settings differences are reported; text
// keys match even when the two databases sort text differently.
#include <set>

#include "pg_harness.h"

namespace {

using namespace pgtest;
using ferry::YamlNode;

class VerifyTest : public PgTest {
 protected:
  // A source with the fixture and a target holding ferry's clone of it.
  void clone_fixture(const std::string& target_options = "") {
    make_source();
    psql(target_server_, "CREATE DATABASE " + name_ + " " + target_options);
    Outcome r = run_ferry({"db", "clone", "--source", source(), "--target", target(), "--dir",
                           dir_.string(), "--no-slot", "--jobs", "2"});
    ASSERT_EQ(r.status, 0) << r.err;
  }
  Outcome verify(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"db",       "verify", "--source", source(),
                                  "--target", target(), "--jobs",   "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_ferry(args);
  }
  // The JSON verdict of one table.
  static const YamlNode* table(const YamlNode& report, const std::string& name) {
    const YamlNode* tables = report.find("tables");
    for (size_t i = 0; tables && i < tables->size(); ++i)
      if (field((*tables)[i], "table") == name) return &(*tables)[i];
    ADD_FAILURE() << "no verdict for " << name;
    return nullptr;
  }
  // "kind key" of every difference listed for a table.
  static std::set<std::string> differences(const YamlNode& verdict) {
    std::set<std::string> out;
    const YamlNode* list = verdict.find("differences");
    for (size_t i = 0; list && i < list->size(); ++i)
      out.insert(field((*list)[i], "kind") + " " + field((*list)[i], "key"));
    return out;
  }
};

TEST_F(VerifyTest, ACloneOfTheFixtureMatchesInEveryPart) {
  clone_fixture();
  Outcome r = verify({"--format", "json"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const YamlNode report = parse_json(r.out);
  EXPECT_EQ(field(report, "ok"), "true");
  const YamlNode* tables = report.find("tables");
  ASSERT_TRUE(tables);
  EXPECT_GE(tables->size(), 30u);
  for (size_t i = 0; i < tables->size(); ++i) {
    EXPECT_EQ(field((*tables)[i], "equal"), "true") << field((*tables)[i], "table");
    EXPECT_EQ(field((*tables)[i], "source_rows"), field((*tables)[i], "target_rows"));
  }
  EXPECT_EQ(field(*table(report, "public.big_events"), "source_rows"), "200000");
  EXPECT_EQ(field(*table(report, "public.big_events"), "method"), "key ranges");
  EXPECT_EQ(field(*table(report, "public.collation_keys"), "method"), "key hash buckets");
  EXPECT_EQ(field(*table(report, "public.no_pk_dups"), "method"), "row multiset");
  EXPECT_GE(report.find("sequences")->size(), 5u);
  EXPECT_EQ(report.find("schema")->size(), 0u);
  // The human form says the same in its last line.
  Outcome text = verify();
  EXPECT_EQ(text.status, 0);
  EXPECT_TRUE(has(text.out, "everything matches")) << text.out;
}

TEST_F(VerifyTest, EveryCorruptedDeletedOrAddedRowIsNamedByItsKey) {
  clone_fixture();
  // Triggers on the target must not add their own changes to the corruption.
  const std::string replica = "SET session_replication_role = replica; ";
  psql(target(), replica + "DELETE FROM public.big_events WHERE id = 123456");
  psql(target(), replica + "UPDATE public.big_events SET note = 'tampered' WHERE id = 99777");
  psql(target(), replica +
                     "INSERT INTO public.big_events OVERRIDING SYSTEM VALUE SELECT 900000001, "
                     "occurred_at, user_id, kind, score, note, props FROM public.big_events "
                     "WHERE id = 5");
  psql(target(), replica +
                     "UPDATE public.uuid_keyed SET seq = seq + 1 WHERE id = (SELECT id "
                     "FROM public.uuid_keyed ORDER BY id LIMIT 1 OFFSET 77)");
  const std::string uuid =
      psql(target(), "SELECT id FROM public.uuid_keyed ORDER BY id LIMIT 1 OFFSET 77");
  // A keyless table: one of several identical rows goes, a new row comes.
  psql(target(), replica +
                     "DELETE FROM public.no_pk_dups WHERE ctid = (SELECT min(ctid) FROM "
                     "public.no_pk_dups WHERE a = 1)");
  psql(target(), replica + "INSERT INTO public.no_pk_dups VALUES (424242, 'stray', '{}')");
  psql(target(), "SELECT setval('public.big_events_id_seq', 10)");
  psql(target(), "DROP INDEX public.big_events_occurred_at");

  Outcome r = verify({"--format", "json"});
  ASSERT_EQ(r.status, 1) << r.out << r.err;
  const YamlNode report = parse_json(r.out);
  EXPECT_EQ(field(report, "ok"), "false");

  const YamlNode* events = table(report, "public.big_events");
  ASSERT_TRUE(events);
  EXPECT_EQ(field(*events, "missing"), "1");
  EXPECT_EQ(field(*events, "extra"), "1");
  EXPECT_EQ(field(*events, "changed"), "1");
  EXPECT_EQ(differences(*events),
            (std::set<std::string>{"missing id=123456", "extra id=900000001", "changed id=99777"}));

  const YamlNode* uuids = table(report, "public.uuid_keyed");
  ASSERT_TRUE(uuids);
  EXPECT_EQ(differences(*uuids), std::set<std::string>{"changed id=" + uuid});

  const YamlNode* keyless = table(report, "public.no_pk_dups");
  ASSERT_TRUE(keyless);
  EXPECT_EQ(field(*keyless, "missing"), "1");
  EXPECT_EQ(field(*keyless, "extra"), "1");
  const YamlNode* list = keyless->find("differences");
  ASSERT_TRUE(list && list->size() == 2);
  bool counted = false;
  for (size_t i = 0; i < list->size(); ++i)
    if (field((*list)[i], "kind") == "missing")
      counted = std::stoi(field((*list)[i], "source_count")) ==
                std::stoi(field((*list)[i], "target_count")) + 1;
  EXPECT_TRUE(counted) << "the missing copy is counted, not just flagged";

  // Untouched tables stay equal: the differences do not leak into neighbours.
  EXPECT_EQ(field(*table(report, "public.wide_toast"), "equal"), "true");

  bool sequence_behind = false;
  const YamlNode* sequences = report.find("sequences");
  for (size_t i = 0; sequences && i < sequences->size(); ++i)
    if (field((*sequences)[i], "sequence") == "public.big_events_id_seq")
      sequence_behind = field((*sequences)[i], "ok") == "false";
  EXPECT_TRUE(sequence_behind);
  bool index_missing = false;
  const YamlNode* schema = report.find("schema");
  for (size_t i = 0; schema && i < schema->size(); ++i)
    index_missing |= field((*schema)[i], "name") == "public.big_events.big_events_occurred_at" &&
                     field((*schema)[i], "target").empty();
  EXPECT_TRUE(index_missing) << r.out;

  // --tables narrows the comparison to the tables asked for.
  Outcome narrowed = verify({"--tables", "public.wide*", "--skip", "sequences"});
  EXPECT_EQ(narrowed.status, 0) << narrowed.out;
  EXPECT_FALSE(has(narrowed.out, "big_events")) << narrowed.out;
  // The text report names the rows too, with both versions of a changed one.
  Outcome text = verify({"--tables", "public.big_events"});
  EXPECT_EQ(text.status, 1);
  EXPECT_TRUE(has(text.out, "missing id=123456")) << text.out;
  EXPECT_TRUE(has(text.out, "tampered")) << text.out;
}

// The source sorts text by code point (C.UTF-8), the target by ICU's en-US
// rules: ranges of text keys would cut differently on each side, but keys are
// matched as text, so verify agrees row for row and still finds a change.
TEST_F(VerifyTest, TextKeysMatchWhenTheTwoDatabasesSortTextDifferently) {
  clone_fixture("TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'");
  EXPECT_NE(psql(source(), "SELECT string_agg(k, '|' ORDER BY k) FROM public.collation_keys"),
            psql(target(), "SELECT string_agg(k, '|' ORDER BY k) FROM public.collation_keys"))
      << "the fixture's keys should sort differently on the two sides";
  Outcome same = verify({"--skip", "settings"});
  EXPECT_EQ(same.status, 0) << same.out << same.err;
  // The settings comparison does see the different collation.
  Outcome settings = verify({"--skip", "rows", "--format", "json"});
  EXPECT_EQ(settings.status, 1);
  EXPECT_TRUE(has(settings.out, "ICU")) << settings.out;

  const std::string key =
      psql(source(), "SELECT k FROM public.collation_keys ORDER BY k LIMIT 1 OFFSET 3");
  psql(target(), "UPDATE public.collation_keys SET v = v + 1000 WHERE k = '" + key + "'");
  Outcome r =
      verify({"--skip", "settings", "--format", "json", "--tables", "public.collation_keys"});
  ASSERT_EQ(r.status, 1) << r.out;
  const YamlNode report = parse_json(r.out);
  const YamlNode* verdict = table(report, "public.collation_keys");
  ASSERT_TRUE(verdict);
  EXPECT_EQ(differences(*verdict), std::set<std::string>{"changed k=" + key});
}

TEST_F(VerifyTest, BadArgumentsAndUnreachableServers) {
  make_source();
  make_target();
  EXPECT_EQ(verify({"--skip", "everything"}).status, 2);
  EXPECT_EQ(verify({"--format", "xml"}).status, 2);
  Outcome unreachable = run_ferry(
      {"db", "verify", "--source", source(), "--target", "postgresql://postgres@127.0.0.1:1/x"});
  EXPECT_EQ(unreachable.status, 5) << unreachable.err;
  EXPECT_TRUE(has(unreachable.err, "127.0.0.1")) << unreachable.err;
  // An empty target: every table is reported missing, and verify says so.
  Outcome empty = verify({"--skip", "schema"});
  EXPECT_EQ(empty.status, 1);
  EXPECT_TRUE(has(empty.out, "missing on the target")) << empty.out;
}

}  // namespace
