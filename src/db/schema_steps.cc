#include "db/schema_steps.h"

#include <fmt/format.h>

#include <filesystem>
#include <set>
#include <sstream>

#include "core/files.h"
#include "core/process.h"
#include "pg/connection.h"

namespace ferry::db {

namespace {

ProcessSpec with_connection(std::vector<std::string> argv, const pg::ConnInfo& info) {
  ProcessSpec spec;
  argv.push_back("--dbname=" + info.without_password());
  spec.argv = std::move(argv);
  if (info.has_password) spec.env.emplace_back("PGPASSWORD", info.password());
  return spec;
}

Result<void> run_tool(const ProcessSpec& spec, const std::string& what) {
  auto out = run_process(spec);
  if (!out) return tl::unexpected(std::move(out.error()).with_context(what));
  if (out->exit_status != 0)
    return tl::unexpected(Error{ErrorCode::kDatabase,
                                fmt::format("{} failed (exit {}):\n{}", spec.argv[0],
                                            out->exit_status, tail_lines(out->err, 12)),
                                {},
                                {what}});
  return {};
}

std::vector<std::string> restore_args(std::initializer_list<const char*> sections,
                                      const SchemaStepOptions& o) {
  std::vector<std::string> argv{"pg_restore", "--exit-on-error", "--no-publications",
                                "--no-subscriptions"};
  for (const char* section : sections) argv.push_back(std::string("--section=") + section);
  if (o.no_owner) {
    argv.push_back("--no-owner");
    argv.push_back("--no-acl");
  }
  return argv;
}

// The dump's object ids (as pg_restore --list prints them) of the indexes and
// constraints among `oids` that already exist on the target, matched by
// schema, table and name: names with spaces need no parsing.
Result<std::set<std::string>> existing_post_data_ids(pg::Connection& source, pg::Connection& target,
                                                     const std::vector<std::string>& oids) {
  std::set<std::string> existing;
  if (oids.empty()) return existing;
  std::string list;
  for (const auto& o : oids) list += (list.empty() ? "" : ",") + o;
  // One text key per object: "kind|schema|table|name".
  constexpr const char* key_sql = R"(
SELECT 'i|' || n.nspname || '||' || c.relname, c.oid::text FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('i', 'I') {0}
UNION ALL
SELECT 'c|' || n.nspname || '|' || coalesce(r.relname, t.typname) || '|' || k.conname, k.oid::text
  FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
  LEFT JOIN pg_class r ON r.oid = k.conrelid LEFT JOIN pg_type t ON t.oid = k.contypid
  WHERE true {1}
UNION ALL
SELECT 't|' || n.nspname || '|' || r.relname || '|' || g.tgname, g.oid::text FROM pg_trigger g
  JOIN pg_class r ON r.oid = g.tgrelid JOIN pg_namespace n ON n.oid = r.relnamespace
  WHERE NOT g.tgisinternal {2})";
  auto on_source =
      source.query(fmt::format(fmt::runtime(key_sql), "AND c.oid IN (" + list + ")",
                               "AND k.oid IN (" + list + ")", "AND g.oid IN (" + list + ")"));
  if (!on_source) return tl::unexpected(on_source.error());
  auto on_target = target.query(fmt::format(fmt::runtime(key_sql), "", "", ""));
  if (!on_target) return tl::unexpected(on_target.error());
  std::set<std::string> target_keys;
  for (int i = 0; i < on_target->size(); ++i) target_keys.emplace(on_target->at(i, 0));
  for (int i = 0; i < on_source->size(); ++i)
    if (target_keys.count(std::string(on_source->at(i, 0)))) existing.emplace(on_source->at(i, 1));
  return existing;
}

// The dump's table of contents, one entry per line.
Result<std::vector<std::string>> list_entries(const std::string& file) {
  auto toc = run_process({{"pg_restore", "--list", file}, {}});
  if (!toc) return tl::unexpected(toc.error());
  if (toc->exit_status != 0)
    return fail(ErrorCode::kIo,
                "pg_restore --list " + file + " failed: " + tail_lines(toc->err, 5));
  std::vector<std::string> lines;
  std::istringstream in(toc->out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// "3245; 1259 16423 INDEX public idx owner" -> {"16423", "INDEX"}; comments -> {}.
std::pair<std::string, std::string> entry_oid_and_type(const std::string& line) {
  if (line.empty() || line[0] == ';') return {};
  std::istringstream fields(line);
  std::string id, catalog, oid, type;
  fields >> id >> catalog >> oid >> type;
  return {oid, type};
}

}  // namespace

Result<void> dump_schema(const pg::ConnInfo& source, const std::string& snapshot,
                         const std::string& file) {
  auto spec = with_connection({"pg_dump", "--format=custom", "--snapshot=" + snapshot,
                               "--exclude-table-data=*.*", "--file=" + file},
                              source);
  return run_tool(spec, "dumping the schema with pg_dump");
}

namespace {

// Dump entries by their table-of-contents type.
bool in_part(const std::string& type, ScriptPart part) {
  const bool index = type == "INDEX" || type == "CONSTRAINT";
  switch (part) {
    case ScriptPart::kPreData:
      return true;  // the section selects
    case ScriptPart::kLargeObjects:
      return type == "BLOBS";
    case ScriptPart::kLargeObjectsWithMetadata:
      return type == "BLOBS" || type == "BLOB";
    case ScriptPart::kPostDataRest:
      return !index;
  }
  return false;
}

// pg_dump 15.14 and later frame scripts with psql's \restrict KEY and
// \unrestrict KEY (a guard against scripts injected through object names);
// they are psql meta-commands, not SQL, and ferry runs the SQL itself.
std::string without_psql_restrict(std::string sql) {
  for (const char* command : {"\\restrict ", "\\unrestrict "}) {
    for (size_t at = 0; (at = sql.find(command, at)) != std::string::npos;) {
      if (at != 0 && sql[at - 1] != '\n') {
        ++at;
        continue;
      }
      const auto end = sql.find('\n', at);
      sql.erase(at, end == std::string::npos ? std::string::npos : end - at + 1);
    }
  }
  return sql;
}

std::initializer_list<const char*> sections_of(ScriptPart part) {
  static constexpr std::initializer_list<const char*> pre = {"pre-data"};
  static constexpr std::initializer_list<const char*> data = {"data"};
  static constexpr std::initializer_list<const char*> both = {"pre-data", "data"};
  static constexpr std::initializer_list<const char*> post = {"post-data"};
  switch (part) {
    case ScriptPart::kPreData:
      return pre;
    case ScriptPart::kLargeObjects:
      return data;
    case ScriptPart::kLargeObjectsWithMetadata:
      return both;
    case ScriptPart::kPostDataRest:
      return post;
  }
  return pre;
}

// Writes the entries of `entries` that `keep` accepts to FILE.NAME.list;
// returns its path, or "" when none is kept.
Result<std::string> write_list(const std::string& file, const std::string& name,
                               const std::vector<std::string>& entries,
                               const std::function<bool(const std::string& line)>& keep) {
  std::string kept;
  size_t count = 0;
  for (const auto& line : entries) {
    if (line.empty() || line[0] == ';' || !keep(line)) continue;
    kept += line + "\n";
    ++count;
  }
  if (count == 0) return std::string();
  const std::string list_file = file + "." + name + ".list";
  if (auto ok = write_file_atomically(list_file, kept); !ok) return tl::unexpected(ok.error());
  return list_file;
}

}  // namespace

Result<std::string> restore_script(const std::string& file, ScriptPart part,
                                   const SchemaStepOptions& options) {
  auto entries = list_entries(file);
  if (!entries) return tl::unexpected(entries.error());
  auto list = write_list(file, "script", *entries, [&](const std::string& line) {
    return in_part(entry_oid_and_type(line).second, part);
  });
  if (!list) return tl::unexpected(list.error());
  if (list->empty()) return std::string();
  auto argv = restore_args(sections_of(part), options);
  argv.push_back("--use-list=" + *list);
  argv.push_back("--file=-");
  argv.push_back(file);
  auto out = run_process({argv, {}});
  if (!out) return tl::unexpected(out.error());
  if (out->exit_status != 0)
    return fail(ErrorCode::kIo, fmt::format("pg_restore of {} failed (exit {}):\n{}", file,
                                            out->exit_status, tail_lines(out->err, 12)));
  return without_psql_restrict(std::move(out->out));
}

Result<void> run_script_in_one_transaction(
    const pg::ConnInfo& target, const std::string& sql,
    const std::function<Result<void>(const std::string& xid)>& before_commit) {
  // A connection of its own: the script changes session settings (search_path).
  auto conn = pg::Connection::open(target, {"ferry clone schema"});
  if (!conn) return tl::unexpected(conn.error());
  if (auto ok = conn->exec("BEGIN"); !ok) return ok;
  if (auto ok = conn->exec(sql); !ok) return ok;
  auto xid = conn->query("SELECT pg_current_xact_id()");
  if (!xid) return tl::unexpected(xid.error());
  if (auto ok = before_commit(std::string(xid->at(0, 0))); !ok) return ok;
  return conn->exec("COMMIT");
}

Result<void> restore_indexes(pg::Connection& source, pg::Connection& target,
                             const std::string& file, const SchemaStepOptions& options,
                             bool resuming) {
  auto entries = list_entries(file);
  if (!entries) return tl::unexpected(entries.error());
  std::set<std::string> existing;
  if (resuming) {
    std::vector<std::string> oids;
    for (const auto& line : *entries) {
      const auto [oid, type] = entry_oid_and_type(line);
      if (type == "INDEX" || type == "CONSTRAINT") oids.push_back(oid);
    }
    auto found = existing_post_data_ids(source, target, oids);
    if (!found) return tl::unexpected(found.error());
    existing = std::move(*found);
  }
  auto list = write_list(file, "indexes", *entries, [&](const std::string& line) {
    const auto [oid, type] = entry_oid_and_type(line);
    return (type == "INDEX" || type == "CONSTRAINT") && !existing.count(oid);
  });
  if (!list) return tl::unexpected(list.error());
  if (list->empty()) return {};
  auto argv = restore_args({"post-data"}, options);
  argv.push_back("--jobs=" + std::to_string(std::max(1, options.jobs)));
  argv.push_back("--use-list=" + *list);
  argv.push_back(file);
  auto spec = with_connection(argv, target.info());
  // Index builds sort every key: with the server's default 64MB a big index
  // spills to disk many times over.
  if (!options.maintenance_work_mem.empty())
    spec.env.emplace_back("PGOPTIONS", "-c maintenance_work_mem=" + options.maintenance_work_mem);
  return run_tool(spec, "building indexes and key constraints with pg_restore");
}

}  // namespace ferry::db
