#include "db/follow/transaction_assembler.h"

#include <gtest/gtest.h>

namespace ferry::db {
namespace {

pg::RelationMessage relation(uint32_t id, const std::string& name, char identity = 'd') {
  pg::RelationMessage r;
  r.relation_id = id;
  r.schema = "public";
  r.name = name;
  r.replica_identity = identity;
  r.columns = {{true, "id", 23, -1}, {false, "v", 25, -1}};
  return r;
}

pg::Tuple row(const std::string& id, const std::string& v) {
  return {{pg::TupleValue::Kind::kText, id}, {pg::TupleValue::Kind::kText, v}};
}

pg::InsertMessage insert(uint32_t rel, const std::string& id) {
  return pg::InsertMessage{rel, row(id, "x")};
}

// Feeds one transaction (Begin at `lsn`, then `changes`, then Commit) and
// returns every event.
template <typename... Changes>
std::vector<AssemblerEvent> transaction(TransactionAssembler& a, pg::Lsn lsn, Changes... changes) {
  std::vector<AssemblerEvent> out;
  auto feed = [&](pg::PgOutputMessage m) {
    auto e = a.feed(std::move(m));
    EXPECT_TRUE(e) << e.error().to_string();
    if (e && e->kind != AssemblerEvent::Kind::kNothing) out.push_back(std::move(*e));
  };
  feed(pg::BeginMessage{lsn, 0, 1});
  (feed(changes), ...);
  feed(pg::CommitMessage{lsn, lsn + 8, 0});
  return out;
}

TEST(TransactionAssembler, WholeTransactionsNumberedInOrder) {
  TransactionAssembler a(0, {}, 1 << 20);
  ASSERT_TRUE(a.feed(relation(1, "t")));
  auto first = transaction(a, 100, insert(1, "1"), insert(1, "2"));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].kind, AssemblerEvent::Kind::kTransaction);
  EXPECT_EQ(first[0].transaction->seq, 1);
  EXPECT_EQ(first[0].transaction->changes.size(), 2u);
  EXPECT_EQ(first[0].transaction->changes[0].relation->qualified, "\"public\".\"t\"");
  auto second = transaction(a, 200, insert(1, "3"));
  EXPECT_EQ(second[0].transaction->seq, 2);
}

TEST(TransactionAssembler, SkipsWhatTheTargetAlreadyHas) {
  // Applied up to the end of the commit at 100 (108): 100 is skipped, 108 is not.
  TransactionAssembler a(108, {}, 1 << 20);
  ASSERT_TRUE(a.feed(relation(1, "t")));
  EXPECT_TRUE(transaction(a, 100, insert(1, "1")).empty());
  EXPECT_EQ(a.transactions_skipped(), 1);
  EXPECT_EQ(transaction(a, 108, insert(1, "2")).size(), 1u);
}

TEST(TransactionAssembler, LeavesOutFerrysOwnApplyFromTheOtherSide) {
  TransactionAssembler a(0, {}, 1 << 20);
  ASSERT_TRUE(a.feed(relation(1, "t")));
  EXPECT_TRUE(
      transaction(a, 100, pg::OriginMessage{5, "ferry:shop:ferry_reverse:0"}, insert(1, "1"))
          .empty());
  EXPECT_EQ(transaction(a, 200, pg::OriginMessage{5, "someone else"}, insert(1, "1")).size(), 1u);
}

TEST(TransactionAssembler, DropsChangesAlreadyInARecopiedTable) {
  // public.t was copied (after a resume) at snapshot 500: earlier commits are in it.
  TransactionAssembler a(0, {{"public.t", 500}, {"public.u", 0}}, 1 << 20);
  ASSERT_TRUE(a.feed(relation(1, "t")));
  ASSERT_TRUE(a.feed(relation(2, "u")));
  auto early = transaction(a, 400, insert(1, "1"), insert(2, "1"));
  ASSERT_EQ(early.size(), 1u);
  ASSERT_EQ(early[0].transaction->changes.size(), 1u);
  EXPECT_EQ(early[0].transaction->changes[0].relation->display, "public.u");
  auto late = transaction(a, 600, insert(1, "2"));
  EXPECT_EQ(late[0].transaction->changes.size(), 1u);
  pg::TruncateMessage both{false, false, {1, 2}};
  auto truncated = transaction(a, 450, both);
  ASSERT_EQ(truncated[0].transaction->changes.size(), 1u);
  EXPECT_EQ(truncated[0].transaction->changes[0].truncated.size(), 1u);
}

TEST(TransactionAssembler, LargeTransactionsStreamInPieces) {
  TransactionAssembler a(0, {}, 200);
  ASSERT_TRUE(a.feed(relation(1, "t")));
  auto events = transaction(a, 100, insert(1, "1"), insert(1, "2"), insert(1, "3"), insert(1, "4"),
                            insert(1, "5"));
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.front().kind, AssemblerEvent::Kind::kLargeBegin);
  EXPECT_EQ(events.back().kind, AssemblerEvent::Kind::kLargeCommit);
  size_t changes = events.front().transaction->changes.size();
  for (size_t i = 1; i + 1 < events.size(); ++i) {
    EXPECT_EQ(events[i].kind, AssemblerEvent::Kind::kLargeChange);
    ++changes;
  }
  EXPECT_EQ(changes, 5u);
  EXPECT_EQ(events.back().transaction->seq, 1);
}

TEST(TransactionAssembler, KeylessTablesAndMarkers) {
  TransactionAssembler a(0, {}, 1 << 20);
  auto r = a.feed(relation(1, "log", 'f'));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, AssemblerEvent::Kind::kRelation);
  EXPECT_TRUE(r->relation->keyless);
  EXPECT_FALSE(r->relation->insert_only);
  // No key column and no FULL identity: only its inserts are published.
  pg::RelationMessage history = relation(2, "history");
  for (auto& c : history.columns) c.key = false;
  auto h = a.feed(std::move(history));
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->relation->insert_only);
  EXPECT_FALSE(h->relation->keyless);
  auto keyed = a.feed(relation(3, "accounts"));
  EXPECT_FALSE(keyed->relation->insert_only || keyed->relation->keyless);
  auto marker = a.feed(pg::LogicalMessage{false, 900, "ferry-switch", ""});
  ASSERT_TRUE(marker);
  EXPECT_EQ(marker->kind, AssemblerEvent::Kind::kMarker);
  EXPECT_EQ(marker->marker_lsn, 900u);
  auto other = a.feed(pg::LogicalMessage{false, 901, "app", ""});
  EXPECT_EQ(other->kind, AssemblerEvent::Kind::kNothing);
}

TEST(TransactionAssembler, ChangeBeforeItsRelationIsAnError) {
  TransactionAssembler a(0, {}, 1 << 20);
  ASSERT_TRUE(a.feed(pg::BeginMessage{100, 0, 1}));
  auto e = a.feed(insert(7, "1"));
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("relation 7"), std::string::npos);
}

}  // namespace
}  // namespace ferry::db
