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

// Names (schema, table or "", object) of the source objects behind the dump's
// INDEX, CONSTRAINT, FK CONSTRAINT and TRIGGER entries, looked up by the
// object ids pg_restore -l prints, so names with spaces need no parsing.
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

Result<void> restore_pre_data(const pg::ConnInfo& target, const std::string& file,
                              const SchemaStepOptions& options) {
  auto argv = restore_args({"pre-data"}, options);
  argv.push_back("--single-transaction");
  argv.push_back(file);
  return run_tool(with_connection(argv, target), "restoring the schema (pre-data) with pg_restore");
}

Result<void> restore_large_objects(const pg::ConnInfo& target, const std::string& file,
                                   const SchemaStepOptions& options, bool with_metadata) {
  auto entries = list_entries(file);
  if (!entries) return tl::unexpected(entries.error());
  std::string kept;
  for (const auto& line : *entries) {
    const auto type = entry_oid_and_type(line).second;
    if (type == "BLOBS" || (with_metadata && type == "BLOB")) kept += line + "\n";
  }
  const std::string list_file = file + ".large-objects.list";
  if (auto ok = write_file_atomically(list_file, kept); !ok) return ok;
  auto argv =
      with_metadata ? restore_args({"pre-data", "data"}, options) : restore_args({"data"}, options);
  argv.push_back("--single-transaction");
  argv.push_back("--use-list=" + list_file);
  argv.push_back(file);
  return run_tool(with_connection(argv, target), "restoring large objects with pg_restore");
}

Result<void> restore_post_data(pg::Connection& source, pg::Connection& target,
                               const std::string& file, const SchemaStepOptions& options,
                               bool resuming, const std::string& workdir) {
  auto argv = restore_args({"post-data"}, options);
  argv.push_back("--jobs=" + std::to_string(std::max(1, options.jobs)));
  if (resuming) {
    auto entries = list_entries(file);
    if (!entries) return tl::unexpected(entries.error());
    std::vector<std::string> oids;
    for (const auto& line : *entries) {
      const auto [oid, type] = entry_oid_and_type(line);
      if (type == "INDEX" || type == "CONSTRAINT" || type == "FK" || type == "TRIGGER")
        oids.push_back(oid);
    }
    auto existing = existing_post_data_ids(source, target, oids);
    if (!existing) return tl::unexpected(existing.error());
    std::string kept;
    for (const auto& line : *entries) {
      const auto oid = entry_oid_and_type(line).first;
      if (!oid.empty() && existing->count(oid)) continue;
      kept += line + "\n";
    }
    const std::string list_file = (std::filesystem::path(workdir) / "post-data.list").string();
    if (auto ok = write_file_atomically(list_file, kept); !ok) return ok;
    argv.push_back("--use-list=" + list_file);
  }
  argv.push_back(file);
  auto spec = with_connection(argv, target.info());
  // Index builds sort every key: with the server's default 64MB a big index
  // spills to disk many times over.
  if (!options.maintenance_work_mem.empty())
    spec.env.emplace_back("PGOPTIONS", "-c maintenance_work_mem=" + options.maintenance_work_mem);
  return run_tool(spec, "restoring indexes, constraints and triggers (post-data) with pg_restore");
}

}  // namespace ferry::db
