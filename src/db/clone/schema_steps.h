// The schema half of a clone, done by PostgreSQL's own tools: pg_dump writes
// the source's DDL once (at the clone's snapshot) into WORKDIR/schema.dump,
// and pg_restore turns it into SQL around the data: pre-data (types, tables,
// functions, views) before the copy, post-data (indexes, constraints,
// triggers) after it.
//
// Every restore step is either one target transaction whose id the clone
// journals before it commits (so a resume asks the target whether it
// happened), or made of statements that each commit on their own and are
// skipped on resume when their object exists (the parallel index builds).
#pragma once

#include <functional>
#include <string>

#include "core/error.h"
#include "pg/conninfo.h"

namespace ferry::pg {
class Connection;
}

namespace ferry::db {

struct SchemaStepOptions {
  bool no_owner = false;  // --no-owner --no-acl: the target user owns everything
};

// pg_dump -Fc of everything but table data, at `snapshot`. The restores
// leave publications and subscriptions behind: a copied subscription would
// start pulling data into the target from wherever the source's pointed.
Result<void> dump_schema(const pg::ConnInfo& source, const std::string& snapshot,
                         const std::string& file);

// Which part of the dump a script holds.
enum class ScriptPart {
  kPreData,                   // types, tables, functions, views (and large objects' existence)
  kLargeObjects,              // large objects' contents
  kLargeObjectsWithMetadata,  // their existence too, for targets whose schema ferry did not create
  kPostDataRest,              // post-data except indexes and index-backed constraints
};

// The SQL pg_restore would run for `part` ("" when the dump has none of it).
Result<std::string> restore_script(const std::string& file, ScriptPart part,
                                   const SchemaStepOptions& options);

// Rewrites the script's foreign keys on plain tables to be added NOT VALID
// and returns, for each, the ALTER TABLE ... VALIDATE CONSTRAINT to run later.
// For a clone whose tables were copied at different instants (a resume while
// the source was written): a referencing row may already be there while the
// row it points at arrives only with `ferry db follow`. Keys pg_dump already
// marks NOT VALID, and keys on partitioned tables (which cannot be NOT
// VALID), are left as they are.
std::vector<std::string> add_foreign_keys_not_valid(std::string& sql);

// Runs `sql` on a new target connection in one transaction; `before_commit`
// gets the transaction id once everything ran and before COMMIT.
Result<void> run_script_in_one_transaction(
    const pg::ConnInfo& target, const std::string& sql,
    const std::function<Result<void>(const std::string& xid)>& before_commit);

// One index or index-backed constraint (primary key, unique, exclusion) of
// the dump as SQL, with the table it belongs to, so it can be built as soon
// as that table's data is in while other tables are still copying.
struct IndexStatement {
  std::string table;  // "schema.name"; "" when unknown (built last)
  std::string name;   // for messages
  std::string sql;    // the session settings it needs, then the statement
};

// Every index and key constraint of the dump, one statement each, leaving
// out those that already exist on the target (each commits on its own, so a
// resumed clone skips what an interrupted one built). `source` resolves the
// dump's object ids to tables.
Result<std::vector<IndexStatement>> index_statements(pg::Connection& source, pg::Connection& target,
                                                     const std::string& file,
                                                     const SchemaStepOptions& options);

}  // namespace ferry::db
