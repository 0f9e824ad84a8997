#include "db/publication.h"

#include <fmt/format.h>

#include "db/role_privileges.h"
#include "pg/catalog.h"
#include "pg/connection.h"

namespace ferry::db {

std::string insert_only_publication(const std::string& name) { return name + "_insert_only"; }

namespace {

// "ONLY a, ONLY b": a parent must not pull in inheritance children.
std::string only_list(const std::vector<std::string>& qualified) {
  std::string out;
  for (const auto& t : qualified) out += (out.empty() ? "ONLY " : ", ONLY ") + t;
  return out;
}

}  // namespace

Result<bool> publication_exists(pg::Connection& conn, const std::string& name) {
  auto r = conn.query("SELECT 1 FROM pg_publication WHERE pubname = $1", {name});
  if (!r) return tl::unexpected(r.error());
  return r->size() > 0;
}

Result<PublicationOutcome> create_publications(pg::Connection& conn, const std::string& name) {
  PublicationOutcome out;
  auto exists = publication_exists(conn, name);
  if (!exists) return tl::unexpected(exists.error());
  if (*exists) {
    out.existed = true;
    auto listed = insert_only_tables(conn, name);
    if (!listed) return tl::unexpected(listed.error());
    out.insert_only = std::move(*listed);
    return out;
  }
  auto tables = pg::list_tables(conn);
  if (!tables) return tl::unexpected(tables.error());
  std::vector<std::string> full, inserts;
  bool unlogged = false;
  for (const auto& t : *tables) {
    if (t.unlogged) {
      unlogged = true;
      continue;
    }
    if (t.has_replica_identity()) {
      full.push_back(t.qualified());
    } else {
      inserts.push_back(t.qualified());
      out.insert_only.push_back(t.display());
    }
  }
  // FOR ALL TABLES needs a superuser; any other role lists the tables (it
  // must own them), and a table created later is then reported by follow as
  // one no publication carries.
  auto super = is_superuser(conn);
  if (!super) return tl::unexpected(super.error());
  std::string sql = "CREATE PUBLICATION " + pg::quote_ident(name);
  if (inserts.empty() && !unlogged && *super)
    sql += " FOR ALL TABLES";
  else if (!full.empty())
    sql += " FOR TABLE " + only_list(full);
  if (auto ok = conn.exec(sql); !ok) return tl::unexpected(ok.error());
  if (inserts.empty()) return out;
  const std::string second = insert_only_publication(name);
  if (auto ok = conn.exec(
          fmt::format("CREATE PUBLICATION {} FOR TABLE {} WITH (publish = 'insert, truncate')",
                      pg::quote_ident(second), only_list(inserts)));
      !ok)
    return tl::unexpected(std::move(ok.error()).with_context("creating publication " + second));
  return out;
}

Result<std::vector<std::string>> insert_only_tables(pg::Connection& conn, const std::string& name) {
  auto r = conn.query(
      "SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = $1 "
      "ORDER BY 1",
      {insert_only_publication(name)});
  if (!r) return tl::unexpected(r.error());
  std::vector<std::string> out;
  for (int i = 0; i < r->size(); ++i) out.emplace_back(r->at(i, 0));
  return out;
}

Result<std::vector<std::string>> tables_no_publication_carries(pg::Connection& conn,
                                                               const std::string& name) {
  auto r = conn.query(
      fmt::format(
          "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = "
          "c.relnamespace WHERE c.relkind = 'r' AND c.relpersistence = 'p' AND {} "
          "AND NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1 AND puballtables) "
          "AND NOT EXISTS (SELECT 1 FROM pg_publication_tables p WHERE p.pubname IN ($1, $2) "
          "AND p.schemaname = n.nspname AND p.tablename = c.relname) ORDER BY 1",
          pg::kUserSchemaFilter),
      {name, insert_only_publication(name)});
  if (!r) return tl::unexpected(r.error());
  std::vector<std::string> out;
  for (int i = 0; i < r->size(); ++i) out.emplace_back(r->at(i, 0));
  return out;
}

Result<std::string> publications_to_stream(pg::Connection& conn, const std::string& name) {
  auto main = publication_exists(conn, name);
  if (!main) return tl::unexpected(main.error());
  if (!*main)
    return fail(ErrorCode::kInvalidInput,
                fmt::format("publication '{}' does not exist on {}", name, conn.info().redacted()));
  auto second = publication_exists(conn, insert_only_publication(name));
  if (!second) return tl::unexpected(second.error());
  return *second ? name + "," + insert_only_publication(name) : name;
}

Result<bool> place_in_publications(pg::Connection& conn, const std::string& name,
                                   const pg::Table& table) {
  const std::string second = insert_only_publication(name);
  auto where = conn.query(
      "SELECT coalesce(bool_or(pubname = $1), false), coalesce(bool_or(pubname = $2), false), "
      "EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $2) FROM pg_publication_tables "
      "WHERE schemaname = $3 AND tablename = $4 AND pubname IN ($1, $2)",
      {name, second, table.schema, table.name});
  if (!where) return tl::unexpected(where.error());
  const bool in_main = where->bool_at(0, 0), in_second = where->bool_at(0, 1);
  const bool second_exists = where->bool_at(0, 2);
  std::string sql;
  if (table.has_replica_identity()) {
    // One query string is one transaction: the table is never in neither.
    if (in_second)
      sql = fmt::format("ALTER PUBLICATION {} DROP TABLE ONLY {}", pg::quote_ident(second),
                        table.qualified());
    if (!in_main)
      sql += fmt::format("{}ALTER PUBLICATION {} ADD TABLE ONLY {}", sql.empty() ? "" : "; ",
                         pg::quote_ident(name), table.qualified());
  } else if (!in_main && !in_second) {
    if (!second_exists)
      return fail(ErrorCode::kInvalidInput,
                  fmt::format("{} has no replica identity and no publication carries it, and "
                              "there is no {} to put it in: ALTER TABLE {} REPLICA IDENTITY FULL "
                              "on the source first",
                              table.display(), second, table.qualified()));
    sql = fmt::format("ALTER PUBLICATION {} ADD TABLE ONLY {}", pg::quote_ident(second),
                      table.qualified());
  }
  if (sql.empty()) return false;
  if (auto ok = conn.exec(sql); !ok)
    return tl::unexpected(
        std::move(ok.error()).with_context("publishing " + table.display() + " for a resync"));
  return true;
}

Result<void> publish_inserts_only_of(pg::Connection& conn, const std::string& name,
                                     const pg::Table& table) {
  const std::string sql =
      fmt::format("ALTER PUBLICATION {} DROP TABLE ONLY {}; ALTER PUBLICATION {} ADD TABLE ONLY {}",
                  pg::quote_ident(name), table.qualified(),
                  pg::quote_ident(insert_only_publication(name)), table.qualified());
  return with_context(conn.exec(sql), "publishing only the inserts of " + table.display());
}

Result<void> set_replica_identity_full(pg::Connection& conn,
                                       const std::vector<std::string>& qualified_tables) {
  for (const auto& t : qualified_tables)
    if (auto ok = conn.exec("ALTER TABLE " + t + " REPLICA IDENTITY FULL"); !ok)
      return tl::unexpected(
          std::move(ok.error()).with_context("setting REPLICA IDENTITY FULL on " + t));
  return {};
}

}  // namespace ferry::db
