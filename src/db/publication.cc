#include "db/publication.h"

#include <fmt/format.h>

#include <algorithm>

#include "pg/catalog.h"
#include "pg/connection.h"

namespace ferry::db {

std::string insert_only_publication(const std::string& name) { return name + "_insert_only"; }

namespace {

Result<bool> publication_exists(pg::Connection& conn, const std::string& name) {
  auto r = conn.query("SELECT 1 FROM pg_publication WHERE pubname = $1", {name});
  if (!r) return tl::unexpected(r.error());
  return r->size() > 0;
}

// "ONLY a, ONLY b": a parent must not pull in inheritance children.
std::string only_list(const std::vector<std::string>& qualified) {
  std::string out;
  for (const auto& t : qualified) out += (out.empty() ? "ONLY " : ", ONLY ") + t;
  return out;
}

}  // namespace

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
  std::string sql = "CREATE PUBLICATION " + pg::quote_ident(name);
  if (inserts.empty() && !unlogged)
    sql += " FOR ALL TABLES";
  else if (!full.empty())
    sql += " FOR TABLE " + only_list(full);
  if (auto ok = conn.exec(sql); !ok) return tl::unexpected(ok.error());
  if (inserts.empty()) return out;
  const std::string second = insert_only_publication(name);
  if (auto ok = conn.exec(fmt::format(
          "CREATE PUBLICATION {} FOR TABLE {} WITH (publish = 'insert, truncate')",
          pg::quote_ident(second), only_list(inserts)));
      !ok)
    return tl::unexpected(std::move(ok.error()).with_context("creating publication " + second));
  return out;
}

Result<std::vector<std::string>> insert_only_tables(pg::Connection& conn,
                                                    const std::string& name) {
  auto r = conn.query(
      "SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = $1 "
      "ORDER BY 1",
      {insert_only_publication(name)});
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
                fmt::format("publication '{}' does not exist on {}", name,
                            conn.info().redacted()));
  auto second = publication_exists(conn, insert_only_publication(name));
  if (!second) return tl::unexpected(second.error());
  return *second ? name + "," + insert_only_publication(name) : name;
}

Result<bool> publish_all_changes_of(pg::Connection& conn, const std::string& name,
                                    const std::string& qualified_table,
                                    const std::string& display_table) {
  auto listed = insert_only_tables(conn, name);
  if (!listed) return tl::unexpected(listed.error());
  if (std::find(listed->begin(), listed->end(), display_table) == listed->end()) return false;
  auto all = conn.query("SELECT puballtables FROM pg_publication WHERE pubname = $1", {name});
  if (!all) return tl::unexpected(all.error());
  if (all->size() == 0)
    return fail(ErrorCode::kInvalidInput, fmt::format("publication '{}' does not exist", name));
  // One query string is one transaction: the table is never in neither.
  std::string sql = fmt::format("ALTER PUBLICATION {} DROP TABLE ONLY {}",
                                pg::quote_ident(insert_only_publication(name)), qualified_table);
  if (!all->bool_at(0, 0))
    sql += fmt::format("; ALTER PUBLICATION {} ADD TABLE ONLY {}", pg::quote_ident(name),
                       qualified_table);
  if (auto ok = conn.exec(sql); !ok)
    return tl::unexpected(std::move(ok.error())
                              .with_context("moving " + display_table + " to publication " + name));
  return true;
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
