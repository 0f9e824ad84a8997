#include "run/live_verify.h"

#include <gtest/gtest.h>

namespace ferry::run {
namespace {

db::RowDifference changed(const std::string& key, const std::string& source,
                          const std::string& target) {
  db::RowDifference d;
  d.kind = db::RowDifference::Kind::kChanged;
  d.key = key;
  d.source_row = source;
  d.target_row = target;
  return d;
}

db::TableVerdict table(const std::string& name, std::vector<db::RowDifference> diffs) {
  db::TableVerdict t;
  t.table = name;
  t.changed = static_cast<int64_t>(diffs.size());
  t.differences = std::move(diffs);
  return t;
}

db::VerifyReport round(std::vector<db::TableVerdict> tables) {
  db::VerifyReport r;
  r.tables = std::move(tables);
  return r;
}

TEST(Settle, EqualTablesPassAtOnce) {
  const SettleVerdict v = settle({round({table("public.orders", {})})}, false);
  EXPECT_TRUE(v.ok);
  EXPECT_TRUE(v.settled);
  EXPECT_TRUE(v.recheck.empty());
}

TEST(Settle, AFirstDifferenceIsComparedAgainNotReported) {
  const SettleVerdict v =
      settle({round({table("public.orders", {changed("id=7", "(7,3)", "(7,2)")})})}, false);
  EXPECT_FALSE(v.ok);
  EXPECT_FALSE(v.settled);
  EXPECT_TRUE(v.real.empty());
  EXPECT_EQ(v.recheck, std::set<std::string>{"public.orders"});
}

TEST(Settle, ARowThatArrivedWasInFlight) {
  const SettleVerdict v =
      settle({round({table("public.orders", {changed("id=7", "(7,3)", "(7,2)")}),
                     table("public.customers", {})}),
              round({table("public.orders", {})})},
             false);
  EXPECT_TRUE(v.ok) << (v.real.empty() ? "" : v.real[0]);
  EXPECT_EQ(v.in_flight, 1);
}

TEST(Settle, ARowWhoseTargetSideDidNotMoveIsReal) {
  // id=7: the source had 3 before the marker, and the target still has 2.
  // id=8: the target took the source's 1 and the source moved on to 2.
  const SettleVerdict v = settle(
      {round({table("public.orders",
                    {changed("id=7", "(7,3)", "(7,2)"), changed("id=8", "(8,1)", "(8,0)")})}),
       round({table("public.orders",
                    {changed("id=7", "(7,4)", "(7,2)"), changed("id=8", "(8,2)", "(8,1)")})})},
      false);
  EXPECT_FALSE(v.ok);
  ASSERT_EQ(v.real.size(), 1u);
  EXPECT_EQ(v.real[0], "public.orders id=7: changed (source (7,4), target (7,2))");
  EXPECT_EQ(v.tracking, 1);  // id=8
  EXPECT_TRUE(v.recheck.empty());
}

TEST(Settle, ARowThatDiffersOnlySinceTheLastComparisonWasWrittenSince) {
  const SettleVerdict v =
      settle({round({table("public.orders", {changed("id=7", "(7,3)", "(7,2)")})}),
              round({table("public.orders", {changed("id=9", "(9,1)", "(9,0)")})})},
             false);
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.in_flight, 2);  // id=7 arrived; id=9 was written since
}

TEST(Settle, ARowMissingOnTheTargetAfterTheCatchUpIsReal) {
  db::RowDifference missing;
  missing.kind = db::RowDifference::Kind::kMissing;
  missing.key = "id=9";
  missing.source_row = "(9,1)";
  db::TableVerdict t = table("public.orders", {});
  t.missing = 1;
  t.differences = {missing};
  const SettleVerdict v = settle({round({t}), round({t})}, false);
  ASSERT_EQ(v.real.size(), 1u);
  EXPECT_EQ(v.real[0], "public.orders id=9: missing on the target");
}

TEST(Settle, AHotRowWhoseTargetKeepsTakingTheSourcesValuesIsTrackingAndPasses) {
  // A counter the source writes faster than the rounds go: each comparison
  // finds the target a step behind, but a step further than the last time.
  std::vector<db::VerifyReport> rounds;
  for (int i = 0; i < kMaxVerifyRounds; ++i) {
    rounds.push_back(round(
        {table("public.customers", {changed("id=c1", "(c1," + std::to_string(10 + 2 * i + 1) + ")",
                                            "(c1," + std::to_string(10 + 2 * i) + ")")})}));
  }
  const SettleVerdict v = settle(rounds, true);
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.tracking, 1);
  EXPECT_TRUE(v.real.empty());
}

TEST(Settle, RowsCountedButNotListedAndStillThereAtTheEndAreUnsettled) {
  db::TableVerdict t = table("public.orders", {});
  t.missing = 500;  // counted, none listed
  SettleVerdict v = settle({round({t}), round({t})}, false);
  EXPECT_TRUE(v.real.empty());
  EXPECT_EQ(v.recheck, std::set<std::string>{"public.orders"});
  v = settle({round({t}), round({t})}, true);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.unsettled, 500);
}

TEST(Settle, SchemaDifferencesAndTablesThatCannotBeComparedAreRealAtOnce) {
  db::VerifyReport r = round({});
  r.schema.push_back({"column", "public.orders.note", "text", ""});
  db::TableVerdict broken;
  broken.table = "public.audit";
  broken.problem = "missing on the target";
  r.tables.push_back(broken);
  const SettleVerdict v = settle({r}, false);
  EXPECT_FALSE(v.ok);
  ASSERT_EQ(v.real.size(), 2u);
  EXPECT_EQ(v.real[0], "column public.orders.note: source text, target (none)");
  EXPECT_EQ(v.real[1], "public.audit: missing on the target");
}

}  // namespace
}  // namespace ferry::run
