// Applies source transactions on several target connections at once while
// keeping the result identical to applying them one by one in source commit
// order:
//  - a transaction starts only after every earlier transaction that touches
//    one of the same rows (by replica identity key) has committed; a table
//    without a key, and a TRUNCATE, order the whole table; inserts into a
//    table without replica identity (only inserts arrive) wait for a
//    TRUNCATE only;
//  - consecutive transactions waiting together (a backlog) are applied as
//    one target transaction, all or nothing, recording the last one's position;
//  - transactions commit in source order, so what the target has committed is
//    always a prefix of the source's history, and each worker's replication
//    origin records where that prefix ends (the restart point is the furthest
//    of them);
//  - conflicts the keys cannot see (a unique value moved between rows, a lock
//    wait between two workers) make the transaction fail on the target; it
//    and every later one still open are rolled back and applied again one at
//    a time, in order, until the pool is past them.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "db/follow/change_applier.h"

namespace ferry::db {

// The replication origins one follow writes with, "ferry:<database>:<slot>"
// then ":<worker>": origins are per server, so the database is part of the name.
std::string apply_origin_prefix(const std::string& database, const std::string& slot);
// Drops the origins of `slot` into the connection's database: a fresh clone
// starts with no applied position.
Result<void> drop_apply_origins(pg::Connection& target, const std::string& slot);

struct ApplyPoolOptions {
  pg::ConnInfo target;
  std::string origin_prefix = "ferry";  // origins <prefix>:0 .. <prefix>:<jobs-1>
  int jobs = 4;
  ApplySessionSettings settings;
  size_t max_queued = 4096;  // transactions submitted and not yet committed
};

struct ApplyProgress {
  int64_t committed_seq = 0;
  pg::Lsn committed_end = 0;  // end of the last source commit applied, in order
  int64_t commit_time = 0;    // its source commit time (µs since 2000-01-01)
  int64_t transactions = 0, rows = 0, conflicts = 0;
  int64_t queued = 0;  // submitted, not yet committed
};

// What the pool needs of one worker's target session: a ChangeApplier on a
// real server, a fake in apply_pool_test.cc (which checks the ordering and
// conflict handling above without one).
class GroupApplier {
 public:
  virtual ~GroupApplier() = default;
  // Sends the group's statements as one open target transaction.
  virtual Result<void> execute(const std::vector<const SourceTransaction*>& group) = 0;
  virtual Result<void> commit() = 0;
  virtual Result<void> rollback() = 0;
  virtual int64_t rows_in_transaction() const = 0;
};

class ApplyPool {
 public:
  // One ChangeApplier per job, each with its own replication origin.
  static Result<std::unique_ptr<ApplyPool>> open(const ApplyPoolOptions& options);
  // The pool over `appliers` (one worker thread each), with the target
  // already holding everything up to `restart_point`.
  static std::unique_ptr<ApplyPool> start(std::vector<std::unique_ptr<GroupApplier>> appliers,
                                          size_t max_queued, pg::Lsn restart_point = 0);
  ~ApplyPool();

  // The end of the last source commit the target holds, over every origin
  // with the prefix (also those of an earlier run with more jobs).
  pg::Lsn restart_point() const { return restart_point_; }

  // Queues a transaction (numbered by the caller in source order). While
  // max_queued are in flight it waits up to `wait_ms` and returns false,
  // leaving `t` with the caller to offer again. Fails once the pool has failed.
  Result<bool> submit(std::unique_ptr<SourceTransaction>& t, int wait_ms);
  // Whether everything submitted has committed, waiting up to `wait_ms`.
  Result<bool> drain(int wait_ms);
  // Between a successful drain() and the next submit(): the first worker's applier, for a
  // transaction too large to hold, applied as it streams. Report its commit
  // with committed_outside().
  // Only for a pool made by open().
  ChangeApplier& serial() { return *serial_; }
  void committed_outside(int64_t seq, const pg::CommitMessage& commit, int64_t rows);

  ApplyProgress progress() const;
  // Source-commit-to-target-commit delays (ms) since the last call.
  std::vector<double> take_lag_samples();
  // The error that stopped the workers, once one has.
  std::optional<Error> failure() const;

 private:
  struct Task {
    std::unique_ptr<SourceTransaction> t;
    // Earlier transactions sharing a row or table with it, ascending.
    std::vector<int64_t> deps;
    bool must_abort = false;
    int retries = 0;
  };
  struct Worker {
    std::unique_ptr<GroupApplier> applier;
    std::thread thread;
  };
  ApplyPool() = default;
  void run_worker(Worker& w);
  std::vector<std::shared_ptr<Task>> take_group();
  bool ready(const Task& task) const;
  std::vector<int64_t> dependencies(const SourceTransaction& t);
  void record_commit(const SourceTransaction& t, int64_t rows);
  void fail_with(Error e);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Worker>> workers_;
  ChangeApplier* serial_ = nullptr;            // the first worker's, when open() made them
  std::deque<std::shared_ptr<Task>> pending_;  // in seq order
  std::vector<std::shared_ptr<Task>> running_;
  ApplyProgress progress_;
  int64_t submitted_seq_ = 0;
  int64_t serial_until_ = 0;  // after a conflict, one at a time up to here
  std::optional<Error> failure_;
  bool stopping_ = false;
  size_t max_queued_ = 512;
  pg::Lsn restart_point_ = 0;
  // Row key hash -> latest seq; table -> latest seq touching any row; table
  // -> latest seq ordering the whole table.
  std::unordered_map<uint64_t, int64_t> row_last_;
  std::unordered_map<uint32_t, int64_t> table_any_, table_whole_;
  std::vector<double> lag_samples_;
};

}  // namespace ferry::db
