#include "db/verify/verify.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>

#include "core/measure.h"
#include "core/text.h"
#include "db/verify/verify_rows.h"
#include "pg/catalog.h"
#include "pg/connection.h"

namespace ferry::db {

namespace {

// Every object verify compares, as (kind, name, definition). Names carry the
// table they belong to, so --tables can select them.
constexpr const char* kSchemaSql = R"(
SELECT 'table', n.nspname || '.' || c.relname, c.relname,
       CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' WHEN 'v' THEN 'view'
       WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table' END
       || CASE c.relpersistence WHEN 'u' THEN ', unlogged' ELSE '' END
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {0}
UNION ALL
SELECT 'column', n.nspname || '.' || c.relname || '.' || a.attname, c.relname,
       format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
       || CASE a.attgenerated WHEN 's' THEN ' generated' ELSE '' END
       || CASE WHEN a.attidentity <> '' THEN ' identity' ELSE '' END
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {0}
UNION ALL
SELECT 'index', n.nspname || '.' || r.relname || '.' || c.relname, r.relname, pg_get_indexdef(c.oid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class r ON r.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {0}
UNION ALL
SELECT 'constraint', n.nspname || '.' || coalesce(r.relname, t.typname) || '.' || k.conname,
       coalesce(r.relname, t.typname), pg_get_constraintdef(k.oid)
FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
LEFT JOIN pg_class r ON r.oid = k.conrelid LEFT JOIN pg_type t ON t.oid = k.contypid
WHERE {0}
UNION ALL
SELECT 'trigger', n.nspname || '.' || r.relname || '.' || g.tgname, r.relname,
       pg_get_triggerdef(g.oid) || CASE g.tgenabled WHEN 'D' THEN ' (disabled)' ELSE '' END
FROM pg_trigger g JOIN pg_class r ON r.oid = g.tgrelid JOIN pg_namespace n ON n.oid = r.relnamespace
WHERE NOT g.tgisinternal AND {0}
UNION ALL
SELECT 'sequence', n.nspname || '.' || c.relname, c.relname,
       format_type(s.seqtypid, NULL) || ' increment ' || s.seqincrement
FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {0})";

using Entries = std::map<std::pair<std::string, std::string>, std::pair<std::string, std::string>>;

// (kind, name) -> (table, definition) from rows of (kind, name, table, definition).
Result<Entries> read_entries(pg::Connection& c, const std::string& sql) {
  auto rows = c.query(sql);
  if (!rows) return tl::unexpected(rows.error());
  Entries out;
  for (int i = 0; i < rows->size(); ++i)
    out[{std::string(rows->at(i, 0)), std::string(rows->at(i, 1))}] = {std::string(rows->at(i, 2)),
                                                                       std::string(rows->at(i, 3))};
  return out;
}

std::vector<CatalogDifference> differences(const Entries& s, const Entries& t,
                                           const std::function<bool(const std::string&)>& keep) {
  std::vector<CatalogDifference> out;
  for (const auto& [key, value] : s) {
    if (!keep(key.second)) continue;
    auto it = t.find(key);
    if (it == t.end())
      out.push_back({key.first, key.second, value.second, ""});
    else if (it->second.second != value.second)
      out.push_back({key.first, key.second, value.second, it->second.second});
  }
  for (const auto& [key, value] : t)
    if (keep(key.second) && !s.count(key)) out.push_back({key.first, key.second, "", value.second});
  return out;
}

Result<void> compare_sequences(pg::Connection& source, pg::Connection& target,
                               VerifyReport& report) {
  auto s = pg::list_sequences(source);
  if (!s) return tl::unexpected(s.error());
  auto t = pg::list_sequences(target);
  if (!t) return tl::unexpected(t.error());
  std::map<std::string, const pg::Sequence*> on_target;
  for (const auto& seq : *t) on_target[seq.display()] = &seq;
  for (const auto& seq : *s) {
    SequenceVerdict v;
    v.sequence = seq.display();
    v.source_next = seq.next_value();
    auto it = on_target.find(seq.display());
    if (it == on_target.end())
      v.missing_on_target = true;
    else
      v.target_next = it->second->next_value();
    report.sequences.push_back(v);
  }
  return {};
}

}  // namespace

bool VerifyOptions::selects(const std::string& name) const {
  if (tables.empty()) return true;
  return std::any_of(tables.begin(), tables.end(), [&](const std::string& p) {
    return glob_match(name, p) || glob_match(name, p + ".*");
  });
}

bool VerifyReport::ok() const {
  return std::all_of(tables.begin(), tables.end(), [](const auto& t) { return t.equal(); }) &&
         std::all_of(sequences.begin(), sequences.end(), [](const auto& s) { return s.ok(); }) &&
         schema.empty() && settings.empty();
}

Result<VerifyReport> run_verify(const VerifyOptions& o) {
  const auto started = std::chrono::steady_clock::now();
  auto source = pg::Connection::open(o.source, {"ferry verify"});
  if (!source) return tl::unexpected(source.error());
  auto target = pg::Connection::open(o.target, {"ferry verify"});
  if (!target) return tl::unexpected(target.error());
  VerifyReport report;
  if (o.settings) {
    auto s = pg::database_settings(*source);
    auto t = pg::database_settings(*target);
    if (!s) return tl::unexpected(s.error());
    if (!t) return tl::unexpected(t.error());
    const std::pair<const char*, std::string pg::DatabaseSettings::*> fields[] = {
        {"encoding", &pg::DatabaseSettings::encoding},
        {"collation (LC_COLLATE)", &pg::DatabaseSettings::collate},
        {"character type (LC_CTYPE)", &pg::DatabaseSettings::ctype},
        {"collation provider", &pg::DatabaseSettings::provider},
        {"TimeZone", &pg::DatabaseSettings::timezone}};
    for (const auto& [name, field] : fields)
      if ((*s).*field != (*t).*field)
        report.settings.push_back({"setting", name, (*s).*field, (*t).*field});
  }
  if (o.schema) {
    const std::string sql = fmt::format(fmt::runtime(kSchemaSql), pg::kUserSchemaFilter);
    auto s = read_entries(*source, sql);
    auto t = read_entries(*target, sql);
    if (!s) return tl::unexpected(s.error());
    if (!t) return tl::unexpected(t.error());
    report.schema = differences(*s, *t, [&](const std::string& name) { return o.selects(name); });
  }
  if (o.sequences && o.tables.empty()) {
    if (auto ok = compare_sequences(*source, *target, report); !ok)
      return tl::unexpected(ok.error());
  }
  if (o.rows) {
    auto verdicts = verify_rows(o, *source, *target);
    if (!verdicts) return tl::unexpected(verdicts.error());
    report.tables = std::move(*verdicts);
  }
  report.seconds = seconds_since(started);
  return report;
}

}  // namespace ferry::db
