#include "db/change_applier.h"

#include <fmt/format.h>

#include "pg/connection.h"

namespace ferry::db {

namespace {

// Statement parameters for the values of a tuple; NULLs are written as SQL
// NULL in the statement itself, so a parameter is always text.
struct Params {
  std::vector<std::string> values;
  std::string next(const std::string& value) {
    values.push_back(value);
    return "$" + std::to_string(values.size());
  }
};

}  // namespace

Result<ChangeApplier> ChangeApplier::open(pg::Connection& target, const std::string& origin) {
  auto exists = target.query("SELECT pg_replication_origin_oid($1) IS NOT NULL", {origin});
  if (!exists) return tl::unexpected(exists.error());
  if (!exists->bool_at(0, 0)) {
    if (auto ok = target.query("SELECT pg_replication_origin_create($1)", {origin}); !ok)
      return tl::unexpected(ok.error());
  }
  auto progress = target.query("SELECT pg_replication_origin_progress($1, true)::text", {origin});
  if (!progress) return tl::unexpected(progress.error());
  ChangeApplier a(target, origin);
  if (!progress->is_null(0, 0)) a.applied_ = pg::parse_lsn(progress->at(0, 0)).value_or(0);
  // Changes made by this session are tagged with the origin, so a reverse
  // stream can leave them out instead of sending them back.
  if (auto ok = target.query("SELECT pg_replication_origin_session_setup($1)", {origin}); !ok)
    return tl::unexpected(ok.error());
  // As PostgreSQL's own apply workers: the source's triggers already ran
  // there; firing the target's again would change the rows a second time.
  if (auto ok = target.exec("SET session_replication_role = replica"); !ok)
    return tl::unexpected(ok.error());
  return a;
}

Result<void> ChangeApplier::apply(const pg::PgOutputMessage& message) {
  if (const auto* r = std::get_if<pg::RelationMessage>(&message)) {
    Relation rel;
    rel.qualified = pg::qualified_name(r->schema.empty() ? "pg_catalog" : r->schema, r->name);
    for (const auto& c : r->columns) {
      rel.columns.push_back(pg::quote_ident(c.name));
      rel.key.push_back(c.key);
    }
    relations_[r->relation_id] = std::move(rel);
    return {};
  }
  if (const auto* b = std::get_if<pg::BeginMessage>(&message)) return begin(*b);
  if (const auto* c = std::get_if<pg::CommitMessage>(&message)) return commit(*c);
  if (skipping_) return {};
  if (const auto* i = std::get_if<pg::InsertMessage>(&message)) return insert(*i);
  if (const auto* u = std::get_if<pg::UpdateMessage>(&message)) return update(*u);
  if (const auto* d = std::get_if<pg::DeleteMessage>(&message)) return remove(*d);
  if (const auto* t = std::get_if<pg::TruncateMessage>(&message)) return truncate(*t);
  return {};  // Type, Origin and logical messages change nothing on the target
}

Result<void> ChangeApplier::begin(const pg::BeginMessage& m) {
  current_ = m;
  skipping_ = m.final_lsn <= applied_;
  if (skipping_) return {};
  if (auto ok = target_->exec("BEGIN"); !ok) return ok;
  in_transaction_ = true;
  return {};
}

Result<void> ChangeApplier::commit(const pg::CommitMessage& m) {
  if (skipping_) {
    skipping_ = false;
    return {};
  }
  // The source commit's LSN commits with the changes: exactly once. A
  // transaction that changed nothing here still needs a transaction id, or
  // its commit (and the progress with it) would not be written.
  if (rows_in_transaction_ == 0) {
    if (auto ok = target_->exec("SELECT txid_current()"); !ok) return ok;
  }
  auto ok = target_->query(
      "SELECT pg_replication_origin_xact_setup($1::pg_lsn, "
      "'2000-01-01'::timestamptz + $2 * interval '1 microsecond')",
      {pg::lsn_text(m.commit_lsn), std::to_string(m.commit_time)});
  if (!ok) return tl::unexpected(ok.error());
  if (auto c = target_->exec("COMMIT"); !c) return c;
  in_transaction_ = false;
  rows_in_transaction_ = 0;
  applied_ = m.commit_lsn;
  ++transactions_;
  return {};
}

Result<const ChangeApplier::Relation*> ChangeApplier::relation(uint32_t id) const {
  auto it = relations_.find(id);
  if (it == relations_.end())
    return fail(ErrorCode::kDatabase,
                fmt::format("change for relation {} before its Relation message", id));
  return &it->second;
}

Result<void> ChangeApplier::run(const std::string& sql, const std::vector<std::string>& params,
                                size_t expect) {
  auto r = target_->query(sql, params);
  if (!r) return tl::unexpected(r.error());
  // An update or delete that finds no row means the copy and the stream
  // disagree: applying on would silently diverge.
  if (expect > 0 && r->affected() == 0)
    return fail(
        ErrorCode::kDatabase,
        fmt::format("no row on the target matched: {} (source transaction {})", sql, current_.xid));
  rows_ += r->affected();
  rows_in_transaction_ += r->affected();
  return {};
}

Result<void> ChangeApplier::insert(const pg::InsertMessage& m) {
  auto rel = relation(m.relation_id);
  if (!rel) return tl::unexpected(rel.error());
  Params p;
  std::string columns, values;
  for (size_t i = 0; i < m.new_tuple.size() && i < (*rel)->columns.size(); ++i) {
    const auto& v = m.new_tuple[i];
    columns += (columns.empty() ? "" : ", ") + (*rel)->columns[i];
    values += (values.empty() ? "" : ", ") +
              (v.kind == pg::TupleValue::Kind::kNull ? std::string("NULL") : p.next(v.text));
  }
  return run(fmt::format("INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE VALUES ({})",
                         (*rel)->qualified, columns, values),
             p.values, 0);
}

namespace {

// WHERE clause matching `tuple` on the key columns (or every column for a
// whole old row); NULLs compare with IS NULL.
std::string where_clause(const std::vector<std::string>& columns, const std::vector<bool>& key,
                         const pg::Tuple& tuple, bool whole_row, Params& p) {
  std::string where;
  for (size_t i = 0; i < tuple.size() && i < columns.size(); ++i) {
    if (!whole_row && !key[i]) continue;
    const auto& v = tuple[i];
    if (v.kind == pg::TupleValue::Kind::kUnchangedToast) continue;
    where +=
        (where.empty() ? "" : " AND ") + columns[i] +
        (v.kind == pg::TupleValue::Kind::kNull ? std::string(" IS NULL") : " = " + p.next(v.text));
  }
  return where;
}

}  // namespace

Result<void> ChangeApplier::update(const pg::UpdateMessage& m) {
  auto rel = relation(m.relation_id);
  if (!rel) return tl::unexpected(rel.error());
  Params p;
  std::string set;
  // The key changed only when the old key or row came along; otherwise key
  // columns stay out of SET (an identity GENERATED ALWAYS key cannot be set).
  const bool key_may_change = m.old_key || m.old_row;
  for (size_t i = 0; i < m.new_tuple.size() && i < (*rel)->columns.size(); ++i) {
    const auto& v = m.new_tuple[i];
    // An unchanged TOASTed value was not sent: the target keeps its own.
    if (v.kind == pg::TupleValue::Kind::kUnchangedToast) continue;
    if ((*rel)->key[i] && !key_may_change) continue;
    set += (set.empty() ? "" : ", ") + (*rel)->columns[i] + " = " +
           (v.kind == pg::TupleValue::Kind::kNull ? std::string("NULL") : p.next(v.text));
  }
  const pg::Tuple& old = m.old_row ? *m.old_row : m.old_key ? *m.old_key : m.new_tuple;
  const std::string where =
      where_clause((*rel)->columns, (*rel)->key, old, m.old_row.has_value(), p);
  if (set.empty()) return {};
  return run(fmt::format("UPDATE ONLY {} SET {} WHERE {}", (*rel)->qualified, set, where), p.values,
             1);
}

Result<void> ChangeApplier::remove(const pg::DeleteMessage& m) {
  auto rel = relation(m.relation_id);
  if (!rel) return tl::unexpected(rel.error());
  Params p;
  const pg::Tuple& old = m.old_row ? *m.old_row : *m.old_key;
  const std::string where =
      where_clause((*rel)->columns, (*rel)->key, old, m.old_row.has_value(), p);
  // A table without a key (REPLICA IDENTITY FULL) may hold identical rows:
  // delete exactly one of them.
  const std::string sql =
      m.old_row ? fmt::format(
                      "DELETE FROM ONLY {0} WHERE ctid = (SELECT ctid FROM ONLY {0} "
                      "WHERE {1} LIMIT 1)",
                      (*rel)->qualified, where)
                : fmt::format("DELETE FROM ONLY {} WHERE {}", (*rel)->qualified, where);
  return run(sql, p.values, 1);
}

Result<void> ChangeApplier::truncate(const pg::TruncateMessage& m) {
  std::string list;
  for (auto id : m.relation_ids) {
    auto rel = relation(id);
    if (!rel) return tl::unexpected(rel.error());
    list += (list.empty() ? "ONLY " : ", ONLY ") + (*rel)->qualified;
  }
  if (list.empty()) return {};
  ++rows_in_transaction_;  // a write, whatever the row count
  return target_->exec("TRUNCATE " + list + (m.restart_identity ? " RESTART IDENTITY" : "") +
                       (m.cascade ? " CASCADE" : ""));
}

}  // namespace ferry::db
