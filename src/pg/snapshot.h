// A consistent point in a source database that several connections can read
// at once: an exported snapshot, optionally created together with a logical
// replication slot so that changes after exactly that point can be streamed.
#pragma once

#include <memory>
#include <string>

#include "core/error.h"
#include "pg/conninfo.h"

namespace ferry::pg {

class Connection;

class ExportedSnapshot {
 public:
  // CREATE_REPLICATION_SLOT ... LOGICAL pgoutput EXPORT_SNAPSHOT (the form
  // every server since PostgreSQL 10 accepts) on a
  // walsender connection: the slot's start position and the snapshot are the
  // same instant, so copy + stream has no gap and no overlap. A temporary slot
  // disappears with the connection (used to get a fresh consistent point).
  static Result<ExportedSnapshot> with_slot(const ConnInfo& source, const std::string& slot_name,
                                            bool temporary);
  // A REPEATABLE READ transaction's pg_export_snapshot(), for one-shot copies.
  static Result<ExportedSnapshot> plain(const ConnInfo& source);

  ExportedSnapshot(ExportedSnapshot&&) noexcept;
  ExportedSnapshot& operator=(ExportedSnapshot&&) noexcept;
  ~ExportedSnapshot();

  // Valid for SET TRANSACTION SNAPSHOT and pg_dump --snapshot while this
  // object (and its connection) lives.
  const std::string& name() const { return name_; }
  // The WAL position of the snapshot ("0/1A2B3C8").
  const std::string& lsn() const { return lsn_; }

 private:
  ExportedSnapshot() = default;
  std::unique_ptr<Connection> conn_;
  std::string name_, lsn_;
};

// Starts a REPEATABLE READ, read-only transaction on `conn` that sees exactly
// the exported snapshot.
Result<void> import_snapshot(Connection& conn, const std::string& snapshot_name);

}  // namespace ferry::pg
