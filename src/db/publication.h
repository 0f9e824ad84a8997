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
}

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

// The tables in `name`'s insert-only publication (schema.name), or none when
// it does not exist.
Result<std::vector<std::string>> insert_only_tables(pg::Connection& conn, const std::string& name);

// The publication_names a stream from `conn` uses: `name`, and its
// insert-only companion when it exists (a clone made before there was one has
// none). Fails when `name` itself does not exist.
Result<std::string> publications_to_stream(pg::Connection& conn, const std::string& name);

// A table that has replica identity now (REPLICA IDENTITY FULL was set after
// the clone) moves from the insert-only publication to the main one, so its
// updates and deletes are carried from then on. Returns whether it moved.
Result<bool> publish_all_changes_of(pg::Connection& conn, const std::string& name,
                                    const std::string& qualified_table,
                                    const std::string& display_table);

// ALTER TABLE ... REPLICA IDENTITY FULL on each of `qualified_tables`.
Result<void> set_replica_identity_full(pg::Connection& conn,
                                       const std::vector<std::string>& qualified_tables);

}  // namespace ferry::db
