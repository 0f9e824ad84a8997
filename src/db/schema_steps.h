// The schema half of a clone, done by PostgreSQL's own tools: pg_dump writes
// the source's DDL once (at the clone's snapshot) into WORKDIR/schema.dump,
// and pg_restore replays it in two sections around the data: pre-data (types,
// tables, functions, views) before the copy, post-data (indexes, constraints,
// triggers) after it, with parallel jobs.
#pragma once

#include <string>

#include "core/error.h"
#include "pg/conninfo.h"

namespace ferry::pg {
class Connection;
}

namespace ferry::db {

struct SchemaStepOptions {
  bool no_owner = false;  // --no-owner --no-acl: the target user owns everything
  int jobs = 1;
  // maintenance_work_mem for index builds ("256MB"); empty: the server's.
  std::string maintenance_work_mem;
};

// pg_dump -Fc of everything but table data, at `snapshot`. The restores
// leave publications and subscriptions behind: a copied subscription would
// start pulling data into the target from wherever the source's pointed.
Result<void> dump_schema(const pg::ConnInfo& source, const std::string& snapshot,
                         const std::string& file);

// Pre-data in one transaction: all of it or nothing, so an interrupted run
// simply runs it again.
Result<void> restore_pre_data(const pg::ConnInfo& target, const std::string& file,
                              const SchemaStepOptions& options);

// The contents of large objects (the dump's BLOBS entry), in one transaction;
// with `with_metadata` also the objects themselves, for targets whose schema
// ferry did not create.
Result<void> restore_large_objects(const pg::ConnInfo& target, const std::string& file,
                                   const SchemaStepOptions& options, bool with_metadata);

// Post-data with `options.jobs` parallel pg_restore workers. When resuming an
// interrupted post-data step, indexes, constraints and triggers that already
// exist on the target are left out (each was created by its own committed
// statement); `source` resolves the dump's object ids to names.
Result<void> restore_post_data(pg::Connection& source, pg::Connection& target,
                               const std::string& file, const SchemaStepOptions& options,
                               bool resuming, const std::string& workdir);

}  // namespace ferry::db
