// Turns the stream of decoded pgoutput messages into whole source
// transactions ready to apply, and decides what is not to be applied:
//  - transactions the target already has (commit before the applied position);
//  - transactions that came from ferry's own apply on the source (they carry
//    a ferry replication origin: the reverse stream after a cutover), so
//    nothing loops between the two servers;
//  - changes to a table copied at a later snapshot than the slot's start (a
//    clone resumed after a crash copies at a new snapshot; changes committed
//    before it are already in those rows).
// A transaction larger than the memory bound is handed on in pieces.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/error.h"
#include "db/follow/source_transaction.h"

namespace ferry::db {

struct AssemblerEvent {
  enum class Kind {
    kNothing,      // the message was absorbed
    kRelation,     // a table's description arrived or changed: check it against the target
    kTransaction,  // `transaction` is complete
    kLargeBegin,   // `transaction` holds a large one's start; its changes follow one by one
    kLargeChange,  // `change` belongs to the large transaction
    kLargeCommit,  // `transaction->commit` ends the large transaction
    kMarker,       // a ferry logical message outside a transaction (`marker`, at `marker_lsn`)
  };
  Kind kind = Kind::kNothing;
  std::unique_ptr<SourceTransaction> transaction;
  std::optional<Change> change;
  std::shared_ptr<const TargetRelation> relation;
  const pg::RelationMessage* relation_message = nullptr;  // valid until the next feed()
  std::string marker;
  pg::Lsn marker_lsn = 0;
};

class TransactionAssembler {
 public:
  // `applied`: the end of the last commit the target has; `copy_horizons`:
  // schema.name -> the snapshot its rows were copied at, for tables copied
  // after the slot's start; `max_bytes`: above this, a transaction streams.
  TransactionAssembler(pg::Lsn applied, std::map<std::string, pg::Lsn> copy_horizons,
                       size_t max_bytes);

  Result<AssemblerEvent> feed(pg::PgOutputMessage&& message);

  int64_t transactions_skipped() const { return skipped_; }
  // A number in source order for a transaction follow makes itself (the
  // changes a resync held back), between two assembled ones.
  int64_t allocate_seq() { return next_seq_++; }
  // A table copied again at `lsn` while streaming: changes to it committed
  // before that are left out from now on.
  void add_horizon(const std::string& table, pg::Lsn lsn);
  bool in_transaction() const { return in_transaction_; }

 private:
  Result<std::optional<Change>> resolve(pg::PgOutputMessage&& message);
  Result<std::shared_ptr<const TargetRelation>> relation(uint32_t id) const;
  bool before_copy(const TargetRelation& rel) const;

  pg::Lsn applied_;
  std::map<std::string, pg::Lsn> horizons_;
  size_t max_bytes_;
  std::unordered_map<uint32_t, std::shared_ptr<const TargetRelation>> relations_;
  pg::RelationMessage last_relation_;
  std::unique_ptr<SourceTransaction> current_;
  bool in_transaction_ = false, skipping_ = false, large_ = false;
  int64_t next_seq_ = 1, skipped_ = 0;
};

}  // namespace ferry::db
