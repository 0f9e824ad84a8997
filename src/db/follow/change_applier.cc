#include "db/follow/change_applier.h"

#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "core/log.h"
#include "db/follow/write_coalescer.h"
#include "pg/connection.h"

namespace ferry::db {

namespace {

// A large transaction is sent in batches of this many changes.
constexpr size_t kStreamingBatch = 500;

// Not a server's SQLSTATE: a coalesced statement changed fewer rows than it
// should have.
constexpr const char* kCoalescedShortfall = "FY001";

// How long a replication origin still held by a previous run's backend is
// waited for.
constexpr int kOriginWaitMs = 30000;

std::string literal(const pg::TupleValue& v) {
  return v.kind == pg::TupleValue::Kind::kNull ? std::string("NULL") : pg::quote_literal(v.text);
}

// Condition matching `tuple` on the key columns (or every column for a whole
// old row); NULLs compare with IS NULL. With `shown`, the same condition for
// people: "id"=42.
std::string where_clause(const TargetRelation& rel, const pg::Tuple& tuple, bool whole_row,
                         bool shown = false) {
  std::string where;
  for (size_t i = 0; i < tuple.size() && i < rel.columns.size(); ++i) {
    if (!whole_row && !rel.key[i]) continue;
    const auto& v = tuple[i];
    if (v.kind == pg::TupleValue::Kind::kUnchangedToast) continue;
    const bool null = v.kind == pg::TupleValue::Kind::kNull;
    if (shown)
      where += (where.empty() ? "" : ", ") + rel.columns[i] + "=" + (null ? "NULL" : v.text);
    else
      where += (where.empty() ? "" : " AND ") + rel.columns[i] +
               (null ? std::string(" IS NULL") : " = " + literal(v));
  }
  return where;
}

const pg::Tuple& old_tuple(const Change& c) {
  return c.old_row ? *c.old_row : c.old_key ? *c.old_key : c.new_tuple;
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
  // After a crash the previous run's backend may hold the origin until it
  // notices its client is gone: wait for it a while.
  auto setup = conn->query("SELECT pg_replication_origin_session_setup($1)", {origin});
  for (int waited = 0; !setup && setup.error().sqlstate == "55006" && waited < kOriginWaitMs;
       waited += 200) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    setup = conn->query("SELECT pg_replication_origin_session_setup($1)", {origin});
  }
  if (auto& ok = setup; !ok) {
    // Each origin in use takes one of max_replication_slots' state entries.
    const std::string why =
        ok.error().sqlstate == "53400"
            ? "the target's max_replication_slots is too low: each apply job needs one "
              "replication origin; raise it (a restart) or use fewer --apply-jobs"
            : "is another ferry db follow running?";
    return tl::unexpected(
        std::move(ok.error())
            .with_context("taking replication origin " + origin + " (" + why + ")"));
  }
  // Values are written as literals: backslashes must mean themselves.
  std::string set = "SET session_replication_role = replica; SET standard_conforming_strings = on";
  set += fmt::format("; SET lock_timeout = {}", settings.lock_timeout_ms);
  set += fmt::format("; SET statement_timeout = {}", settings.statement_timeout_ms);
  if (settings.asynchronous_commit) set += "; SET synchronous_commit = off";
  if (settings.override_read_only) set += "; SET default_transaction_read_only = off";
  if (auto ok = conn->exec(set); !ok) return tl::unexpected(ok.error());
  a.target_ = std::make_unique<pg::Connection>(std::move(*conn));
  return a;
}

void ChangeApplier::add_statement(std::string sql, const Change* expects_row_of, bool counts,
                                  int64_t exact_rows) {
  batch_ += sql;
  batch_ += ";\n";
  expects_.push_back(
      {expects_row_of, expects_row_of ? current_ : pg::BeginMessage{}, exact_rows, counts});
}

void ChangeApplier::add_progress(const pg::CommitMessage& m) {
  // A transaction that changed nothing here still needs a transaction id, or
  // its commit (and the progress with it) would not be written.
  add_statement("SELECT txid_current()", nullptr);
  // The source commit's end commits with the changes: exactly once.
  add_statement(fmt::format("SELECT pg_replication_origin_xact_setup('{}', '2000-01-01'::"
                            "timestamptz + {} * interval '1 microsecond')",
                            pg::lsn_text(m.end_lsn), m.commit_time),
                nullptr);
  pending_end_ = m.end_lsn;
}

Result<void> ChangeApplier::flush() {
  if (batch_.empty()) return {};
  auto affected = target_->run_batch(batch_);
  batch_.clear();
  if (!affected) {
    expects_.clear();
    held_.clear();
    return tl::unexpected(affected.error());
  }
  for (size_t i = 0; i < expects_.size() && i < affected->size(); ++i) {
    // An update or delete that finds no row means the copy and the stream
    // disagree: applying on would silently diverge.
    const int64_t exact = expects_[i].exact_rows;
    if ((expects_[i].change && (*affected)[i] == 0) || (exact >= 0 && (*affected)[i] != exact)) {
      Error e = exact >= 0 ? Error{ErrorCode::kDatabase,
                                   fmt::format("a set-based statement changed {} rows, not {}",
                                               (*affected)[i], exact),
                                   kCoalescedShortfall,
                                   {}}
                           : diverged(expects_[i]);
      expects_.clear();
      held_.clear();
      return tl::unexpected(std::move(e));
    }
    if (expects_[i].counts) rows_in_transaction_ += (*affected)[i];
  }
  expects_.clear();
  held_.clear();
  return {};
}

Error ChangeApplier::diverged(const Expectation& e) const {
  const Change& c = *e.change;
  return Error{
      ErrorCode::kDatabase,
      fmt::format("{} of a row that is not on the target: table {}, {} (source "
                  "transaction {}, commit {}); the target has diverged from the source",
                  c.kind == Change::Kind::kDelete ? "delete" : "update", c.relation->display,
                  where_clause(*c.relation, old_tuple(c), c.old_row.has_value(), true),
                  e.transaction.xid, pg::lsn_text(e.transaction.final_lsn)),
      {},
      {}};
}

Result<void> ChangeApplier::begin(const pg::BeginMessage& m) {
  current_ = m;
  rows_in_transaction_ = 0;
  batch_.clear();
  expects_.clear();
  held_.clear();
  add_statement("BEGIN", nullptr);
  in_transaction_ = true;
  return {};
}

Result<void> ChangeApplier::execute(const std::vector<const SourceTransaction*>& group,
                                    bool coalesce) {
  auto sent = send(group, coalesce);
  if (sent || !coalesce || is_connection_loss(sent.error())) return sent;
  // A missing row, or a unique value that moved between rows inside one
  // set-based statement: one change per statement names the row, or applies.
  log_debug("set-based apply failed, applying change by change: " + sent.error().to_string());
  if (auto ok = rollback(); !ok) return ok;
  return send(group, false);
}

Result<void> ChangeApplier::send(const std::vector<const SourceTransaction*>& group,
                                 bool coalesce) {
  (void)begin(group.front()->begin);
  if (coalesce) {
    WriteCoalescer coalescer(
        [&](const Change& c) { add(c); },
        [&](std::string sql, int64_t rows) { add_statement(std::move(sql), nullptr, true, rows); });
    for (const SourceTransaction* t : group)
      for (const auto& c : t->changes) coalescer.add(c);
    coalescer.finish();
  } else {
    for (const SourceTransaction* t : group) {
      current_ = t->begin;
      for (const auto& c : t->changes) add(c);
    }
  }
  add_progress(group.back()->commit);
  return flush();
}

Result<void> ChangeApplier::commit() {
  if (auto ok = target_->exec("COMMIT"); !ok) return ok;
  in_transaction_ = false;
  applied_ = pending_end_;
  return {};
}

Result<void> ChangeApplier::change(Change&& c) {
  held_.push_back(std::move(c));
  add(held_.back());
  return held_.size() >= kStreamingBatch ? flush() : Result<void>();
}

Result<void> ChangeApplier::commit(const pg::CommitMessage& m) {
  add_progress(m);
  if (auto ok = flush(); !ok) return ok;
  return commit();
}

Result<void> ChangeApplier::rollback() {
  batch_.clear();
  expects_.clear();
  held_.clear();
  if (!in_transaction_) return {};
  in_transaction_ = false;
  rows_in_transaction_ = 0;
  return target_->exec("ROLLBACK");
}

void ChangeApplier::add(const Change& c) {
  if (c.kind == Change::Kind::kTruncate) {
    if (c.partial) {
      for (const auto& rel : c.truncated)
        add_statement("DELETE FROM ONLY " + rel->qualified, nullptr);
      return;
    }
    std::string list;
    for (const auto& rel : c.truncated)
      list += (list.empty() ? "ONLY " : ", ONLY ") + rel->qualified;
    if (list.empty()) return;
    add_statement("TRUNCATE " + list + (c.restart_identity ? " RESTART IDENTITY" : "") +
                      (c.cascade ? " CASCADE" : ""),
                  nullptr);
    return;
  }
  const TargetRelation& rel = *c.relation;
  if (c.kind == Change::Kind::kInsert) {
    std::string columns, values;
    for (size_t i = 0; i < c.new_tuple.size() && i < rel.columns.size(); ++i) {
      columns += (columns.empty() ? "" : ", ") + rel.columns[i];
      values += (values.empty() ? "" : ", ") + literal(c.new_tuple[i]);
    }
    add_statement(fmt::format("INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE VALUES ({})",
                              rel.qualified, columns, values),
                  nullptr, true);
    return;
  }
  const std::string where = where_clause(rel, old_tuple(c), c.old_row.has_value());
  if (c.kind == Change::Kind::kUpdate) {
    std::string set;
    // The key changed only when the old key or row came along; otherwise key
    // columns stay out of SET (an identity GENERATED ALWAYS key cannot be set).
    const bool key_may_change = c.old_key || c.old_row;
    for (size_t i = 0; i < c.new_tuple.size() && i < rel.columns.size(); ++i) {
      const auto& v = c.new_tuple[i];
      // An unchanged TOASTed value was not sent: the target keeps its own.
      if (v.kind == pg::TupleValue::Kind::kUnchangedToast) continue;
      if (rel.key[i] && !key_may_change) continue;
      set += (set.empty() ? "" : ", ") + rel.columns[i] + " = " + literal(v);
    }
    if (set.empty()) return;
    // A whole-row match on a table with identical rows changes exactly one.
    add_statement(c.old_row
                      ? fmt::format("UPDATE ONLY {0} SET {1} WHERE ctid = (SELECT ctid "
                                    "FROM ONLY {0} WHERE {2} LIMIT 1)",
                                    rel.qualified, set, where)
                      : fmt::format("UPDATE ONLY {} SET {} WHERE {}", rel.qualified, set, where),
                  &c, true);
    return;
  }
  add_statement(c.old_row ? fmt::format("DELETE FROM ONLY {0} WHERE ctid = (SELECT ctid FROM "
                                        "ONLY {0} WHERE {1} LIMIT 1)",
                                        rel.qualified, where)
                          : fmt::format("DELETE FROM ONLY {} WHERE {}", rel.qualified, where),
                &c, true);
}

}  // namespace ferry::db
