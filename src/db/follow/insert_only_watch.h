// Watches the tables only inserts and TRUNCATEs are carried for (no replica
// identity on the source, see publication.h) for the changes that cannot be
// carried: an UPDATE or DELETE there leaves the target different, and must be
// reported the moment it happens, not found at cutover.
//
// The signal is the source's per-table counters in pg_stat_user_tables
// (n_tup_upd + n_tup_del, which include HOT updates and rows of transactions
// that rolled back): when they pass the value recorded when watching began,
// the table has diverged. A backend publishes its counts when it goes idle,
// at most once a second, and an idle one within 10 s (PostgreSQL 15), or
// when it ends. This class is the decision alone, fed with counter
// readings; follow reads them and acts on the events.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace ferry::db {

struct WatchEvent {
  enum class Kind {
    kBaseline,  // first reading of a table: recorded as its baseline
    kDiverged,  // the counters passed the baseline: the table differs now
    // The counters went down (statistics reset, or crash recovery, which
    // resets them): updates since the last reading cannot be ruled out, so
    // the table counts as diverged; watching goes on from the new values.
    kReset,
  };
  Kind kind = Kind::kBaseline;
  std::string table;
  int64_t baseline = 0, now = 0;
};

class InsertOnlyWatch {
 public:
  // `baselines`: schema.name -> counters when watching began; `diverged`:
  // tables already reported (they are not reported again).
  InsertOnlyWatch(std::map<std::string, int64_t> baselines, std::set<std::string> diverged);

  // One reading of every watched table's counters. Tables missing from the
  // reading (no longer insert-only) are forgotten.
  std::vector<WatchEvent> observe(const std::map<std::string, int64_t>& counters);
  // After a table was copied again: watching starts over from `counters`.
  void restart(const std::string& table, int64_t counters);
  // Diverged for a reason the counters do not show (a failed resync, another
  // process's record): not reported by observe() again.
  void mark_diverged(const std::string& table) { diverged_.insert(table); }

  const std::set<std::string>& diverged() const { return diverged_; }

 private:
  std::map<std::string, int64_t> baselines_;
  std::set<std::string> diverged_;
};

// The query reading the counters of the tables in an insert-only
// publication: ($1 = publication name) -> schema.name, updates + deletes.
extern const char* const kInsertOnlyCountersSql;

}  // namespace ferry::db
