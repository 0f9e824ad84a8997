// The follow's journal: WORKDIR/follow.db (SQLite), shared by the processes
// that work on one move: clone seeds it, follow and cutover read and write it,
// `ferry db clone --resync` asks follow for a table copy through it. It holds
//  - the insert-only tables' update/delete counters when watching began
//    (the baseline), per direction, and the tables found diverged;
//  - resync requests and their progress, and the snapshot position each
//    resynced table was copied at (its horizon: follow leaves out changes
//    committed before it, which the copy already has).
// Every write is one SQLite transaction, so a process killed at any moment
// leaves a consistent journal.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/sqlite.h"

namespace ferry::db {

struct DivergedTable {
  std::string table;        // schema.name
  std::string detected_at;  // ISO 8601 UTC
  std::string detail;       // what was seen, with the numbers
};

// requested -> copying -> done | failed. A request found copying when follow
// starts was cut short by a restart and is copied again from the start.
enum class ResyncState { kRequested, kCopying, kDone, kFailed };
const char* resync_state_name(ResyncState state);  // "requested", ... as journaled

struct ResyncRecord {
  int64_t id = 0;
  std::vector<std::string> tables;  // schema.name
  ResyncState state = ResyncState::kRequested;
  std::string horizon;  // the snapshot position the tables were copied at
  int64_t rows = 0;
  double seconds = 0;
  std::string detail;  // what happened, or why it failed
};

class FollowJournal {
 public:
  static std::string path(const std::string& dir);
  // Opens WORKDIR/follow.db, creating it (and the directory) when missing.
  static Result<FollowJournal> open(const std::string& dir);
  // A fresh clone starts a new history: what an earlier move recorded goes.
  static Result<void> remove(const std::string& dir);

  // Update/delete counters per insert-only table, when watching began.
  Result<std::map<std::string, int64_t>> baselines(const std::string& direction);
  Result<void> set_baseline(const std::string& direction, const std::string& table,
                            int64_t changes);

  // Forgets a direction's baselines and divergences (a new reverse stream).
  Result<void> reset_direction(const std::string& direction);
  Result<std::vector<DivergedTable>> diverged(const std::string& direction);
  Result<void> mark_diverged(const std::string& direction, const DivergedTable& table);
  Result<void> clear_diverged(const std::string& direction, const std::string& table);

  Result<int64_t> request_resync(const std::vector<std::string>& tables);
  Result<std::optional<ResyncRecord>> resync(int64_t id);
  // The oldest request not yet finished (requested or copying), if any.
  Result<std::optional<ResyncRecord>> next_resync();
  Result<void> update_resync(const ResyncRecord& record);
  // schema.name -> the latest horizon a finished resync copied it at.
  Result<std::map<std::string, std::string>> resync_horizons();
  Result<void> set_resync_horizon(const std::string& table, const std::string& lsn);

 private:
  FollowJournal() = default;
  std::unique_ptr<std::mutex> mutex_ = std::make_unique<std::mutex>();
  std::unique_ptr<SqliteDb> db_;
};

}  // namespace ferry::db
