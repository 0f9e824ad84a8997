#include "pg/catalog.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include "pg/connection.h"

namespace ferry::pg {

namespace {

constexpr const char* kTablesSql = R"(
SELECT c.oid, n.nspname, c.relname, c.relpersistence = 'u', pg_table_size(c.oid),
       c.reltuples::bigint, pg_relation_size(c.oid) / current_setting('block_size')::int,
       c.relreplident
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND {}
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY c.oid)";

// Binary COPY is safe unless a value embeds a type OID that differs between
// databases: composite values and arrays of user-defined element types do.
constexpr const char* kColumnsSql = R"(
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attgenerated <> '',
       b.typtype NOT IN ('c', 'd', 'p') AND b.typsend <> 0 AND b.typreceive <> 0
         AND NOT (b.typcategory = 'A' AND b.typelem >= 16384)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind = 'r' AND {}
ORDER BY a.attrelid, a.attnum)";

constexpr const char* kPrimaryKeysSql = R"(
SELECT i.indrelid, a.attname
FROM pg_index i
CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE i.indisprimary AND {}
ORDER BY i.indrelid, k.ord)";

}  // namespace

std::string Table::qualified() const { return qualified_name(schema, name); }

std::string Table::copy_columns() const {
  std::string out;
  for (const auto& c : columns) {
    if (c.generated) continue;
    if (!out.empty()) out += ", ";
    out += quote_ident(c.name);
  }
  return out;
}

bool Table::binary_copy_ok() const {
  return std::all_of(columns.begin(), columns.end(),
                     [](const Column& c) { return c.generated || c.binary_ok; });
}

bool Table::has_replica_identity() const {
  if (!primary_key.empty()) return replica_identity != 'n';
  return replica_identity == 'f' || replica_identity == 'i';
}

Result<std::vector<Table>> list_tables(Connection& conn) {
  auto tables = conn.query(fmt::format(kTablesSql, kUserSchemaFilter));
  if (!tables) return tl::unexpected(tables.error());
  std::vector<Table> out;
  std::unordered_map<uint32_t, size_t> index;
  for (int r = 0; r < tables->size(); ++r) {
    Table t;
    t.oid = static_cast<uint32_t>(tables->int_at(r, 0));
    t.schema = std::string(tables->at(r, 1));
    t.name = std::string(tables->at(r, 2));
    t.unlogged = tables->bool_at(r, 3);
    t.bytes = tables->int_at(r, 4);
    t.estimated_rows = tables->int_at(r, 5);
    t.pages = tables->int_at(r, 6);
    t.replica_identity = tables->at(r, 7).empty() ? 'd' : tables->at(r, 7)[0];
    index[t.oid] = out.size();
    out.push_back(std::move(t));
  }
  auto columns = conn.query(fmt::format(kColumnsSql, kUserSchemaFilter));
  if (!columns) return tl::unexpected(columns.error());
  for (int r = 0; r < columns->size(); ++r) {
    auto it = index.find(static_cast<uint32_t>(columns->int_at(r, 0)));
    if (it == index.end()) continue;  // an extension's table
    out[it->second].columns.push_back(Column{std::string(columns->at(r, 1)),
                                             std::string(columns->at(r, 2)), columns->bool_at(r, 3),
                                             columns->bool_at(r, 4)});
  }
  auto keys = conn.query(fmt::format(kPrimaryKeysSql, kUserSchemaFilter));
  if (!keys) return tl::unexpected(keys.error());
  for (int r = 0; r < keys->size(); ++r) {
    auto it = index.find(static_cast<uint32_t>(keys->int_at(r, 0)));
    if (it != index.end()) out[it->second].primary_key.emplace_back(keys->at(r, 1));
  }
  return out;
}

Result<std::vector<Sequence>> list_sequences(Connection& conn) {
  auto names = conn.query(fmt::format(
      "SELECT n.nspname, c.relname, s.seqincrement FROM pg_class c "
      "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_sequence s ON s.seqrelid = c.oid "
      "WHERE c.relkind = 'S' AND {} ORDER BY 1, 2",
      kUserSchemaFilter));
  if (!names) return tl::unexpected(names.error());
  std::vector<Sequence> out;
  if (names->size() == 0) return out;
  // One round trip for all of them: each sequence is its own relation.
  std::string sql;
  for (int r = 0; r < names->size(); ++r) {
    Sequence s{std::string(names->at(r, 0)), std::string(names->at(r, 1)), 0, false,
               names->int_at(r, 2)};
    if (!sql.empty()) sql += " UNION ALL ";
    sql += fmt::format("SELECT {}, last_value, is_called FROM {}", r,
                       qualified_name(s.schema, s.name));
    out.push_back(std::move(s));
  }
  auto values = conn.query(sql);
  if (!values) return tl::unexpected(values.error());
  for (int r = 0; r < values->size(); ++r) {
    auto& s = out[static_cast<size_t>(values->int_at(r, 0))];
    s.last_value = values->int_at(r, 1);
    s.is_called = values->bool_at(r, 2);
  }
  return out;
}

Result<DatabaseSettings> database_settings(Connection& conn) {
  // to_jsonb reads the ICU columns of PostgreSQL 15 without failing on older servers.
  auto r = conn.query(
      "SELECT pg_encoding_to_char(encoding), datcollate, datctype, "
      "CASE to_jsonb(d) ->> 'datlocprovider' WHEN 'i' THEN 'ICU ' || (to_jsonb(d) ->> "
      "'daticulocale') ELSE 'libc' END, "
      "(SELECT reset_val FROM pg_settings WHERE name = 'TimeZone') "
      "FROM pg_database d WHERE datname = current_database()");
  if (!r) return tl::unexpected(r.error());
  return DatabaseSettings{std::string(r->at(0, 0)), std::string(r->at(0, 1)),
                          std::string(r->at(0, 2)), std::string(r->at(0, 3)),
                          std::string(r->at(0, 4))};
}

Result<size_t> set_sequences(Connection& conn, const std::vector<Sequence>& sequences) {
  std::string sql;
  for (const auto& s : sequences)
    sql +=
        fmt::format("SELECT setval({}, {}, {});", quote_literal(qualified_name(s.schema, s.name)),
                    s.last_value, s.is_called ? "true" : "false");
  if (!sql.empty()) {
    if (auto ok = conn.exec(sql); !ok) return tl::unexpected(ok.error());
  }
  return sequences.size();
}

std::string ctid_range(int64_t block_lo, int64_t block_hi) {
  std::string where = fmt::format("ctid >= '({},0)'::tid", block_lo);
  if (block_hi >= 0) where += fmt::format(" AND ctid < '({},0)'::tid", block_hi);
  return where;
}

}  // namespace ferry::pg
