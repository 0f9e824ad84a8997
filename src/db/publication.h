// The publications a logical replication slot streams. Tables with replica
// identity go into the main one, which publishes every change. Tables
// without (no primary key, no REPLICA IDENTITY FULL or USING INDEX) go into a
// second one, "<name>_insert_only", that publishes only INSERT and TRUNCATE:
// PostgreSQL refuses UPDATE and DELETE on a table whose publication carries
// them and that has no replica identity, so this way the application on the
// source keeps working unchanged while its inserts still reach the target.
// Their updates and deletes cannot be carried; follow watches for them
// (insert_only_watch.h). Unlogged tables stay out of both: they are not in
// the WAL.
#pragma once

#include <string>
#include <vector>

#include "core/error.h"

namespace ferry::pg {
class Connection;
struct Table;
}  // namespace ferry::pg

namespace ferry::db {

// "<name>_insert_only": the publication for tables without replica identity.
std::string insert_only_publication(const std::string& name);

struct PublicationOutcome {
  bool existed = false;                  // the main publication was used as it was
  std::vector<std::string> insert_only;  // schema.name of the tables only inserts are carried for
};

// Creates `name` and, when there are tables without replica identity,
// insert_only_publication(name). Must run before the slot is created, so
// that decoding from the slot's start finds both.
Result<PublicationOutcome> create_publications(pg::Connection& conn, const std::string& name);

Result<bool> publication_exists(pg::Connection& conn, const std::string& name);

// The tables in `name`'s insert-only publication (schema.name), or none when
// it does not exist.
Result<std::vector<std::string>> insert_only_tables(pg::Connection& conn, const std::string& name);

// Tables of the database (schema.name, permanent, in user schemas) that
// neither `name` nor its insert-only companion carries: a table created after
// the clone when the publication lists its tables (a role that is not a
// superuser, or a clone with tables without a key). None when `name` is FOR
// ALL TABLES.
Result<std::vector<std::string>> tables_no_publication_carries(pg::Connection& conn,
                                                               const std::string& name);

// The publication_names a stream from `conn` uses: `name`, and its
// insert-only companion when it exists (a clone made before there was one has
// none). Fails when `name` itself does not exist.
Result<std::string> publications_to_stream(pg::Connection& conn, const std::string& name);

// A table's place among the publications, made right for a resync: with
// replica identity (REPLICA IDENTITY FULL set after the clone, say) it
// belongs in the main publication, so its updates and deletes are carried;
// without, in the insert-only one. Returns true when it moved (out of the
// insert-only publication into the main one) or was added (a table no
// publication had). Fails for a table without identity when there is no
// insert-only publication: a stream started without it would not see it.
Result<bool> place_in_publications(pg::Connection& conn, const std::string& name,
                                   const pg::Table& table);
// Undoes place_in_publications' move into the main publication (the copy
// failed: its updates and deletes cannot apply to the rows the target has).
Result<void> publish_inserts_only_of(pg::Connection& conn, const std::string& name,
                                     const pg::Table& table);

// ALTER TABLE ... REPLICA IDENTITY FULL on each of `qualified_tables`.
Result<void> set_replica_identity_full(pg::Connection& conn,
                                       const std::vector<std::string>& qualified_tables);

}  // namespace ferry::db
