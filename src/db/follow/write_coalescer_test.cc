// The write coalescer against fake outputs: which changes become one
// set-based statement, how many rows each must change, and the order in
// which everything reaches the target.
#include "db/follow/write_coalescer.h"

#include <gtest/gtest.h>

#include <deque>

namespace ferry::db {
namespace {

using Kind = Change::Kind;
using Value = pg::TupleValue;

constexpr uint32_t kInt4 = 23, kText = 25, kJsonb = 3802, kUserType = 70000;

std::shared_ptr<TargetRelation> table(uint32_t id,
                                      std::vector<uint32_t> types = {kInt4, kText, kText}) {
  auto r = std::make_shared<TargetRelation>();
  r->id = id;
  r->display = "public.t" + std::to_string(id);
  r->qualified = "\"public\".\"t" + std::to_string(id) + "\"";
  const char* names[] = {"id", "name", "note"};
  for (size_t i = 0; i < types.size(); ++i) {
    r->names.emplace_back(names[i]);
    r->columns.push_back("\"" + std::string(names[i]) + "\"");
    r->key.push_back(i == 0);
  }
  r->types = std::move(types);
  return r;
}

Value text(std::string v) { return {Value::Kind::kText, std::move(v)}; }
const Value kToast{Value::Kind::kUnchangedToast, ""};

// What the coalescer wrote, in order: "single <kind> <id>" or the SQL of a
// coalesced statement followed by " -- rows N".
class Recorder {
 public:
  WriteCoalescer coalescer{[this](const Change& c) { single(c); },
                           [this](std::string sql, int64_t rows) {
                             out.push_back(sql + " -- rows " + std::to_string(rows));
                           }};
  std::vector<std::string> out;

  // Changes must outlive finish(): the coalescer keeps pointers to them.
  const Change& keep(Change c) { return held_.emplace_back(std::move(c)); }
  void insert(const std::shared_ptr<TargetRelation>& t, int id, std::string name = "n") {
    coalescer.add(keep(make(Kind::kInsert, t, {text(std::to_string(id)), text(name), text("x")})));
  }
  void update(const std::shared_ptr<TargetRelation>& t, int id, Value name, Value note) {
    coalescer.add(keep(make(Kind::kUpdate, t, {text(std::to_string(id)), name, note})));
  }
  void remove(const std::shared_ptr<TargetRelation>& t, int id) {
    Change c = make(Kind::kDelete, t, {});
    c.old_key = pg::Tuple{text(std::to_string(id)), {}, {}};
    coalescer.add(keep(std::move(c)));
  }

 private:
  static Change make(Kind kind, const std::shared_ptr<TargetRelation>& t, pg::Tuple tuple) {
    Change c;
    c.kind = kind;
    c.relation = t;
    c.new_tuple = std::move(tuple);
    return c;
  }
  void single(const Change& c) {
    static const char* kinds[] = {"insert", "update", "delete", "truncate"};
    const pg::Tuple& t = c.kind == Kind::kDelete ? *c.old_key : c.new_tuple;
    out.push_back(std::string("single ") + kinds[static_cast<int>(c.kind)] +
                  (c.kind == Kind::kTruncate ? "" : " " + t[0].text));
  }
  std::deque<Change> held_;
};

bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(WriteCoalescer, ConsecutiveInsertsBecomeOneStatementThatMustInsertEveryRow) {
  auto t = table(1);
  Recorder r;
  for (int id = 1; id <= 3; ++id) r.insert(t, id);
  r.coalescer.finish();
  ASSERT_EQ(r.out.size(), 1u);
  EXPECT_TRUE(has(r.out[0],
                  "INSERT INTO \"public\".\"t1\" (\"id\", \"name\", \"note\") "
                  "OVERRIDING SYSTEM VALUE VALUES ('1', 'n', 'x'), ('2', 'n', 'x'), "
                  "('3', 'n', 'x') -- rows 3"))
      << r.out[0];
}

TEST(WriteCoalescer, ALoneChangeStaysItsOwnStatement) {
  auto t = table(1);
  Recorder r;
  r.insert(t, 7);
  r.coalescer.finish();
  EXPECT_EQ(r.out, (std::vector<std::string>{"single insert 7"}));
}

TEST(WriteCoalescer, UpdatesOfTheSameColumnsMergeAndARowKeepsItsLastValues) {
  auto t = table(1);
  Recorder r;
  r.update(t, 1, text("first"), kToast);
  r.update(t, 2, text("b"), kToast);
  r.update(t, 1, text("last"), kToast);
  r.coalescer.finish();
  ASSERT_EQ(r.out.size(), 1u);
  const std::string& sql = r.out[0];
  EXPECT_TRUE(has(sql,
                  "UPDATE ONLY \"public\".\"t1\" AS x SET \"name\" = v.\"name\" FROM "
                  "json_populate_recordset(NULL::\"public\".\"t1\""))
      << sql;
  EXPECT_TRUE(has(sql, "WHERE x.\"id\" = v.\"id\"")) << sql;
  // Two rows must change: row 1 once, with its last values.
  EXPECT_TRUE(has(sql, "-- rows 2")) << sql;
  EXPECT_TRUE(has(sql, "\"last\"")) << sql;
  EXPECT_FALSE(has(sql, "\"first\"")) << sql;
  // An unchanged TOAST value is not set.
  EXPECT_FALSE(has(sql, "\"note\" = v.")) << sql;
}

TEST(WriteCoalescer, UpdatesOfOtherColumnsStartANewRunInOrder) {
  auto t = table(1);
  Recorder r;
  r.update(t, 1, text("a"), kToast);
  r.update(t, 2, text("b"), kToast);
  r.update(t, 3, kToast, text("note"));
  r.update(t, 4, kToast, text("note"));
  r.coalescer.finish();
  ASSERT_EQ(r.out.size(), 2u);
  EXPECT_TRUE(has(r.out[0], "SET \"name\" = v.\"name\"")) << r.out[0];
  EXPECT_TRUE(has(r.out[1], "SET \"note\" = v.\"note\"")) << r.out[1];
}

TEST(WriteCoalescer, AnUpdateThatSetsNothingIsDropped) {
  auto t = table(1);
  Recorder r;
  r.update(t, 1, kToast, kToast);
  r.coalescer.finish();
  EXPECT_TRUE(r.out.empty());
}

TEST(WriteCoalescer, DeletesByKeyBecomeOneDeleteUsingTheirKeys) {
  auto t = table(1);
  Recorder r;
  r.remove(t, 1);
  r.remove(t, 2);
  r.remove(t, 2);
  r.coalescer.finish();
  ASSERT_EQ(r.out.size(), 1u);
  EXPECT_TRUE(has(r.out[0],
                  "DELETE FROM ONLY \"public\".\"t1\" AS x USING "
                  "json_populate_recordset("))
      << r.out[0];
  EXPECT_TRUE(has(r.out[0], "-- rows 2")) << r.out[0];
}

TEST(WriteCoalescer, AKindChangeWritesOutTheRunBeforeIt) {
  auto t = table(1);
  Recorder r;
  r.insert(t, 1);
  r.insert(t, 2);
  r.remove(t, 1);
  r.insert(t, 3);
  r.coalescer.finish();
  ASSERT_EQ(r.out.size(), 3u);
  EXPECT_TRUE(has(r.out[0], "INSERT INTO") && has(r.out[0], "-- rows 2")) << r.out[0];
  EXPECT_EQ(r.out[1], "single delete 1");
  EXPECT_EQ(r.out[2], "single insert 3");
}

TEST(WriteCoalescer, AKeyChangeOrAWholeRowMatchStaysOneStatementInItsPlace) {
  auto t = table(1);
  auto keyless = table(2);
  keyless->keyless = true;
  Recorder r;
  r.insert(t, 1);
  r.insert(t, 2);
  Change moved;
  moved.kind = Kind::kUpdate;
  moved.relation = t;
  moved.new_tuple = {text("20"), text("n"), text("x")};
  moved.old_key = pg::Tuple{text("2"), {}, {}};
  r.coalescer.add(r.keep(std::move(moved)));
  r.update(keyless, 5, text("a"), text("b"));
  r.update(keyless, 6, text("a"), text("b"));
  r.coalescer.finish();
  ASSERT_EQ(r.out.size(), 4u);
  EXPECT_TRUE(has(r.out[0], "INSERT INTO")) << r.out[0];
  EXPECT_EQ(r.out[1], "single update 20");
  EXPECT_EQ(r.out[2], "single update 5");
  EXPECT_EQ(r.out[3], "single update 6");
}

TEST(WriteCoalescer, ATruncateWritesOutEveryTableFirst) {
  auto a = table(1), b = table(2);
  Recorder r;
  r.insert(a, 1);
  r.insert(a, 2);
  r.insert(b, 3);
  Change truncate;
  truncate.kind = Kind::kTruncate;
  truncate.truncated = {a};
  r.coalescer.add(r.keep(std::move(truncate)));
  r.insert(a, 4);
  r.coalescer.finish();
  ASSERT_EQ(r.out.size(), 4u);
  EXPECT_TRUE(has(r.out[0], "\"t1\"") && has(r.out[0], "-- rows 2")) << r.out[0];
  EXPECT_EQ(r.out[1], "single insert 3");
  EXPECT_EQ(r.out[2], "single truncate");
  EXPECT_EQ(r.out[3], "single insert 4");
}

TEST(WriteCoalescer, TablesOfUserDefinedTypesKeepOneStatementPerRow) {
  auto t = table(1, {kInt4, kUserType, kText});
  Recorder r;
  r.update(t, 1, text("a"), kToast);
  r.update(t, 2, text("b"), kToast);
  r.coalescer.finish();
  EXPECT_EQ(r.out, (std::vector<std::string>{"single update 1", "single update 2"}));
}

TEST(WriteCoalescer, AJsonValueTravelsAsJsonNotAsAString) {
  auto t = table(1, {kInt4, kJsonb, kText});
  Recorder r;
  r.update(t, 1, text("{\"a\": 1}"), kToast);
  r.update(t, 2, text("[2]"), kToast);
  r.coalescer.finish();
  ASSERT_EQ(r.out.size(), 1u);
  EXPECT_TRUE(has(r.out[0], "\"name\": {\"a\": 1}")) << r.out[0];
  EXPECT_TRUE(has(r.out[0], "\"name\": [2]")) << r.out[0];
}

}  // namespace
}  // namespace ferry::db
