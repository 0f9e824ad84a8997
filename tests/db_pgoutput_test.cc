// ferry's pgoutput decoder and replication stream on what a real PostgreSQL
// 15 server sends: changes made on the fixture are read back from a pgoutput
// slot, through pg_logical_slot_get_binary_changes() and through the
// walsender protocol, and decoded message by message.
#include <map>

#include "pg/conninfo.h"
#include "pg/pgoutput.h"
#include "pg/replication_stream.h"
#include "pg_harness.h"

namespace {

using namespace pgtest;
using namespace ferry::pg;

std::string unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

class PgOutputTest : public PgTest {};

TEST_F(PgOutputTest, DecodesWhatTheServerSends) {
  make_source();
  const std::string db = source();
  psql(db, "CREATE PUBLICATION p_" + name_ + " FOR TABLE public.wide_toast, public.empty_table");
  psql(db, "SELECT pg_create_logical_replication_slot('" + slot_ + "', 'pgoutput')");
  psql(db, "INSERT INTO public.wide_toast VALUES (100000, repeat('x', 10), NULL)");
  // Only blob changes: the TOASTed body is not sent again.
  psql(db, "UPDATE public.wide_toast SET blob = NULL WHERE id = 1");
  psql(db, "BEGIN; DELETE FROM public.wide_toast WHERE id = 2; ROLLBACK");
  psql(db, "DELETE FROM public.wide_toast WHERE id = 3");
  psql(db, "SELECT pg_logical_emit_message(true, 'ferry', 'hello')");
  psql(db, "TRUNCATE public.empty_table");
  const std::string hex = psql(db,
                               "SELECT string_agg(encode(data, 'hex'), ',' ORDER BY lsn) FROM "
                               "pg_logical_slot_get_binary_changes('" +
                                   slot_ +
                                   "', NULL, NULL, 'proto_version', '1', "
                                   "'publication_names', 'p_" +
                                   name_ + "', 'messages', 'true')");
  ASSERT_FALSE(hex.empty());

  std::vector<PgOutputMessage> messages;
  for (size_t at = 0; at <= hex.size();) {
    const auto comma = std::min(hex.find(',', at), hex.size());
    auto m = decode_pgoutput(unhex(hex.substr(at, comma - at)));
    ASSERT_TRUE(m) << m.error().to_string();
    messages.push_back(std::move(*m));
    at = comma + 1;
  }
  std::map<uint32_t, std::string> relations;
  std::vector<std::string> seen;  // a line per change
  int begins = 0, commits = 0;
  for (const auto& m : messages) {
    if (std::holds_alternative<BeginMessage>(m)) ++begins;
    if (std::holds_alternative<CommitMessage>(m)) ++commits;
    if (const auto* r = std::get_if<RelationMessage>(&m)) {
      relations[r->relation_id] = r->schema + "." + r->name;
      if (r->name == "wide_toast") {
        ASSERT_EQ(r->columns.size(), 3u);
        EXPECT_TRUE(r->columns[0].key);
        EXPECT_EQ(r->columns[1].name, "body");
        EXPECT_EQ(r->columns[1].type_oid, 25u);  // text
      }
    }
    if (const auto* i = std::get_if<InsertMessage>(&m)) {
      ASSERT_EQ(i->new_tuple.size(), 3u);
      seen.push_back("insert " + i->new_tuple[0].text + " " + i->new_tuple[1].text +
                     (i->new_tuple[2].kind == TupleValue::Kind::kNull ? " null" : " ?"));
    }
    if (const auto* u = std::get_if<UpdateMessage>(&m)) {
      EXPECT_FALSE(u->old_key) << "the key did not change";
      seen.push_back(
          "update " + u->new_tuple[0].text +
          (u->new_tuple[1].kind == TupleValue::Kind::kUnchangedToast ? " unchanged" : " sent"));
    }
    if (const auto* d = std::get_if<DeleteMessage>(&m)) {
      ASSERT_TRUE(d->old_key);
      seen.push_back("delete " + (*d->old_key)[0].text);
    }
    if (const auto* l = std::get_if<LogicalMessage>(&m))
      seen.push_back("message " + l->prefix + " " + l->content);
    if (const auto* t = std::get_if<TruncateMessage>(&m)) {
      ASSERT_EQ(t->relation_ids.size(), 1u);
      seen.push_back("truncate " + relations[t->relation_ids[0]]);
    }
  }
  // The rolled-back delete of row 2 never appears; every transaction is whole.
  EXPECT_EQ(seen, (std::vector<std::string>{"insert 100000 xxxxxxxxxx null", "update 1 unchanged",
                                            "delete 3", "message ferry hello",
                                            "truncate public.empty_table"}));
  EXPECT_EQ(begins, 5);
  EXPECT_EQ(commits, 5);
  psql(db, "DROP PUBLICATION p_" + name_);
}

// Streams transactions until `commits` of them are in; returns every message.
std::vector<PgOutputMessage> read_transactions(ReplicationStream& stream, int commits) {
  std::vector<PgOutputMessage> out;
  for (int waited = 0; commits > 0 && waited < 100;) {
    auto frame = stream.next(100);
    EXPECT_TRUE(frame) << frame.error().to_string();
    if (!frame) break;
    if (!*frame) {
      ++waited;
      continue;
    }
    auto m = decode_pgoutput((*frame)->payload);
    EXPECT_TRUE(m) << m.error().to_string();
    if (!m) break;
    if (std::holds_alternative<CommitMessage>(*m)) --commits;
    out.push_back(std::move(*m));
  }
  EXPECT_EQ(commits, 0) << "transactions did not arrive within 10 s";
  return out;
}

const CommitMessage* last_commit(const std::vector<PgOutputMessage>& messages) {
  const CommitMessage* c = nullptr;
  for (const auto& m : messages)
    if (const auto* x = std::get_if<CommitMessage>(&m)) c = x;
  return c;
}

// The slot releases exactly what the receiver confirms: after confirming the
// first of two transactions and reconnecting, only the second comes again.
TEST_F(PgOutputTest, StreamResumesAfterWhatWasConfirmed) {
  make_source();
  const std::string db = source();
  psql(db, "CREATE PUBLICATION p_" + name_ + " FOR TABLE public.empty_table");
  psql(db, "SELECT pg_create_logical_replication_slot('" + slot_ + "', 'pgoutput')");
  psql(db, "INSERT INTO public.empty_table (note) VALUES ('first')");
  psql(db, "INSERT INTO public.empty_table (note) VALUES ('second')");
  auto info = parse_conninfo(db, "--source");
  ASSERT_TRUE(info);
  Lsn first_end = 0;
  {
    auto stream = ReplicationStream::start(*info, slot_, "p_" + name_);
    ASSERT_TRUE(stream) << stream.error().to_string();
    const auto first = read_transactions(*stream, 1);
    const auto* commit = last_commit(first);
    ASSERT_TRUE(commit);
    first_end = commit->end_lsn;
    bool saw_first = false;
    for (const auto& m : first)
      if (const auto* i = std::get_if<InsertMessage>(&m))
        saw_first = i->new_tuple[1].text == "first";
    EXPECT_TRUE(saw_first);
    ASSERT_TRUE(stream->confirm(first_end));
    EXPECT_GE(stream->server_end(), first_end);
  }
  // The walsender records the confirmation when the stream closes.
  std::string confirmed;
  for (int i = 0; i < 50; ++i) {
    confirmed =
        psql(db, "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '" +
                     slot_ + "' AND NOT active");
    if (!confirmed.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(confirmed, lsn_text(first_end));
  auto again = ReplicationStream::start(*info, slot_, "p_" + name_);
  ASSERT_TRUE(again) << again.error().to_string();
  const auto second = read_transactions(*again, 1);
  std::vector<std::string> notes;
  for (const auto& m : second)
    if (const auto* i = std::get_if<InsertMessage>(&m)) notes.push_back(i->new_tuple[1].text);
  EXPECT_EQ(notes, std::vector<std::string>{"second"});
}

TEST_F(PgOutputTest, AMissingSlotIsAClearError) {
  make_source();
  auto info = parse_conninfo(source(), "--source");
  ASSERT_TRUE(info);
  auto stream = ReplicationStream::start(*info, "no_such_slot_" + name_, "p");
  ASSERT_FALSE(stream);
  EXPECT_TRUE(has(stream.error().to_string(), "no_such_slot_" + name_))
      << stream.error().to_string();
}

}  // namespace
