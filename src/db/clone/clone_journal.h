// The clone's journal: WORKDIR/clone.db (SQLite). It records the run's
// settings, which steps finished, and every table part with its state, so
// `ferry db clone --resume` continues after a crash or kill -9 without
// re-copying finished work. A part's target transaction id is written before
// that transaction commits, so on resume the target itself says whether an
// interrupted part committed (pg_xact_status): no part is lost or doubled.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/sqlite.h"

namespace ferry::db {

enum class PartState { kPending, kCopying, kDone };

struct PartRecord {
  int64_t id = 0;
  std::string schema, name;
  int part_no = 0, part_count = 1;
  // Heap block range [block_lo, block_hi) read by ctid; block_hi < 0: to the
  // end. A whole table has part_count 1.
  int64_t block_lo = 0, block_hi = -1;
  int64_t estimated_bytes = 0;
  PartState state = PartState::kPending;
  std::string target_xid;    // the copying transaction on the target
  std::string snapshot_lsn;  // the source snapshot it was copied at
  int64_t rows = 0, bytes = 0;
  double seconds = 0;

  bool whole_table() const { return part_count == 1; }
};

class CloneJournal {
 public:
  // Fresh runs need a directory without a journal; --resume needs one.
  static Result<void> check_dir(const std::string& dir, bool resume);
  static Result<CloneJournal> open(const std::string& dir, bool resume);

  Result<std::optional<std::string>> get(const std::string& key);
  Result<void> set(const std::string& key, const std::string& value);
  Result<bool> step_done(const std::string& step);
  Result<void> mark_step_done(const std::string& step, double seconds);

  // Records the parts and marks the step "planned" done, atomically.
  Result<void> plan(const std::vector<PartRecord>& parts);
  Result<std::vector<PartRecord>> parts();
  Result<void> part_copying(int64_t id, const std::string& xid, const std::string& lsn);
  Result<void> part_done(int64_t id, int64_t rows, int64_t bytes, double seconds);
  Result<void> part_pending(int64_t id);

  const std::string& path() const { return db_->path(); }

 private:
  CloneJournal() = default;
  std::unique_ptr<std::mutex> mutex_ = std::make_unique<std::mutex>();
  std::unique_ptr<SqliteDb> db_;
};

}  // namespace ferry::db
