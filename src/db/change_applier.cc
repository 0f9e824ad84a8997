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

// WHERE clause matching `tuple` on the key columns (or every column for a
// whole old row); NULLs compare with IS NULL. `shown` collects the same
// condition with values, to name the row in an error.
std::string where_clause(const TargetRelation& rel, const pg::Tuple& tuple, bool whole_row,
                         Params& p, std::string& shown) {
  std::string where;
  for (size_t i = 0; i < tuple.size() && i < rel.columns.size(); ++i) {
    if (!whole_row && !rel.key[i]) continue;
    const auto& v = tuple[i];
    if (v.kind == pg::TupleValue::Kind::kUnchangedToast) continue;
    const bool null = v.kind == pg::TupleValue::Kind::kNull;
    where += (where.empty() ? "" : " AND ") + rel.columns[i] +
             (null ? std::string(" IS NULL") : " = " + p.next(v.text));
    shown += (shown.empty() ? "" : ", ") + rel.columns[i] + "=" + (null ? "NULL" : v.text);
  }
  return where;
}

}  // namespace

bool is_conflict(const Error& e) {
  return e.sqlstate == "23505" ||  // unique_violation: another transaction's row, not yet removed
         e.sqlstate == "40P01" ||  // deadlock_detected
         e.sqlstate == "40001" ||  // serialization_failure
         e.sqlstate == "55P03";    // lock_not_available: lock_timeout between two workers
}

bool is_connection_loss(const Error& e) {
  return e.sqlstate.starts_with("08") ||  // connection exceptions
         e.sqlstate == "57P01" ||         // admin_shutdown (server stopping, backend terminated)
         e.sqlstate == "57P02" ||         // crash_shutdown
         e.sqlstate == "57P03";           // cannot_connect_now (starting up)
}

ChangeApplier::ChangeApplier(ChangeApplier&&) noexcept = default;
ChangeApplier& ChangeApplier::operator=(ChangeApplier&&) noexcept = default;
ChangeApplier::~ChangeApplier() = default;

Result<ChangeApplier> ChangeApplier::open(const pg::ConnInfo& target, const std::string& origin,
                                          const ApplySessionSettings& settings) {
  auto conn = pg::Connection::open(target, {"ferry apply"});
  if (!conn) return tl::unexpected(conn.error());
  auto exists = conn->query("SELECT pg_replication_origin_oid($1) IS NOT NULL", {origin});
  if (!exists) return tl::unexpected(exists.error());
  if (!exists->bool_at(0, 0)) {
    if (auto ok = conn->query("SELECT pg_replication_origin_create($1)", {origin}); !ok)
      return tl::unexpected(ok.error());
  }
  auto progress = conn->query("SELECT pg_replication_origin_progress($1, true)::text", {origin});
  if (!progress) return tl::unexpected(progress.error());
  ChangeApplier a;
  a.origin_ = origin;
  if (!progress->is_null(0, 0)) a.applied_ = pg::parse_lsn(progress->at(0, 0)).value_or(0);
  if (auto ok = conn->query("SELECT pg_replication_origin_session_setup($1)", {origin}); !ok) {
    // Each origin in use takes one of max_replication_slots' state entries.
    const std::string why =
        ok.error().sqlstate == "53400"
            ? "the target's max_replication_slots is too low: each apply job needs one "
              "replication origin; raise it (a restart) or use fewer --apply-jobs"
            : "is another ferry db follow running?";
    return tl::unexpected(
        std::move(ok.error()).with_context("taking replication origin " + origin + " (" + why + ")"));
  }
  std::string set = "SET session_replication_role = replica";
  set += fmt::format("; SET lock_timeout = {}", settings.lock_timeout_ms);
  set += fmt::format("; SET statement_timeout = {}", settings.statement_timeout_ms);
  if (settings.asynchronous_commit) set += "; SET synchronous_commit = off";
  if (settings.override_read_only) set += "; SET default_transaction_read_only = off";
  if (auto ok = conn->exec(set); !ok) return tl::unexpected(ok.error());
  a.target_ = std::make_unique<pg::Connection>(std::move(*conn));
  return a;
}

Result<void> ChangeApplier::begin(const pg::BeginMessage& m) {
  current_ = m;
  rows_in_transaction_ = 0;
  if (auto ok = target_->exec("BEGIN"); !ok) return ok;
  in_transaction_ = true;
  return {};
}

Result<void> ChangeApplier::execute(const SourceTransaction& t) {
  if (auto ok = begin(t.begin); !ok) return ok;
  for (const auto& c : t.changes) {
    if (auto ok = change(c); !ok) return ok;
  }
  return {};
}

Result<void> ChangeApplier::commit(const pg::CommitMessage& m) {
  // The source commit's end commits with the changes: exactly once. A
  // transaction that changed nothing here still needs a transaction id, or
  // its commit (and the progress with it) would not be written.
  if (rows_in_transaction_ == 0) {
    if (auto ok = target_->exec("SELECT txid_current()"); !ok) return ok;
  }
  auto ok = target_->query(
      "SELECT pg_replication_origin_xact_setup($1::pg_lsn, "
      "'2000-01-01'::timestamptz + $2 * interval '1 microsecond')",
      {pg::lsn_text(m.end_lsn), std::to_string(m.commit_time)});
  if (!ok) return tl::unexpected(ok.error());
  if (auto c = target_->exec("COMMIT"); !c) return c;
  in_transaction_ = false;
  applied_ = m.end_lsn;
  ++transactions_;
  rows_ += rows_in_transaction_;
  return {};
}

Result<void> ChangeApplier::rollback() {
  if (!in_transaction_) return {};
  in_transaction_ = false;
  rows_in_transaction_ = 0;
  return target_->exec("ROLLBACK");
}

Result<void> ChangeApplier::change(const Change& c) {
  switch (c.kind) {
    case Change::Kind::kInsert:
      return insert(c);
    case Change::Kind::kUpdate:
      return update(c);
    case Change::Kind::kDelete:
      return remove(c);
    case Change::Kind::kTruncate:
      return truncate(c);
  }
  return {};
}

Result<void> ChangeApplier::run(const std::string& sql, const std::vector<std::string>& params,
                                const Change* expect_row_of) {
  auto r = target_->query(sql, params);
  if (!r) return tl::unexpected(r.error());
  // An update or delete that finds no row means the copy and the stream
  // disagree: applying on would silently diverge.
  if (expect_row_of && r->affected() == 0) {
    const Change& c = *expect_row_of;
    const pg::Tuple& old =
        c.old_row ? *c.old_row : c.old_key ? *c.old_key : c.new_tuple;
    Params unused;
    std::string shown;
    where_clause(*c.relation, old, c.old_row.has_value(), unused, shown);
    return fail(ErrorCode::kDatabase,
                fmt::format("{} of a row that is not on the target: table {}, {} (source "
                            "transaction {}, commit {}); the target has diverged from the source",
                            c.kind == Change::Kind::kDelete ? "delete" : "update",
                            c.relation->display, shown, current_.xid,
                            pg::lsn_text(current_.final_lsn)));
  }
  rows_in_transaction_ += r->affected();
  return {};
}

Result<void> ChangeApplier::insert(const Change& c) {
  const TargetRelation& rel = *c.relation;
  Params p;
  std::string columns, values;
  for (size_t i = 0; i < c.new_tuple.size() && i < rel.columns.size(); ++i) {
    const auto& v = c.new_tuple[i];
    columns += (columns.empty() ? "" : ", ") + rel.columns[i];
    values += (values.empty() ? "" : ", ") +
              (v.kind == pg::TupleValue::Kind::kNull ? std::string("NULL") : p.next(v.text));
  }
  return run(fmt::format("INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE VALUES ({})", rel.qualified,
                         columns, values),
             p.values, nullptr);
}

Result<void> ChangeApplier::update(const Change& c) {
  const TargetRelation& rel = *c.relation;
  Params p;
  std::string set;
  // The key changed only when the old key or row came along; otherwise key
  // columns stay out of SET (an identity GENERATED ALWAYS key cannot be set).
  const bool key_may_change = c.old_key || c.old_row;
  for (size_t i = 0; i < c.new_tuple.size() && i < rel.columns.size(); ++i) {
    const auto& v = c.new_tuple[i];
    // An unchanged TOASTed value was not sent: the target keeps its own.
    if (v.kind == pg::TupleValue::Kind::kUnchangedToast) continue;
    if (rel.key[i] && !key_may_change) continue;
    set += (set.empty() ? "" : ", ") + rel.columns[i] + " = " +
           (v.kind == pg::TupleValue::Kind::kNull ? std::string("NULL") : p.next(v.text));
  }
  if (set.empty()) return {};
  const pg::Tuple& old = c.old_row ? *c.old_row : c.old_key ? *c.old_key : c.new_tuple;
  std::string shown;
  const std::string where = where_clause(rel, old, c.old_row.has_value(), p, shown);
  // A whole-row match on a table with identical rows changes exactly one.
  const std::string sql =
      c.old_row ? fmt::format(
                      "UPDATE ONLY {0} SET {1} WHERE ctid = (SELECT ctid FROM ONLY {0} WHERE {2} "
                      "LIMIT 1)",
                      rel.qualified, set, where)
                : fmt::format("UPDATE ONLY {} SET {} WHERE {}", rel.qualified, set, where);
  return run(sql, p.values, &c);
}

Result<void> ChangeApplier::remove(const Change& c) {
  const TargetRelation& rel = *c.relation;
  Params p;
  const pg::Tuple& old = c.old_row ? *c.old_row : *c.old_key;
  std::string shown;
  const std::string where = where_clause(rel, old, c.old_row.has_value(), p, shown);
  const std::string sql =
      c.old_row ? fmt::format(
                      "DELETE FROM ONLY {0} WHERE ctid = (SELECT ctid FROM ONLY {0} "
                      "WHERE {1} LIMIT 1)",
                      rel.qualified, where)
                : fmt::format("DELETE FROM ONLY {} WHERE {}", rel.qualified, where);
  return run(sql, p.values, &c);
}

Result<void> ChangeApplier::truncate(const Change& c) {
  std::string list;
  for (const auto& rel : c.truncated) list += (list.empty() ? "ONLY " : ", ONLY ") + rel->qualified;
  if (list.empty()) return {};
  ++rows_in_transaction_;  // a write, whatever the row count
  return target_->exec("TRUNCATE " + list + (c.restart_identity ? " RESTART IDENTITY" : "") +
                       (c.cascade ? " CASCADE" : ""));
}

}  // namespace ferry::db
