#include "db/follow/divergence_monitor.h"

#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "core/log.h"
#include "core/text.h"
#include "db/publication.h"
#include "pg/connection.h"

namespace ferry::db {

namespace {

Result<std::map<std::string, int64_t>> read_counters(pg::Connection& conn,
                                                     const std::string& publication) {
  auto r = conn.query(kInsertOnlyCountersSql, {insert_only_publication(publication)});
  if (!r) return tl::unexpected(r.error());
  std::map<std::string, int64_t> out;
  for (int i = 0; i < r->size(); ++i) out[std::string(r->at(i, 0))] = r->int_at(i, 1);
  return out;
}

}  // namespace

Result<void> record_insert_only_baselines(pg::Connection& conn, const std::string& publication,
                                          FollowJournal& journal, const std::string& direction) {
  auto counters = read_counters(conn, publication);
  if (!counters) return tl::unexpected(counters.error());
  for (const auto& [table, n] : *counters)
    if (auto ok = journal.set_baseline(direction, table, n); !ok) return ok;
  return {};
}

Result<std::map<std::string, std::string>> diverged_since_baselines(pg::Connection& conn,
                                                                    const std::string& publication,
                                                                    FollowJournal& journal,
                                                                    const std::string& direction) {
  // Before PostgreSQL 15 an ending session's counts reach the view through
  // the statistics collector, asynchronously (it sends them every 0.5 s).
  if (conn.server_version() < 150000) std::this_thread::sleep_for(std::chrono::milliseconds(700));
  auto counters = read_counters(conn, publication);
  if (!counters) return tl::unexpected(counters.error());
  auto baselines = journal.baselines(direction);
  if (!baselines) return tl::unexpected(baselines.error());
  std::map<std::string, std::string> out;
  for (const auto& [table, now] : *counters) {
    auto it = baselines->find(table);
    if (it == baselines->end() || it->second == now) continue;
    out[table] = fmt::format(
        "pg_stat_user_tables n_tup_upd + n_tup_del {} -> {} since it was "
        "copied{}",
        it->second, now, now < it->second ? " (statistics reset: cannot tell)" : "");
  }
  return out;
}

Result<DivergenceMonitor> DivergenceMonitor::open(FollowJournal& journal, std::string direction,
                                                  std::string publication, std::string dir) {
  auto baselines = journal.baselines(direction);
  if (!baselines) return tl::unexpected(baselines.error());
  auto diverged = journal.diverged(direction);
  if (!diverged) return tl::unexpected(diverged.error());
  std::set<std::string> names;
  for (const auto& d : *diverged) names.insert(d.table);
  return DivergenceMonitor(journal, std::move(direction), std::move(publication), std::move(dir),
                           InsertOnlyWatch(std::move(*baselines), std::move(names)));
}

Result<void> DivergenceMonitor::check(pg::Connection& from, FollowStatus& status,
                                      std::mutex& status_mu) {
  auto counters = read_counters(from, publication_);
  if (!counters) return tl::unexpected(counters.error());
  for (const auto& e : watch_.observe(*counters)) {
    switch (e.kind) {
      case WatchEvent::Kind::kBaseline:
        log_info(
            fmt::format("{}: only inserts and TRUNCATE are carried (no replica identity); "
                        "watching it for updates and deletes from now",
                        e.table));
        if (auto ok = journal_->set_baseline(direction_, e.table, e.now); !ok) return ok;
        break;
      case WatchEvent::Kind::kReset:
        if (auto ok = journal_->set_baseline(direction_, e.table, e.now); !ok) return ok;
        if (auto ok = mark_diverged(
                e.table,
                fmt::format("the source's statistics for it were reset (pg_stat_user_tables "
                            "n_tup_upd + n_tup_del {} -> {}: pg_stat_reset, or crash recovery), "
                            "so an UPDATE or DELETE since the last reading cannot be ruled out",
                            e.baseline, e.now));
            !ok)
          return ok;
        break;
      case WatchEvent::Kind::kDiverged:
        if (auto ok = mark_diverged(
                e.table,
                fmt::format("{} row(s) updated or deleted on the source since it was copied "
                            "(pg_stat_user_tables n_tup_upd + n_tup_del {} -> {}); only its "
                            "inserts and TRUNCATEs are carried",
                            e.now - e.baseline, e.baseline, e.now));
            !ok)
          return ok;
        break;
    }
  }
  auto uncarried = tables_no_publication_carries(from, publication_);
  if (!uncarried) return tl::unexpected(uncarried.error());
  for (const auto& table : *uncarried) {
    if (watch_.diverged().count(table)) continue;
    if (auto ok = mark_diverged(
            table,
            "no publication carries it (created after the clone, and the publication "
            "lists its tables), so none of its changes reach the other side; a new table "
            "must be created there first (pg_dump --schema-only --table)");
        !ok)
      return ok;
  }
  auto diverged = journal_->diverged(direction_);
  if (!diverged) return tl::unexpected(diverged.error());
  for (const auto& d : *diverged) watch_.mark_diverged(d.table);
  std::lock_guard lock(status_mu);
  status.insert_only_tables.clear();
  for (const auto& [table, n] : *counters) status.insert_only_tables.push_back(table);
  status.diverged_tables = std::move(*diverged);
  return {};
}

Result<void> DivergenceMonitor::restart(const std::string& table, int64_t counters) {
  watch_.restart(table, counters);
  told_.erase(table);
  if (auto ok = journal_->set_baseline(direction_, table, counters); !ok) return ok;
  return journal_->clear_diverged(direction_, table);
}

bool DivergenceMonitor::leaves_out(const Change& c) {
  if (c.kind == Change::Kind::kTruncate || c.relation->insert_only ||
      !watch_.diverged().count(c.relation->display))
    return false;
  if (told_.insert(c.relation->display).second)
    log_warn(
        fmt::format("event=diverged_table_left_out table={}: its changes are not applied "
                    "until it is copied again (ferry db clone --resync --tables {})",
                    c.relation->display, c.relation->display));
  return true;
}

void DivergenceMonitor::leave_out_diverged(SourceTransaction& t) {
  if (watch_.diverged().empty()) return;
  std::erase_if(t.changes, [&](const Change& c) { return leaves_out(c); });
}

Result<void> DivergenceMonitor::mark_diverged(const std::string& table, const std::string& detail) {
  DivergedTable d{table, iso_time(unix_now()), detail};
  watch_.mark_diverged(table);
  log_warn(fmt::format("event=table_diverged table={} detail={} fix={}", table, log_value(detail),
                       log_value(diverged_table_fix(table, dir_, direction_ == "reverse"))));
  return journal_->mark_diverged(direction_, d);
}

}  // namespace ferry::db
