// What a role without SUPERUSER needs for each of ferry's jobs. Managed
// PostgreSQL (RDS, Aurora, Cloud SQL, Azure) gives no superuser, so these are
// checked up front, by `db check` and the cutover's preflight, and refused
// with the GRANT to run, rather than found halfway through a clone or after
// the old side went read-only.
#pragma once

#include <string>
#include <vector>

#include "core/error.h"

namespace ferry::pg {
class Connection;
}

namespace ferry::db {

struct MissingPrivilege {
  std::string what;  // "the user mover cannot SET session_replication_role on ..."
  std::string fix;   // the statement a superuser (or the platform's admin role) runs
};

// On the side a follow applies to: SET session_replication_role (triggers
// and foreign keys stay quiet while applying what the source already
// checked) and EXECUTE on the replication-origin functions (where the apply
// records its position, for exactly-once after a crash).
Result<std::vector<MissingPrivilege>> missing_apply_privileges(pg::Connection& conn);

// On the side a slot streams from: REPLICATION, CREATE on the database (for
// the publications), and without SUPERUSER the ownership of every table,
// since a publication then lists its tables (FOR TABLE needs each table's
// owner; FOR ALL TABLES needs a superuser).
Result<std::vector<MissingPrivilege>> missing_stream_privileges(pg::Connection& conn);

// On a side a cutover or rollback makes read-only or writable again: ALTER
// DATABASE ... SET needs the database's owner.
Result<std::vector<MissingPrivilege>> missing_database_owner(pg::Connection& conn);

// On the side whose sessions a cutover ends: without SUPERUSER or
// pg_signal_backend only the user's own sessions can be ended, so client
// sessions of other roles connected now are named.
Result<std::vector<MissingPrivilege>> missing_signal_privilege(pg::Connection& conn);

// True when the connected user is a superuser.
Result<bool> is_superuser(pg::Connection& conn);

}  // namespace ferry::db
