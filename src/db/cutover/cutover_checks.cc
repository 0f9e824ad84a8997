#include "db/cutover/cutover_checks.h"

#include <fmt/format.h>

#include <chrono>
#include <set>
#include <thread>

#include "core/measure.h"
#include "core/text.h"
#include "db/role_privileges.h"
#include "db/verify/verify.h"
#include "pg/catalog.h"
#include "pg/connection.h"

namespace ferry::db {

namespace {

// Client sessions on this database that are not ferry's own.
constexpr const char* kOtherSessions =
    "datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
    "AND application_name NOT IN ('ferry apply', 'ferry follow', 'ferry cutover')";

}  // namespace

Result<std::vector<std::string>> preflight_checks(pg::Connection& old_side,
                                                  pg::Connection& new_side, bool reverse) {
  std::vector<std::string> problems;
  auto prepared =
      old_side.query("SELECT count(*) FROM pg_prepared_xacts WHERE database = current_database()");
  if (!prepared) return tl::unexpected(prepared.error());
  if (prepared->int_at(0, 0) > 0)
    problems.push_back(fmt::format(
        "{} prepared transaction(s) on {}: COMMIT PREPARED or ROLLBACK PREPARED them first",
        prepared->int_at(0, 0), old_side.info().redacted()));
  // Roles without SUPERUSER (managed servers): refused here, before the old
  // side goes read-only, with the GRANT to run.
  std::vector<std::pair<std::string, Result<std::vector<MissingPrivilege>>>> missing;
  missing.emplace_back("", missing_database_owner(old_side));
  missing.emplace_back("", missing_database_owner(new_side));
  missing.emplace_back("", missing_signal_privilege(old_side));
  if (reverse) {
    // The reverse stream: a slot on the new side, applied onto the old.
    missing.emplace_back("--reverse: ", missing_stream_privileges(new_side));
    missing.emplace_back("--reverse: ", missing_apply_privileges(old_side));
  }
  for (auto& [prefix, list] : missing) {
    if (!list) return tl::unexpected(list.error());
    for (const auto& m : *list) problems.push_back(fmt::format("{}{}: {}", prefix, m.what, m.fix));
  }
  if (reverse) {
    auto wal = new_side.query(
        "SELECT current_setting('wal_level'), current_setting('max_replication_slots')::int - "
        "(SELECT count(*) FROM pg_replication_slots)");
    if (!wal) return tl::unexpected(wal.error());
    if (wal->at(0, 0) != "logical")
      problems.push_back(
          fmt::format("--reverse: wal_level is {} on {}; it must be logical (a "
                      "restart)",
                      wal->at(0, 0), new_side.info().redacted()));
    if (wal->int_at(0, 1) < 1)
      problems.push_back("--reverse: no free replication slot on " + new_side.info().redacted() +
                         " (max_replication_slots)");
  }
  return problems;
}

Result<std::string> end_sessions(pg::Connection& conn, double grace_seconds) {
  const auto t0 = std::chrono::steady_clock::now();
  int64_t writers = 0;
  while (true) {
    auto w = conn.query(
        fmt::format("SELECT count(*) FROM pg_stat_activity WHERE {} AND backend_xid IS NOT NULL",
                    kOtherSessions));
    if (!w) return tl::unexpected(w.error());
    writers = w->int_at(0, 0);
    if (writers == 0 || seconds_since(t0) >= grace_seconds) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // All signalled at once, then waited for together (a transaction being
  // rolled back may take a moment), rather than one after the other.
  auto ended = conn.query(fmt::format(
      "SELECT coalesce(array_agg(pid) FILTER (WHERE pg_terminate_backend(pid)), '{{}}')::text, "
      "count(*) FROM pg_stat_activity WHERE {}",
      kOtherSessions));
  if (!ended) return tl::unexpected(ended.error());
  const std::string pids(ended->at(0, 0));
  for (int i = 0; i < 500; ++i) {
    auto left =
        conn.query("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])", {pids});
    if (!left) return tl::unexpected(left.error());
    if (left->int_at(0, 0) == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return fmt::format(
      "{} session(s) ended{}", ended->int_at(0, 1),
      writers > 0 ? fmt::format(", {} still writing after the {} s grace", writers, grace_seconds)
                  : std::string());
}

Result<VerifyOutcome> final_verify(const pg::ConnInfo& old_side, const pg::ConnInfo& new_side,
                                   FinalVerify mode, const std::vector<std::string>& tables,
                                   const std::set<std::string>& not_compared) {
  VerifyOutcome out;
  if (mode == FinalVerify::kNone && tables.empty()) {
    out.summary = "skipped (--final-verify none)";
    return out;
  }
  auto old_conn = pg::Connection::open(old_side, {"ferry cutover"});
  if (!old_conn) return tl::unexpected(old_conn.error());
  auto new_conn = pg::Connection::open(new_side, {"ferry cutover"});
  if (!new_conn) return tl::unexpected(new_conn.error());
  auto listed = pg::list_tables(*old_conn);
  if (!listed) return tl::unexpected(listed.error());
  // Unlogged tables are not in the WAL: no stream carries them.
  std::set<std::string> unlogged;
  for (const auto& t : *listed)
    if (t.unlogged) unlogged.insert(t.display());
  int64_t rows = 0, compared = 0;
  if (mode == FinalVerify::kCounts) {
    for (const auto& t : *listed) {
      if (t.unlogged || not_compared.count(t.display())) continue;
      const std::string sql = "SELECT count(*) FROM ONLY " + t.qualified();
      if (auto ok = old_conn->send(sql); !ok) return tl::unexpected(ok.error());
      auto n_new = new_conn->query(sql);
      auto n_old = old_conn->receive();
      if (!n_old) return tl::unexpected(n_old.error());
      if (!n_new) return tl::unexpected(n_new.error());
      ++compared;
      rows += n_old->int_at(0, 0);
      if (n_old->int_at(0, 0) != n_new->int_at(0, 0))
        out.lines.push_back(fmt::format("{}: {} rows on the old side, {} on the new", t.display(),
                                        n_old->int_at(0, 0), n_new->int_at(0, 0)));
    }
  }
  if (mode == FinalVerify::kFull || !tables.empty()) {
    VerifyOptions v;
    v.source = old_side;
    v.target = new_side;
    v.sequences = v.schema = v.settings = false;
    if (mode != FinalVerify::kFull) v.tables = tables;
    auto report = run_verify(v);
    if (!report) return tl::unexpected(report.error());
    for (const auto& t : report->tables) {
      if (unlogged.contains(t.table) || not_compared.contains(t.table)) continue;
      ++compared;
      rows += t.source_rows;
      if (!t.problem.empty())
        out.lines.push_back(t.table + ": " + t.problem);
      else if (!t.equal())
        out.lines.push_back(fmt::format("{}: {} missing, {} extra, {} changed rows", t.table,
                                        t.missing, t.extra, t.changed));
    }
  }
  out.summary = fmt::format("{} table(s), {} rows, {}", compared, rows,
                            out.lines.empty() ? "equal" : "DIFFERENT");
  if (!unlogged.empty())
    out.summary +=
        fmt::format(" ({} unlogged table(s) not compared: not replicated)", unlogged.size());
  if (!not_compared.empty())
    out.summary += fmt::format(
        " ({} diverged table(s) accepted with --allow-diverged, not "
        "compared)",
        not_compared.size());
  return out;
}

Result<std::string> copy_sequences(pg::Connection& old_side, pg::Connection& new_side) {
  auto sequences = pg::list_sequences(old_side);
  if (!sequences) return tl::unexpected(sequences.error());
  if (auto set = pg::set_sequences(new_side, *sequences); !set) return tl::unexpected(set.error());
  // Rows may carry ids no sequence handed out here (the stream applied them
  // with explicit values): never leave a sequence where nextval() collides.
  auto owned = new_side.query(
      "SELECT quote_ident(sn.nspname) || '.' || quote_ident(s.relname), "
      "quote_ident(tn.nspname) || '.' || quote_ident(t.relname), quote_ident(a.attname) "
      "FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
      "JOIN pg_namespace sn ON sn.oid = s.relnamespace "
      "JOIN pg_sequence q ON q.seqrelid = s.oid AND q.seqincrement > 0 "
      "JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace "
      "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid "
      "WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass "
      "AND d.deptype IN ('a', 'i') AND t.relkind IN ('r', 'p')");
  if (!owned) return tl::unexpected(owned.error());
  int64_t raised = 0;
  for (int i = 0; i < owned->size(); ++i) {
    const std::string seq(owned->at(i, 0)), table(owned->at(i, 1)), column(owned->at(i, 2));
    auto r = new_side.query(
        fmt::format("SELECT setval({0}, m) FROM (SELECT max({1})::bigint AS m FROM {2}) x, {3} q "
                    "WHERE m IS NOT NULL AND m >= CASE WHEN q.is_called THEN q.last_value + 1 ELSE "
                    "q.last_value END",
                    pg::quote_literal(seq), column, table, seq));
    if (!r) return tl::unexpected(r.error());
    raised += r->size();
  }
  return fmt::format(
      "{} sequence(s) set to the old side's values, {} raised to their column's "
      "maximum",
      sequences->size(), raised);
}

}  // namespace ferry::db
