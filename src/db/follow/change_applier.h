// Applies source transactions to the target over one connection, exactly
// once: each source transaction becomes one target transaction that also
// records, through this session's replication origin, the end of the source
// commit it carries. After a crash the origin's progress says where to
// resume; a transaction either committed with its progress or not at all.
// Values travel as text through the target's own input functions, so every
// type round-trips as it does in COPY text.
//
// A transaction's statements go to the server as one batch (one round trip),
// its COMMIT as a second: a transaction costs two round trips, whatever its
// size, up to a large one applied as it streams (a batch every 500 changes).
//
// The session behaves like PostgreSQL's apply workers: triggers and foreign
// key checks off (session_replication_role = replica; the source already ran
// them), and its changes are tagged with the origin so that a stream in the
// other direction can leave them out instead of sending them back.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/follow/source_transaction.h"
#include "pg/conninfo.h"

namespace ferry::pg {
class Connection;
}

namespace ferry::db {

struct ApplySessionSettings {
  // 0: wait forever. A parallel worker uses a short lock timeout: a lock wait
  // between two transactions ferry runs at once is a conflict it must undo.
  int lock_timeout_ms = 0;
  int statement_timeout_ms = 0;
  // Commits need not wait for the target's WAL flush: the slot is told about
  // a commit only once the target has flushed it (see follow's flush fence),
  // and the origin's progress is lost with the commit if the target crashes.
  bool asynchronous_commit = true;
  // Writes even where the database defaults to read-only (the old side after
  // a cutover, fed by the reverse stream).
  bool override_read_only = false;
};

// SQLSTATEs of errors that come from running transactions concurrently, not
// from the data: such a transaction is retried after its predecessors commit.
bool is_conflict(const Error& e);
// Errors after which the connection is gone: follow reconnects and resumes.
bool is_connection_loss(const Error& e);

class ChangeApplier {
 public:
  // `origin` names the replication origin on the target (created if missing).
  static Result<ChangeApplier> open(const pg::ConnInfo& target, const std::string& origin,
                                    const ApplySessionSettings& settings);
  ChangeApplier(ChangeApplier&&) noexcept;
  ChangeApplier& operator=(ChangeApplier&&) noexcept;
  ~ChangeApplier();

  // The end of the last source commit this origin applied (0: none).
  pg::Lsn applied() const { return applied_; }
  const std::string& origin() const { return origin_; }

  // Whole transactions: execute() sends their statements, in order, as one
  // target transaction, with the record of the last one's source position;
  // commit() commits. Several small source transactions applied as one
  // target transaction are still all or nothing. They must outlive commit().
  // The changes are coalesced into set-based statements (write_coalescer.h)
  // unless `coalesce` is false; a coalesced batch that finds a row missing
  // is applied again one change per statement, to name the row.
  Result<void> execute(const std::vector<const SourceTransaction*>& group, bool coalesce = true);
  Result<void> commit();
  // A large transaction in pieces, applied as it streams in.
  Result<void> begin(const pg::BeginMessage& m);
  Result<void> change(Change&& c);
  Result<void> commit(const pg::CommitMessage& m);
  // Undoes the open transaction, if any; the connection stays usable.
  Result<void> rollback();

  int64_t rows_in_transaction() const { return rows_in_transaction_; }

 private:
  ChangeApplier() = default;
  // Per statement in the batch: the change that must find its row (update,
  // delete) and its source transaction, or the rows a coalesced statement
  // must change; whether its rows count as applied.
  struct Expectation {
    const Change* change = nullptr;
    pg::BeginMessage transaction;
    int64_t exact_rows = -1;  // a coalesced statement: the rows it must change
    bool counts = false;      // its rows count as applied
  };
  // Appends the statement for `c` to the batch; `c` must live until flush().
  void add(const Change& c);
  void add_statement(std::string sql, const Change* expects_row_of, bool counts = false,
                     int64_t exact_rows = -1);
  Result<void> send(const std::vector<const SourceTransaction*>& group, bool coalesce);
  void add_progress(const pg::CommitMessage& m);
  // Sends the batch; an update or delete that matched no row is an error.
  Result<void> flush();
  Error diverged(const Expectation& e) const;

  std::unique_ptr<pg::Connection> target_;
  std::string origin_;
  pg::Lsn applied_ = 0, pending_end_ = 0;
  bool in_transaction_ = false;
  pg::BeginMessage current_;
  int64_t rows_in_transaction_ = 0;
  std::string batch_;
  std::vector<Expectation> expects_;
  std::deque<Change> held_;  // a streaming transaction's changes, until flushed
};

}  // namespace ferry::db
