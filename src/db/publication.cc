#include "db/publication.h"

#include <algorithm>

#include "pg/catalog.h"
#include "pg/connection.h"

namespace ferry::db {

Result<PublicationOutcome> create_publication(pg::Connection& conn, const std::string& name) {
  PublicationOutcome out;
  auto exists = conn.query("SELECT 1 FROM pg_publication WHERE pubname = $1", {name});
  if (!exists) return tl::unexpected(exists.error());
  if (exists->size() > 0) {
    out.existed = true;
    return out;
  }
  auto tables = pg::list_tables(conn);
  if (!tables) return tl::unexpected(tables.error());
  std::string included;
  for (const auto& t : *tables) {
    if (t.unlogged) continue;
    if (!t.has_replica_identity()) {
      out.skipped.push_back(t.display());
      continue;
    }
    // ONLY: a parent must not pull in inheritance children without identity.
    included += (included.empty() ? "ONLY " : ", ONLY ") + t.qualified();
  }
  std::string sql = "CREATE PUBLICATION " + pg::quote_ident(name);
  if (out.skipped.empty() &&
      std::none_of(tables->begin(), tables->end(), [](const auto& t) { return t.unlogged; }))
    sql += " FOR ALL TABLES";
  else if (!included.empty())
    sql += " FOR TABLE " + included;
  if (auto ok = conn.exec(sql); !ok) return tl::unexpected(ok.error());
  return out;
}

}  // namespace ferry::db
