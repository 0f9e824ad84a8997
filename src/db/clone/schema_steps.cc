#include "db/clone/schema_steps.h"

#include <fmt/format.h>

#include <filesystem>
#include <map>
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
  WHERE true {1})";
  auto on_source = source.query(fmt::format(fmt::runtime(key_sql), "AND c.oid IN (" + list + ")",
                                            "AND k.oid IN (" + list + ")"));
  if (!on_source) return tl::unexpected(on_source.error());
  auto on_target = target.query(fmt::format(fmt::runtime(key_sql), "", ""));
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
// Only the type words ferry acts on are told apart: "INDEX ATTACH" is not an
// INDEX, and FK CONSTRAINT / CHECK CONSTRAINT come out as "FK" / "CHECK".
std::pair<std::string, std::string> entry_oid_and_type(const std::string& line) {
  if (line.empty() || line[0] == ';') return {};
  std::istringstream fields(line);
  std::string id, catalog, oid, type, next;
  fields >> id >> catalog >> oid >> type >> next;
  if (type == "INDEX" && next == "ATTACH") type = "INDEX ATTACH";
  return {oid, type};
}

// pg_restore's plain script is meant for psql: pg_dump 15.14 and later frame
// it with \restrict KEY and \unrestrict KEY (psql meta-commands guarding
// against scripts injected through object names). ferry runs the SQL itself,
// so exactly those two lines go; KEY is random, so no function body can
// contain them.
std::string without_restrict_lines(std::string sql) {
  const auto first = sql.starts_with("\\restrict ") ? 0 : sql.find("\n\\restrict ");
  if (first == std::string::npos) return sql;
  const auto start = first == 0 ? 0 : first + 1;
  const auto end = sql.find('\n', start);
  const std::string key = sql.substr(start + 10, end - start - 10);
  for (const std::string& line : {"\\restrict " + key + "\n", "\\unrestrict " + key + "\n"}) {
    if (auto at = sql.find(line); at != std::string::npos) sql.erase(at, line.size());
  }
  return sql;
}

// The plain-text SQL pg_restore writes for the entries in `list_file`.
Result<std::string> script_of(const std::string& file, const std::string& list_file,
                              std::initializer_list<const char*> sections,
                              const SchemaStepOptions& options) {
  auto argv = restore_args(sections, options);
  argv.push_back("--use-list=" + list_file);
  argv.push_back("--file=-");
  argv.push_back(file);
  auto out = run_process({argv, {}});
  if (!out) return tl::unexpected(out.error());
  if (out->exit_status != 0)
    return fail(ErrorCode::kIo, fmt::format("pg_restore of {} failed (exit {}):\n{}", file,
                                            out->exit_status, tail_lines(out->err, 12)));
  return without_restrict_lines(std::move(out->out));
}

// Large objects come wrapped in a BEGIN/COMMIT of their own, which would end
// ferry's transaction early. pg_restore writes them as lines of their own.
std::string without_transaction_lines(std::string sql) {
  for (const std::string line : {"BEGIN;\n", "COMMIT;\n"}) {
    for (size_t at = 0; (at = sql.find(line, at)) != std::string::npos;) {
      if (at == 0 || sql[at - 1] == '\n')
        sql.erase(at, line.size());
      else
        ++at;
    }
  }
  return sql;
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
  auto sql = script_of(file, *list, sections_of(part), options);
  if (!sql) return sql;
  const bool large_objects =
      part == ScriptPart::kLargeObjects || part == ScriptPart::kLargeObjectsWithMetadata;
  return large_objects ? without_transaction_lines(std::move(*sql)) : std::move(*sql);
}

std::vector<std::string> add_foreign_keys_not_valid(std::string& sql) {
  // pg_dump writes each key as
  //   ALTER TABLE ONLY "s"."t"
  //       ADD CONSTRAINT "name" FOREIGN KEY (...) REFERENCES ...;
  constexpr std::string_view kAlter = "ALTER TABLE ONLY ", kAdd = "\n    ADD CONSTRAINT ",
                             kForeignKey = " FOREIGN KEY ";
  std::vector<std::string> validations;
  for (size_t at = 0; (at = sql.find(kAlter, at)) != std::string::npos; ++at) {
    if (at != 0 && sql[at - 1] != '\n') continue;
    const auto table_end = sql.find('\n', at);
    if (table_end == std::string::npos || sql.compare(table_end, kAdd.size(), kAdd) != 0) continue;
    const auto name_start = table_end + kAdd.size();
    const auto end = sql.find(";\n", name_start);
    const auto key = sql.find(kForeignKey, name_start);
    if (end == std::string::npos || key == std::string::npos || key > end) continue;
    if (sql.compare(end - 10, 10, " NOT VALID") == 0) continue;
    const std::string table = sql.substr(at + kAlter.size(), table_end - at - kAlter.size());
    const std::string name = sql.substr(name_start, key - name_start);
    sql.insert(end, " NOT VALID");
    validations.push_back("ALTER TABLE ONLY " + table + " VALIDATE CONSTRAINT " + name);
  }
  return validations;
}

Result<void> run_script_in_one_transaction(
    const pg::ConnInfo& target, const std::string& sql,
    const std::function<Result<void>(const std::string& xid)>& before_commit) {
  // A connection of its own: the script changes session settings (search_path).
  auto conn = pg::Connection::open(target, {"ferry clone schema"});
  if (!conn) return tl::unexpected(conn.error());
  if (auto ok = conn->exec("BEGIN"); !ok) return ok;
  if (auto ok = conn->exec(sql); !ok) return ok;
  auto xid = conn->query("SELECT txid_current()");
  if (!xid) return tl::unexpected(xid.error());
  if (auto ok = before_commit(std::string(xid->at(0, 0))); !ok) return ok;
  return conn->exec("COMMIT");
}

namespace {

// pg_restore's script puts a comment header before every entry and, before
// the header, the SET commands the entry needs when they changed. Splitting
// at the headers gives one chunk per entry; each chunk is then prefixed with
// every setting in force at that point, so it can run on any connection.
Result<std::vector<std::string>> split_entries(const std::string& script, size_t expected) {
  constexpr std::string_view kHeader = "\n--\n-- Name: ";
  std::vector<size_t> starts;
  for (size_t at = script.find(kHeader); at != std::string::npos; at = script.find(kHeader, at + 1))
    starts.push_back(at + 1);
  if (starts.size() != expected)
    return fail(ErrorCode::kInternal,
                fmt::format("pg_restore's index script has {} entries where {} were listed",
                            starts.size(), expected));
  std::map<std::string, std::string> settings;  // "SET default_tablespace" -> its line
  auto absorb_settings = [&](std::string_view text) {
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);) {
      if (line.starts_with("SET ")) settings[line.substr(0, line.find(" = "))] = line;
      if (line.starts_with("SELECT pg_catalog.set_config(")) settings["search_path"] = line;
    }
  };
  absorb_settings(std::string_view(script).substr(0, starts.empty() ? script.size() : starts[0]));
  std::vector<std::string> chunks;
  for (size_t i = 0; i < starts.size(); ++i) {
    const size_t end = i + 1 < starts.size() ? starts[i + 1] : script.size();
    std::string prefix;
    for (const auto& [name, line] : settings) prefix += line + "\n";
    const std::string_view body = std::string_view(script).substr(starts[i], end - starts[i]);
    chunks.push_back(prefix + std::string(body));
    // SET lines at the end of this chunk belong to the next entry.
    absorb_settings(body);
  }
  return chunks;
}

}  // namespace

Result<std::vector<IndexStatement>> index_statements(pg::Connection& source, pg::Connection& target,
                                                     const std::string& file,
                                                     const SchemaStepOptions& options) {
  auto entries = list_entries(file);
  if (!entries) return tl::unexpected(entries.error());
  std::vector<std::string> oids;
  for (const auto& line : *entries) {
    const auto [oid, type] = entry_oid_and_type(line);
    if (type == "INDEX" || type == "CONSTRAINT") oids.push_back(oid);
  }
  std::vector<IndexStatement> out;
  if (oids.empty()) return out;
  auto existing = existing_post_data_ids(source, target, oids);
  if (!existing) return tl::unexpected(existing.error());
  auto list = write_list(file, "indexes", *entries, [&](const std::string& line) {
    const auto type = entry_oid_and_type(line).second;
    return type == "INDEX" || type == "CONSTRAINT";
  });
  if (!list) return tl::unexpected(list.error());
  auto script = script_of(file, *list, {"post-data"}, options);
  if (!script) return tl::unexpected(script.error());
  auto chunks = split_entries(*script, oids.size());
  if (!chunks) return tl::unexpected(chunks.error());
  std::string list_sql;
  for (const auto& o : oids) list_sql += (list_sql.empty() ? "" : ",") + o;
  auto tables = source.query(fmt::format(
      "SELECT i.indexrelid::text, n.nspname || '.' || t.relname, c.relname FROM pg_index i "
      "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid "
      "JOIN pg_namespace n ON n.oid = t.relnamespace WHERE i.indexrelid IN ({0}) "
      "UNION ALL SELECT k.oid::text, n.nspname || '.' || t.relname, k.conname "
      "FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid "
      "JOIN pg_namespace n ON n.oid = t.relnamespace WHERE k.oid IN ({0})",
      list_sql));
  if (!tables) return tl::unexpected(tables.error());
  std::map<std::string, std::pair<std::string, std::string>> by_oid;
  for (int i = 0; i < tables->size(); ++i)
    by_oid[std::string(tables->at(i, 0))] = {std::string(tables->at(i, 1)),
                                             std::string(tables->at(i, 2))};
  for (size_t i = 0; i < oids.size(); ++i) {
    if (existing->count(oids[i])) continue;
    const auto& [table, name] = by_oid[oids[i]];
    out.push_back({table, name.empty() ? oids[i] : name, std::move((*chunks)[i])});
  }
  return out;
}

}  // namespace ferry::db
