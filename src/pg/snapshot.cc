#include "pg/snapshot.h"

#include "pg/connection.h"

namespace ferry::pg {

ExportedSnapshot::ExportedSnapshot(ExportedSnapshot&&) noexcept = default;
ExportedSnapshot& ExportedSnapshot::operator=(ExportedSnapshot&&) noexcept = default;
ExportedSnapshot::~ExportedSnapshot() = default;

Result<ExportedSnapshot> ExportedSnapshot::with_slot(const ConnInfo& source,
                                                     const std::string& slot_name, bool temporary) {
  auto conn = Connection::open(source, {"ferry snapshot", /*replication=*/true});
  if (!conn) return tl::unexpected(conn.error());
  auto rows = conn->query("CREATE_REPLICATION_SLOT " + quote_ident(slot_name) +
                          (temporary ? " TEMPORARY" : "") + " LOGICAL pgoutput EXPORT_SNAPSHOT");
  if (!rows)
    return tl::unexpected(std::move(rows.error()).with_context("creating slot " + slot_name));
  ExportedSnapshot s;
  s.lsn_ = std::string(rows->at(0, 1));
  s.name_ = std::string(rows->at(0, 2));
  s.conn_ = std::make_unique<Connection>(std::move(*conn));
  return s;
}

Result<ExportedSnapshot> ExportedSnapshot::plain(const ConnInfo& source) {
  auto conn = Connection::open(source, {"ferry snapshot"});
  if (!conn) return tl::unexpected(conn.error());
  if (auto ok = conn->exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !ok)
    return tl::unexpected(ok.error());
  auto rows = conn->query("SELECT pg_export_snapshot(), pg_current_wal_lsn()");
  if (!rows) return tl::unexpected(rows.error());
  ExportedSnapshot s;
  s.name_ = std::string(rows->at(0, 0));
  s.lsn_ = std::string(rows->at(0, 1));
  s.conn_ = std::make_unique<Connection>(std::move(*conn));
  return s;
}

Result<void> import_snapshot(Connection& conn, const std::string& snapshot_name) {
  if (auto ok = conn.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !ok) return ok;
  return conn.exec("SET TRANSACTION SNAPSHOT " + quote_literal(snapshot_name));
}

}  // namespace ferry::pg
