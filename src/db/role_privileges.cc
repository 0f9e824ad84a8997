#include "db/role_privileges.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/text.h"
#include "pg/catalog.h"
#include "pg/connection.h"

namespace ferry::db {

namespace {

// The replication-origin functions the apply calls; PostgreSQL revokes them
// from PUBLIC, and a superuser may GRANT them.
constexpr const char* kOriginFunctions[] = {
    "pg_replication_origin_create(text)",
    "pg_replication_origin_drop(text)",
    "pg_replication_origin_oid(text)",
    "pg_replication_origin_progress(text, boolean)",
    "pg_replication_origin_session_setup(text)",
    "pg_replication_origin_xact_setup(pg_lsn, timestamp with time zone)",
};

std::string on(const pg::Connection& conn) { return conn.info().redacted(); }

}  // namespace

Result<bool> is_superuser(pg::Connection& conn) {
  auto r = conn.query("SELECT rolsuper FROM pg_roles WHERE rolname = current_user");
  if (!r) return tl::unexpected(r.error());
  return r->bool_at(0, 0);
}

Result<std::vector<MissingPrivilege>> missing_apply_privileges(pg::Connection& conn) {
  std::vector<MissingPrivilege> missing;
  auto user = conn.query(
      "SELECT current_user, current_database(), rolsuper FROM pg_roles WHERE rolname = "
      "current_user");
  if (!user) return tl::unexpected(user.error());
  if (user->bool_at(0, 2)) return missing;
  const std::string role = pg::quote_ident(user->at(0, 0));
  // GRANT SET ON PARAMETER came with PostgreSQL 15; before it only a
  // superuser may set session_replication_role.
  if (conn.server_version() < 150000) {
    missing.push_back({fmt::format("the user {} on {} is not a superuser, and before PostgreSQL "
                                   "15 only a superuser may SET session_replication_role",
                                   user->at(0, 0), on(conn)),
                       "connect as a superuser (on a managed server: the platform's admin role, "
                       "e.g. rds_superuser)"});
    return missing;
  }
  // The parameter and every function in one round trip; the signatures hold
  // no quote or backslash, so each goes into the array literal as it is.
  std::string functions;
  for (const char* f : kOriginFunctions)
    functions += fmt::format("{}\"{}\"", functions.empty() ? "{" : ",", f);
  functions += "}";
  auto r = conn.query(
      "SELECT has_parameter_privilege('session_replication_role', 'SET'), "
      "count(*) FILTER (WHERE NOT has_function_privilege(f, 'EXECUTE')), "
      "coalesce(string_agg(f, ', ' ORDER BY n) FILTER (WHERE NOT has_function_privilege(f, "
      "'EXECUTE')), '') FROM unnest($1::text[]) WITH ORDINALITY AS u(f, n)",
      {functions});
  if (!r) return tl::unexpected(r.error());
  if (!r->bool_at(0, 0))
    missing.push_back({fmt::format("the user {} cannot SET session_replication_role on {}",
                                   user->at(0, 0), on(conn)),
                       fmt::format("GRANT SET ON PARAMETER session_replication_role TO {}", role)});
  if (r->int_at(0, 1) > 0)
    missing.push_back(
        {fmt::format("the user {} cannot run {} replication-origin function(s) on {} (where "
                     "the apply records its position)",
                     user->at(0, 0), r->int_at(0, 1), on(conn)),
         fmt::format("in database {}: GRANT EXECUTE ON FUNCTION {} TO {}",
                     pg::quote_ident(user->at(0, 1)), r->at(0, 2), role)});
  return missing;
}

Result<std::vector<MissingPrivilege>> missing_stream_privileges(pg::Connection& conn) {
  std::vector<MissingPrivilege> missing;
  auto r = conn.query(
      "SELECT current_user, rolsuper, rolreplication, "
      "has_database_privilege(current_database(), 'CREATE'), current_database() "
      "FROM pg_roles WHERE rolname = current_user");
  if (!r) return tl::unexpected(r.error());
  const std::string user(r->at(0, 0)), role = pg::quote_ident(user);
  if (r->bool_at(0, 1)) return missing;
  if (!r->bool_at(0, 2))
    missing.push_back({fmt::format("the user {} on {} has neither REPLICATION nor SUPERUSER "
                                   "(a replication slot needs one)",
                                   user, on(conn)),
                       fmt::format("ALTER ROLE {} REPLICATION (RDS and Aurora: GRANT "
                                   "rds_replication TO {})",
                                   role, role)});
  if (!r->bool_at(0, 3))
    missing.push_back(
        {fmt::format("the user {} cannot CREATE in database {} on {} (the publications)", user,
                     r->at(0, 4), on(conn)),
         fmt::format("GRANT CREATE ON DATABASE {} TO {}", pg::quote_ident(r->at(0, 4)), role)});
  auto foreign = conn.query(fmt::format(
      "SELECT n.nspname || '.' || c.relname, pg_get_userbyid(c.relowner) FROM pg_class c "
      "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') "
      "AND c.relpersistence = 'p' AND {} AND NOT pg_has_role(c.relowner, 'USAGE') ORDER BY 1",
      pg::kUserSchemaFilter));
  if (!foreign) return tl::unexpected(foreign.error());
  if (foreign->size() > 0) {
    std::vector<std::string> tables, owners;
    for (int i = 0; i < foreign->size(); ++i) {
      tables.emplace_back(foreign->at(i, 0));
      const std::string owner = pg::quote_ident(foreign->at(i, 1));
      if (std::find(owners.begin(), owners.end(), owner) == owners.end()) owners.push_back(owner);
    }
    missing.push_back(
        {fmt::format("the user {} on {} is not a superuser, so the publication lists its "
                     "tables, and may list only tables it owns; {} table(s) belong to other "
                     "roles: {}",
                     user, on(conn), tables.size(), some_of(tables)),
         fmt::format("connect as the tables' owner, or GRANT {} TO {}", join(owners, ", "), role)});
  }
  return missing;
}

Result<std::vector<MissingPrivilege>> missing_database_owner(pg::Connection& conn) {
  std::vector<MissingPrivilege> missing;
  auto r = conn.query(
      "SELECT current_user, current_database(), pg_get_userbyid(datdba), "
      "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user) OR pg_has_role(datdba, "
      "'USAGE') FROM pg_database WHERE datname = current_database()");
  if (!r) return tl::unexpected(r.error());
  if (!r->bool_at(0, 3))
    missing.push_back(
        {fmt::format("the user {} does not own database {} on {} (owner: {}), and only its owner "
                     "may ALTER DATABASE ... SET default_transaction_read_only",
                     r->at(0, 0), r->at(0, 1), on(conn), r->at(0, 2)),
         fmt::format("connect as {}, or GRANT {} TO {}", r->at(0, 2), pg::quote_ident(r->at(0, 2)),
                     pg::quote_ident(r->at(0, 0)))});
  return missing;
}

Result<std::vector<MissingPrivilege>> missing_signal_privilege(pg::Connection& conn) {
  std::vector<MissingPrivilege> missing;
  auto r = conn.query(
      "SELECT current_user, coalesce(string_agg(DISTINCT a.usename, ', '), '') FROM "
      "pg_stat_activity a WHERE a.datname = current_database() AND a.backend_type = 'client "
      "backend' AND a.usesysid IS NOT NULL AND NOT pg_has_role(a.usesysid, 'USAGE') AND NOT "
      "pg_has_role('pg_signal_backend', 'USAGE')");
  if (!r) return tl::unexpected(r.error());
  if (!r->at(0, 1).empty())
    missing.push_back({fmt::format("the user {} on {} cannot end the sessions of {} "
                                   "(connected now), which the cutover must end",
                                   r->at(0, 0), on(conn), r->at(0, 1)),
                       fmt::format("GRANT pg_signal_backend TO {}", pg::quote_ident(r->at(0, 0)))});
  return missing;
}

}  // namespace ferry::db
