// The change applier on real servers: the fixture is cloned with a slot, the
// source takes a mixed write load, the slot's stream is applied to the target,
// and ferry db verify finds every row equal. Streaming everything again (as
// after a crash before the slot heard of the progress) applies nothing twice:
// the target's replication origin knows what it committed.
#include "db/change_applier.h"
#include "pg/connection.h"
#include "pg/replication_stream.h"
#include "pg_harness.h"

namespace {

using namespace pgtest;
using namespace ferry;
using ferry::YamlNode;

class ApplyTest : public PgTest {
 protected:
  // Streams from the slot and applies until the marker message's transaction
  // has gone by; `confirm` tells the slot after each commit.
  void stream_and_apply(db::ChangeApplier& applier, bool confirm) {
    auto info = pg::parse_conninfo(source(), "--source");
    ASSERT_TRUE(info);
    auto stream = pg::ReplicationStream::start(*info, slot_, "ferry");
    ASSERT_TRUE(stream) << stream.error().to_string();
    bool marker_seen = false;
    for (int idle = 0; idle < 100;) {
      auto frame = stream->next(100);
      ASSERT_TRUE(frame) << frame.error().to_string();
      if (!*frame) {
        ++idle;
        continue;
      }
      auto m = pg::decode_pgoutput((*frame)->payload);
      ASSERT_TRUE(m) << m.error().to_string();
      auto ok = applier.apply(*m);
      ASSERT_TRUE(ok) << ok.error().to_string();
      if (const auto* l = std::get_if<pg::LogicalMessage>(&*m))
        marker_seen |= l->prefix == "ferry-test";
      if (std::holds_alternative<pg::CommitMessage>(*m)) {
        if (confirm) {
          ASSERT_TRUE(stream->confirm(applier.applied()));
        }
        if (marker_seen) return;
      }
    }
    FAIL() << "the marker transaction did not arrive within 10 s";
  }
};

TEST_F(ApplyTest, MixedWritesAppliedExactlyOnce) {
  make_source();
  make_target();
  Outcome cloned = run_ferry({"db", "clone", "--source", source(), "--target", target(), "--dir",
                              dir_.string(), "--slot-name", slot_});
  ASSERT_EQ(cloned.status, 0) << cloned.err;
  // The write load, after the clone's snapshot: all of it is in the slot.
  psql(source(),
       "INSERT INTO public.big_events (occurred_at, user_id, kind, score) "
       "SELECT now(), i, 'login', i FROM generate_series(1, 500) i");
  psql(source(), "UPDATE public.big_events SET score = score + 1 WHERE id % 1000 = 7");
  psql(source(), "DELETE FROM public.big_events WHERE id % 1000 = 9");
  // Only the small column changes: the TOASTed body is not sent.
  psql(source(), "UPDATE public.wide_toast SET blob = NULL WHERE id <= 20");
  psql(source(), "UPDATE public.uuid_keyed SET id = gen_random_uuid() WHERE seq <= 5");
  psql(source(), "BEGIN; DELETE FROM public.big_events WHERE id <= 100; ROLLBACK");
  psql(source(),
       "BEGIN; INSERT INTO public.empty_table (note) VALUES ('a'), ('b'); "
       "UPDATE public.empty_table SET note = 'c' WHERE note = 'a'; COMMIT");
  psql(source(), "TRUNCATE public.unlogged_cache");
  psql(source(), "SELECT pg_logical_emit_message(true, 'ferry-test', 'done')");

  pg::ConnInfo target_info = *pg::parse_conninfo(target(), "--target");
  {
    auto conn = pg::Connection::open(target_info);
    ASSERT_TRUE(conn);
    auto applier = db::ChangeApplier::open(*conn, "ferry_" + slot_);
    ASSERT_TRUE(applier) << applier.error().to_string();
    stream_and_apply(*applier, /*confirm=*/false);
    EXPECT_GE(applier->rows_applied(), 500 + 20);
  }
  // Every table the stream carries is equal; unlogged_cache is not in the WAL,
  // so its TRUNCATE never reaches the stream (clone and check say so).
  auto expect_equal_but_unlogged = [&] {
    Outcome r =
        run_ferry({"db", "verify", "--source", source(), "--target", target(), "--skip",
                   "sequences", "--skip", "schema", "--skip", "settings", "--format", "json"});
    EXPECT_EQ(r.status, 1) << r.out;
    const YamlNode report = parse_json(r.out);
    const YamlNode* tables = report.find("tables");
    ASSERT_TRUE(tables);
    for (size_t i = 0; i < tables->size(); ++i) {
      const std::string table = field((*tables)[i], "table");
      EXPECT_EQ(field((*tables)[i], "equal"), table == "public.unlogged_cache" ? "false" : "true")
          << table;
    }
  };
  expect_equal_but_unlogged();

  // The slot was never told: it sends everything again, and the origin's
  // progress makes the applier skip all of it.
  auto conn = pg::Connection::open(target_info);
  ASSERT_TRUE(conn);
  auto again = db::ChangeApplier::open(*conn, "ferry_" + slot_);
  ASSERT_TRUE(again);
  EXPECT_GT(again->applied(), 0u);
  stream_and_apply(*again, /*confirm=*/true);
  EXPECT_EQ(again->transactions_applied(), 0);
  EXPECT_EQ(again->rows_applied(), 0);
  expect_equal_but_unlogged();
}

}  // namespace
