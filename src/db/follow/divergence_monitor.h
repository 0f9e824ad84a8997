// Follow's side of the insert-only watch (insert_only_watch.h): reads the
// counters from the streaming side, records baselines and divergences in the
// follow journal, logs each divergence once with what to do, and keeps the
// status's insert_only_tables and diverged_tables current.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/follow/follow_journal.h"
#include "db/follow/follow_status.h"
#include "db/follow/insert_only_watch.h"
#include "db/follow/source_transaction.h"

namespace ferry::pg {
class Connection;
}

namespace ferry::db {

// Records the current counters of `publication`'s insert-only tables as the
// baselines for `direction`: run where the stream starts (the clone's slot,
// the reverse slot at a cutover), so an UPDATE right after is not missed.
Result<void> record_insert_only_baselines(pg::Connection& conn, const std::string& publication,
                                          FollowJournal& journal, const std::string& direction);

// The insert-only tables of `publication` whose counters on `conn` are past
// (or, after a reset, below) their baselines in the journal: table -> what
// was seen. The cutover's last look, once the old side is read-only and its
// sessions have ended (an ending session publishes its counts at once).
Result<std::map<std::string, std::string>> diverged_since_baselines(pg::Connection& conn,
                                                                    const std::string& publication,
                                                                    FollowJournal& journal,
                                                                    const std::string& direction);

class DivergenceMonitor {
 public:
  // `publication`: the main publication of the streaming side.
  static Result<DivergenceMonitor> open(FollowJournal& journal, std::string direction,
                                        std::string publication, std::string dir);

  // One reading; events go to the journal, the log and `status`.
  Result<void> check(pg::Connection& from, FollowStatus& status, std::mutex& status_mu);
  // After a table was copied again with `counters` read before its snapshot.
  Result<void> restart(const std::string& table, int64_t counters);
  Result<void> mark_diverged(const std::string& table, const std::string& detail);

  // Changes to a diverged table whose updates and deletes are published (a
  // resync that failed after moving it, or whose outcome is unknown) are
  // not applied until it is copied again: they may name rows the target
  // does not have, and follow would stop on them. Inserts-only tables keep
  // getting their inserts. Logged once per table.
  void leave_out_diverged(SourceTransaction& t);
  bool leaves_out(const Change& c);

 private:
  DivergenceMonitor(FollowJournal& journal, std::string direction, std::string publication,
                    std::string dir, InsertOnlyWatch watch)
      : journal_(&journal),
        direction_(std::move(direction)),
        publication_(std::move(publication)),
        dir_(std::move(dir)),
        watch_(std::move(watch)) {}

  FollowJournal* journal_;
  std::string direction_, publication_, dir_;
  InsertOnlyWatch watch_;
  std::set<std::string> told_;  // diverged tables whose changes were said to be left out
};

}  // namespace ferry::db
