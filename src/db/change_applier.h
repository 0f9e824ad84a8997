// Applies decoded pgoutput transactions to the target, exactly once: each
// source transaction becomes one target transaction that also records, through
// a replication origin, the source commit it carries. After a crash the
// origin's progress says where to resume; a transaction either committed with
// its progress or not at all. Statements use the target's own input functions
// (values travel as text), so every type round-trips as it does in COPY text.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "pg/pgoutput.h"

namespace ferry::pg {
class Connection;
}

namespace ferry::db {

class ChangeApplier {
 public:
  // `origin` names the replication origin on the target (created if missing).
  static Result<ChangeApplier> open(pg::Connection& target, const std::string& origin);

  // The source commit LSN the target has durably applied up to (0: none).
  pg::Lsn applied() const { return applied_; }

  // Feeds one decoded message. Changes are applied inside the open
  // transaction; Commit commits it with its progress. Transactions already
  // applied (commit LSN at or below applied()) are skipped whole.
  Result<void> apply(const pg::PgOutputMessage& message);

  int64_t transactions_applied() const { return transactions_; }
  int64_t rows_applied() const { return rows_; }

 private:
  ChangeApplier(pg::Connection& target, std::string origin)
      : target_(&target), origin_(std::move(origin)) {}
  struct Relation {
    std::string qualified;
    std::vector<std::string> columns;  // quoted
    std::vector<bool> key;
  };
  Result<void> begin(const pg::BeginMessage& m);
  Result<void> commit(const pg::CommitMessage& m);
  Result<void> insert(const pg::InsertMessage& m);
  Result<void> update(const pg::UpdateMessage& m);
  Result<void> remove(const pg::DeleteMessage& m);
  Result<void> truncate(const pg::TruncateMessage& m);
  Result<const Relation*> relation(uint32_t id) const;
  Result<void> run(const std::string& sql, const std::vector<std::string>& params, size_t expect);

  pg::Connection* target_;
  std::string origin_;
  pg::Lsn applied_ = 0;
  std::unordered_map<uint32_t, Relation> relations_;
  bool in_transaction_ = false;
  bool skipping_ = false;  // a transaction already applied before a restart
  pg::BeginMessage current_;
  int64_t transactions_ = 0, rows_ = 0;
  int64_t rows_in_transaction_ = 0;
};

}  // namespace ferry::db
