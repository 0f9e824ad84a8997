#include "db/follow/schema_drift.h"

#include <fmt/format.h>

#include <set>

#include "core/text.h"
#include "pg/connection.h"

namespace ferry::db {

namespace {

std::string signature(const pg::RelationMessage& r) {
  std::string s = r.schema + "." + r.name;
  for (const auto& c : r.columns)
    s += fmt::format("|{}:{}:{}", c.name, c.type_oid, c.type_modifier);
  return s;
}

}  // namespace

Result<DriftOutcome> SchemaDriftCheck::check(const pg::RelationMessage& r) {
  DriftOutcome out;
  const std::string sig = signature(r);
  if (auto it = checked_.find(r.relation_id); it != checked_.end() && it->second == sig) return out;
  const std::string schema = r.schema.empty() ? "pg_catalog" : r.schema;
  const std::string table = pg::qualified_name(schema, r.name);
  const std::string shown = schema + "." + r.name;
  auto columns = target_->query(
      "SELECT a.attname, a.atttypid::bigint, a.atttypmod FROM pg_attribute a "
      "WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped",
      {table});
  if (!columns) return tl::unexpected(columns.error());
  if (columns->size() == 0) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("table {0} is new on the source and missing on the target. Create it "
                            "there, then run follow again (its rows since it was created are in "
                            "the stream):\n  pg_dump --schema-only --table '{1}' SOURCE | psql "
                            "TARGET",
                            shown, table));
  }
  std::map<std::string, std::pair<int64_t, int64_t>> on_target;
  for (int i = 0; i < columns->size(); ++i)
    on_target[std::string(columns->at(i, 0))] = {columns->int_at(i, 1), columns->int_at(i, 2)};
  std::vector<std::string> problems;
  std::set<std::string> on_source;
  for (const auto& c : r.columns) {
    on_source.insert(c.name);
    auto it = on_target.find(c.name);
    if (it == on_target.end()) {
      auto statement = add_column_statement(table, c.name, problems);
      if (!statement) return tl::unexpected(statement.error());
      if (!statement->empty()) out.statements.push_back(*statement);
      continue;
    }
    // Type OIDs agree across servers for built-in types only.
    const bool builtin = c.type_oid < 16384 && it->second.first < 16384;
    if (builtin && (static_cast<int64_t>(c.type_oid) != it->second.first ||
                    c.type_modifier != it->second.second))
      out.warnings.push_back(fmt::format(
          "column {}.{} has another type on the source now; values are applied as text and "
          "will fail if the target's type cannot take them (change the target's type to match)",
          shown, c.name));
  }
  for (const auto& [name, type] : on_target) {
    if (!on_source.contains(name))
      out.warnings.push_back(
          fmt::format("column {}.{} is no longer on the source; new rows get the target's default "
                      "for it (drop it on the target when convenient)",
                      shown, name));
  }
  if (!problems.empty())
    return fail(ErrorCode::kInvalidInput,
                fmt::format("the source's table {} changed in a way follow cannot apply by "
                            "itself:\n  {}",
                            shown, join(problems, "\n  ")));
  checked_[r.relation_id] = sig;
  return out;
}

Result<std::string> SchemaDriftCheck::add_column_statement(const std::string& table,
                                                           const std::string& column,
                                                           std::vector<std::string>& problems) {
  auto def = source_->query(
      "SELECT format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attgenerated <> '', "
      "pg_get_expr(d.adbin, d.adrelid), a.atthasmissing, a.attidentity <> '' "
      "FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
      "WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND NOT a.attisdropped",
      {table, column});
  if (!def) return tl::unexpected(def.error());
  const std::string where = table + "." + pg::quote_ident(column);
  if (def->size() == 0) {
    // Added and dropped again since: nothing to add, the next Relation says so.
    return std::string();
  }
  const std::string type(def->at(0, 0));
  const bool not_null = def->bool_at(0, 1), generated = def->bool_at(0, 2);
  const bool has_default = !def->is_null(0, 3), has_missing = def->bool_at(0, 4);
  const bool identity = def->bool_at(0, 5);
  const std::string how = fmt::format(
      "add {} on the target with the source's definition, copy the values existing rows hold "
      "on the source, then run follow again",
      where);
  if (generated || identity) {
    problems.push_back(fmt::format("new column {} is generated or an identity: {}", where, how));
    return std::string();
  }
  std::string sql =
      fmt::format("ALTER TABLE ONLY {} ADD COLUMN {} {}", table, pg::quote_ident(column), type);
  if (has_missing) {
    // The value PostgreSQL stored for the rows that existed when the column
    // was added (a constant default evaluated then): the same on the target.
    auto missing = source_->query(fmt::format(
        "SELECT (attmissingval::text::{}[])[1]::text FROM pg_attribute WHERE attrelid = "
        "to_regclass({}) AND attname = {}",
        type, pg::quote_literal(table), pg::quote_literal(column)));
    if (!missing) return tl::unexpected(missing.error());
    if (!missing->is_null(0, 0))
      sql += fmt::format(" DEFAULT {}::{}", pg::quote_literal(missing->at(0, 0)), type);
  } else if (has_default) {
    // A volatile default rewrote every row, or the default came later and
    // old rows hold NULL: the catalog cannot say which.
    problems.push_back(
        fmt::format("new column {} has a default ({}) but what existing rows hold is unknown: {}",
                    where, def->at(0, 3), how));
    return std::string();
  }
  if (not_null) sql += " NOT NULL";
  if (has_default)
    sql += fmt::format("; ALTER TABLE ONLY {} ALTER COLUMN {} SET DEFAULT {}", table,
                       pg::quote_ident(column), def->at(0, 3));
  else if (has_missing)
    sql += fmt::format("; ALTER TABLE ONLY {} ALTER COLUMN {} DROP DEFAULT", table,
                       pg::quote_ident(column));
  return sql;
}

}  // namespace ferry::db
