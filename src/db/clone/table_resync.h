// Copies some tables again while follow keeps applying everything else
// (`ferry db clone --resync --tables T`): the way back for a table that
// diverged, for instance an insert-only table that received an UPDATE.
//
// Follow owns the whole exchange, so that nothing depends on two processes
// agreeing about timing:
//  1. follow stops applying changes to the tables and holds them in memory
//     instead, then waits until nothing for them is queued on the target;
//  2. a thread moves a table that has replica identity now (REPLICA
//     IDENTITY FULL set after the clone) from the insert-only publication to
//     the main one, so its updates and deletes are carried from here on
//     (they are held like the rest; doing it while follow still applied
//     them would fail on rows the target never had), takes a fresh
//     consistent point on the source (a temporary slot's exported snapshot,
//     position H) and, per table, in one target transaction, empties the
//     table and copies it at that snapshot;
//  3. follow applies the held changes committed at or after H (the copy has
//     the earlier ones) and, from then on, leaves out changes to those
//     tables committed before H; the journal records H for restarts.
// A copy that fails leaves the target as it was: nothing was committed, and
// every held change is applied. If follow stops half-way, the copy's
// sessions are ended, the request stays open in the journal and the next
// follow copies again from step 1.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/error.h"
#include "db/follow/follow_journal.h"
#include "db/follow/source_transaction.h"
#include "pg/catalog.h"
#include "pg/conninfo.h"

namespace ferry::pg {
class Connection;
}  // namespace ferry::pg

namespace ferry::db {

// A change held during the copy, with the commit position of its transaction.
using HeldChange = std::pair<pg::Lsn, Change>;

// Of the held changes, those the target still needs once the copy is over:
// for a table in `copied_at` (table -> the snapshot position it was copied
// at) the ones committed at or after it; for any other table, all of them.
// Changes to tables in `diverged` are left out.
std::vector<Change> held_changes_to_apply(std::vector<HeldChange> held,
                                          const std::map<std::string, std::string>& copied_at,
                                          const std::map<std::string, std::string>& diverged = {});

struct TableResyncOptions {
  pg::ConnInfo source, target;
  std::string slot;  // the temporary slot is "<slot>_resync_<pid>"
  // The main publication: a table with replica identity now moves into it
  // from the insert-only one, while its changes are held, before the snapshot.
  std::string publication = "ferry";
  // Held changes beyond this are dropped and the resync fails (the table is
  // then reported diverged): memory stays bounded under any write rate.
  size_t max_held_bytes = 256u << 20;
};

// The bound follow uses: four large transactions' worth, at least 256 MiB.
size_t held_bytes_bound(size_t max_transaction_bytes);

struct ResyncOutcome {
  std::map<std::string, std::string> copied_at;  // table -> horizon, for tables committed
  std::vector<std::string> now_fully_carried;    // moved to the main publication
  std::map<std::string, int64_t> counters;       // update/delete counters before the snapshot
  int64_t rows = 0;
  double seconds = 0;
  std::optional<Error> error;  // the copy failed (tables in copied_at still committed)
  // Tables not copied whose held changes cannot be applied to what the
  // target has (why, per table): they are reported diverged.
  std::map<std::string, std::string> diverged;
};

class TableResync {
 public:
  TableResync(TableResyncOptions options, ResyncRecord request);
  ~TableResync();
  TableResync(const TableResync&) = delete;
  TableResync& operator=(const TableResync&) = delete;

  const ResyncRecord& request() const { return request_; }
  bool holds(const std::string& table) const { return tables_.count(table) > 0; }

  // Takes the changes to the tables out of `t` and holds them.
  void divert(SourceTransaction& t);
  // A change of a large transaction as it streams; true when it was held.
  bool divert(Change& c, pg::Lsn final_lsn);
  size_t held() const { return held_.size(); }
  // Held changes dropped for the memory bound (the tables are diverged then).
  size_t dropped() const { return dropped_; }

  // Step 2, on its own thread. Call once nothing for the tables is queued.
  void start();
  bool finished() const { return finished_; }
  // After finished(): what the copy did, and the held changes the target
  // still needs, in source order (all of them for a table not copied).
  ResyncOutcome outcome() const { return outcome_; }
  std::vector<Change> changes_to_apply();

 private:
  void copy();
  Result<void> copy_tables();
  std::string snapshot_slot() const;  // the temporary slot giving the new snapshot
  Result<void> place_in_publications(pg::Connection& source, pg::Connection& target);
  void tables_left_diverged();
  void hold(pg::Lsn final_lsn, Change&& c);

  TableResyncOptions o_;
  ResyncRecord request_;
  std::set<std::string> tables_;
  std::vector<HeldChange> held_;
  size_t held_bytes_ = 0, dropped_ = 0;
  std::vector<pg::Table> moved_to_main_;      // to move back if their copy fails
  std::set<std::string> uncertain_;           // the copy's commit could not be confirmed
  std::set<std::string> added_inserts_only_;  // were in no publication before
  std::thread thread_;
  std::atomic<bool> finished_{false};
  // The copy's sessions, ended when follow stops before the copy is done.
  std::atomic<int64_t> source_pid_{0}, target_pid_{0};
  ResyncOutcome outcome_;
};

}  // namespace ferry::db
