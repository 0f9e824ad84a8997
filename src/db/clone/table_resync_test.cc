#include "db/clone/table_resync.h"

#include <gtest/gtest.h>

namespace ferry::db {
namespace {

std::shared_ptr<const TargetRelation> rel(uint32_t id, const std::string& display) {
  auto r = std::make_shared<TargetRelation>();
  r->id = id;
  r->display = display;
  return r;
}

Change insert(const std::shared_ptr<const TargetRelation>& r, const std::string& value) {
  Change c;
  c.kind = Change::Kind::kInsert;
  c.relation = r;
  c.new_tuple.push_back({});
  c.new_tuple.back().text = value;
  return c;
}

Change truncate(std::vector<std::shared_ptr<const TargetRelation>> tables) {
  Change c;
  c.kind = Change::Kind::kTruncate;
  c.truncated = std::move(tables);
  return c;
}

ResyncRecord request(std::vector<std::string> tables) {
  ResyncRecord r;
  r.id = 1;
  r.tables = std::move(tables);
  return r;
}

const auto kLog = rel(1, "public.log");
const auto kOther = rel(2, "public.other");

TEST(TableResync, DivertTakesOnlyTheHeldTablesChanges) {
  TableResync resync({}, request({"public.log"}));
  SourceTransaction t;
  t.begin.final_lsn = 100;
  t.changes.push_back(insert(kLog, "a"));
  t.changes.push_back(insert(kOther, "b"));
  t.changes.push_back(insert(kLog, "c"));
  resync.divert(t);
  ASSERT_EQ(t.changes.size(), 1u);
  EXPECT_EQ(t.changes[0].relation->display, "public.other");
  EXPECT_EQ(resync.held(), 2u);
}

TEST(TableResync, ATruncateOfSeveralTablesIsSplit) {
  TableResync resync({}, request({"public.log"}));
  Change both = truncate({kLog, kOther});
  EXPECT_FALSE(resync.divert(both, 100));  // public.other's part goes on
  EXPECT_TRUE(both.partial);
  ASSERT_EQ(both.truncated.size(), 1u);
  EXPECT_EQ(both.truncated[0]->display, "public.other");
  Change only = truncate({kLog});
  EXPECT_TRUE(resync.divert(only, 101));
  EXPECT_EQ(resync.held(), 2u);
}

TEST(TableResync, AHeldTruncateNeverCascades) {
  // Applied after the copy, a CASCADE would empty tables applied since; the
  // source's message already names every table it emptied.
  TableResync resync({}, request({"public.log"}));
  Change both = truncate({kLog, kOther});
  both.cascade = true;
  EXPECT_FALSE(resync.divert(both, 100));
  auto out = resync.changes_to_apply();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].cascade);
  // Both parts empty their tables with DELETE: no cascade, and no refusal
  // for a foreign key between the parts.
  EXPECT_TRUE(out[0].partial);
  EXPECT_TRUE(both.partial);
  EXPECT_FALSE(both.cascade);
}

TEST(TableResync, TablesLeftDivergedGetNoneOfTheirHeldChanges) {
  std::vector<HeldChange> held;
  held.emplace_back(0x100, insert(kLog, "1"));
  held.emplace_back(0x200, insert(kOther, "2"));
  held.emplace_back(0x300, truncate({kLog, kOther}));
  auto out =
      held_changes_to_apply(std::move(held), {}, {{"public.log", "its copy's commit is unknown"}});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].relation->display, "public.other");
  ASSERT_EQ(out[1].truncated.size(), 1u);
  EXPECT_EQ(out[1].truncated[0]->display, "public.other");
}

TEST(TableResync, ChangesBeforeTheCopysSnapshotAreLeftOut) {
  std::vector<HeldChange> held;
  held.emplace_back(0x100, insert(kLog, "before"));
  held.emplace_back(0x200, insert(kLog, "at"));
  held.emplace_back(0x300, insert(kLog, "after"));
  auto out = held_changes_to_apply(std::move(held), {{"public.log", "0/200"}});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].new_tuple[0].text, "at");
  EXPECT_EQ(out[1].new_tuple[0].text, "after");
}

TEST(TableResync, ATableTheCopyDidNotCommitGetsEveryHeldChange) {
  // A failed copy leaves the target as it was: every held change applies, in order.
  std::vector<HeldChange> held;
  held.emplace_back(0x100, insert(kLog, "1"));
  held.emplace_back(0x300, truncate({kLog, kOther}));
  held.emplace_back(0x400, insert(kOther, "2"));
  auto out = held_changes_to_apply(std::move(held), {{"public.other", "0/350"}});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].new_tuple[0].text, "1");
  // The truncate keeps public.log only: public.other was copied after it.
  ASSERT_EQ(out[1].truncated.size(), 1u);
  EXPECT_EQ(out[1].truncated[0]->display, "public.log");
  EXPECT_EQ(out[2].new_tuple[0].text, "2");
}

TEST(TableResync, HeldChangesBeyondTheBoundAreDroppedNotApplied) {
  TableResyncOptions o;
  o.max_held_bytes = 200;
  TableResync resync(o, request({"public.log"}));
  for (int i = 0; i < 10; ++i) {
    Change c = insert(kLog, std::string(50, 'x'));
    EXPECT_TRUE(resync.divert(c, 100 + i));
  }
  EXPECT_LT(resync.held(), 10u);
  EXPECT_GT(resync.dropped(), 0u);
  // Nothing of a resync that dropped changes is applied: the table is reported diverged.
  EXPECT_TRUE(resync.changes_to_apply().empty());
}

}  // namespace
}  // namespace ferry::db
