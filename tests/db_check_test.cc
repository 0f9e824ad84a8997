// `ferry db check` against two real PostgreSQL 15 servers (the CTest fixture
// "pg"): the fixture's warnings, blockers for a non-empty target and a taken
// slot, and what the clone options it is told about change.
#include "pg_harness.h"

namespace {

using namespace pgtest;
using ferry::YamlNode;

class CheckTest : public PgTest {
 protected:
  Outcome check(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"db",       "check",  "--source", source(),
                                  "--target", target(), "--format", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_ferry(args);
  }
  // "level area: message" of every finding.
  static std::vector<std::string> findings(const YamlNode& report) {
    std::vector<std::string> out;
    if (const YamlNode* f = report.find("findings"))
      for (size_t i = 0; i < f->size(); ++i)
        out.push_back(field((*f)[i], "level") + " " + field((*f)[i], "area") + ": " +
                      field((*f)[i], "message"));
    return out;
  }
  static std::string matching(const std::vector<std::string>& all, const std::string& prefix,
                              const std::string& needle) {
    for (const auto& f : all)
      if (f.rfind(prefix, 0) == 0 && has(f, needle)) return f;
    return {};
  }
};

TEST_F(CheckTest, FixtureHasWarningsAndNoBlockers) {
  make_source();
  make_target();
  Outcome r = check();
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const YamlNode report = parse_json(r.out);
  EXPECT_EQ(field(report, "ok"), "true");
  const auto all = findings(report);
  const std::string keyless = matching(all, "warning tables:", "no primary key");
  EXPECT_TRUE(has(keyless, "public.no_pk_dups") && has(keyless, "public.trucks")) << keyless;
  // Says what follow does with them, and how to carry every change instead.
  EXPECT_TRUE(has(keyless, "insert-only publication")) << keyless;
  EXPECT_TRUE(has(r.out, "to carry every change: clone with --replica-identity-full")) << r.out;
  EXPECT_NE(matching(all, "warning tables:", "public.unlogged_cache"), "");
  EXPECT_NE(matching(all, "warning large objects:", "3 large object(s)"), "");
  EXPECT_EQ(matching(all, "blocker", ""), "");
  EXPECT_EQ(slots_on_source(), "");  // check only looks
}

TEST_F(CheckTest, NonEmptyTargetTableIsABlocker) {
  make_source();
  make_target();
  copy_schema_to_target();
  psql(target(), "INSERT INTO public.trucks VALUES (1000, 6, 500)");
  Outcome r = check();
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  const YamlNode report = parse_json(r.out);
  EXPECT_EQ(field(report, "ok"), "false");
  EXPECT_EQ(field(report, "target_has_schema"), "true");
  EXPECT_NE(matching(findings(report), "blocker target:", "public.trucks"), "") << r.out;
  // --truncate-target is clone's answer; check tells so.
  EXPECT_TRUE(has(r.out, "--truncate-target")) << r.out;
}

TEST_F(CheckTest, TheCloneOptionsItIsToldAboutChangeWhatBlocks) {
  make_source();
  make_target();
  copy_schema_to_target();
  psql(target(), "INSERT INTO public.trucks VALUES (1000, 6, 500)");
  EXPECT_EQ(check({"--truncate-target"}).status, 0);
  // A slot of that name exists already: a new clone could not create it.
  psql(source(), "SELECT pg_create_logical_replication_slot('" + slot_ + "', 'pgoutput')");
  Outcome taken = check({"--truncate-target", "--slot", slot_});
  EXPECT_EQ(taken.status, 1) << taken.out;
  EXPECT_NE(matching(findings(parse_json(taken.out)), "blocker replication:", slot_), "")
      << taken.out;
  // A one-shot copy needs no slot, so none of that blocks it. (--slot-name,
  // the flag's name before every command said --slot, is still understood.)
  EXPECT_EQ(check({"--truncate-target", "--slot-name", slot_, "--no-slot"}).status, 0);
}

TEST_F(CheckTest, UsageErrorsExitTwo) {
  EXPECT_EQ(run_ferry({"db", "check", "--source", "x"}).status, 2);
  EXPECT_EQ(run_ferry({"db", "check", "--source", "a", "--target", "b", "--format", "yaml"}).status,
            2);
  EXPECT_EQ(run_ferry({"db", "clone", "--source", "a", "--target", "b", "--jobs", "0"}).status, 2);
}

}  // namespace
