#include "db/follow/insert_only_watch.h"

namespace ferry::db {

const char* const kInsertOnlyCountersSql =
    "SELECT p.schemaname || '.' || p.tablename, coalesce(s.n_tup_upd + s.n_tup_del, 0) "
    "FROM pg_publication_tables p LEFT JOIN pg_stat_user_tables s "
    "ON s.schemaname = p.schemaname AND s.relname = p.tablename WHERE p.pubname = $1";

InsertOnlyWatch::InsertOnlyWatch(std::map<std::string, int64_t> baselines,
                                 std::set<std::string> diverged)
    : baselines_(std::move(baselines)), diverged_(std::move(diverged)) {}

std::vector<WatchEvent> InsertOnlyWatch::observe(const std::map<std::string, int64_t>& counters) {
  std::vector<WatchEvent> events;
  for (auto it = baselines_.begin(); it != baselines_.end();) {
    it = counters.count(it->first) ? std::next(it) : baselines_.erase(it);
  }
  for (const auto& [table, now] : counters) {
    auto [it, first] = baselines_.try_emplace(table, now);
    if (first) {
      events.push_back({WatchEvent::Kind::kBaseline, table, now, now});
      continue;
    }
    const int64_t baseline = it->second;
    if (now < baseline) {
      it->second = now;
      if (diverged_.insert(table).second)
        events.push_back({WatchEvent::Kind::kReset, table, baseline, now});
    } else if (now > baseline && diverged_.insert(table).second) {
      events.push_back({WatchEvent::Kind::kDiverged, table, baseline, now});
    }
  }
  return events;
}

void InsertOnlyWatch::restart(const std::string& table, int64_t counters) {
  baselines_[table] = counters;
  diverged_.erase(table);
}

}  // namespace ferry::db
