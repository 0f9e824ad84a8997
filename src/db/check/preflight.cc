#include "db/check/preflight.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "core/json_writer.h"
#include "core/process.h"
#include "core/text.h"
#include "db/role_privileges.h"
#include "pg/catalog.h"
#include "pg/connection.h"

namespace ferry::db {

namespace {

// Per-job COPY rate used for the time estimate: the rate ferry's clone
// reached per job on the 2-core benchmark machine (docs/benchmarks.md), a
// conservative figure for a server with its own cores.
constexpr double kBytesPerSecondPerJob = 60.0 * 1024 * 1024;

std::string size_text(int64_t bytes) {
  const double b = static_cast<double>(bytes);
  if (b >= 1024.0 * 1024 * 1024) return fmt::format("{:.1f} GB", b / (1024.0 * 1024 * 1024));
  if (b >= 1024.0 * 1024) return fmt::format("{:.1f} MB", b / (1024.0 * 1024));
  return fmt::format("{:.0f} kB", b / 1024.0);
}

class Checker {
 public:
  Checker(pg::Connection& s, pg::Connection& t, const PreflightOptions& o)
      : source_(s), target_(t), options_(o) {}

  Result<PreflightReport> run() {
    for (auto step : {&Checker::versions, &Checker::identity, &Checker::replication,
                      &Checker::privileges, &Checker::settings, &Checker::extensions,
                      &Checker::tables, &Checker::roles, &Checker::large_objects}) {
      if (auto ok = (this->*step)(); !ok) return tl::unexpected(ok.error());
    }
    std::stable_sort(report_.findings.begin(), report_.findings.end(),
                     [](const Finding& a, const Finding& b) { return a.level < b.level; });
    return std::move(report_);
  }

 private:
  void add(FindingLevel level, std::string area, std::string message, std::string fix = {}) {
    report_.findings.push_back({level, std::move(area), std::move(message), std::move(fix)});
  }

  static Result<std::string> scalar(pg::Connection& c, const std::string& sql) {
    auto r = c.query(sql);
    if (!r) return tl::unexpected(r.error());
    return std::string(r->at(0, 0));
  }

  Result<void> versions() {
    auto s = scalar(source_, "SHOW server_version");
    auto t = scalar(target_, "SHOW server_version");
    if (!s) return tl::unexpected(s.error());
    if (!t) return tl::unexpected(t.error());
    report_.source_version = *s;
    report_.target_version = *t;
    const int sm = source_.server_version() / 10000, tm = target_.server_version() / 10000;
    if (sm < 10)
      add(FindingLevel::kBlocker, "versions",
          fmt::format("source is PostgreSQL {}; ferry needs 10 or later (pgoutput)", *s),
          "upgrade the source first, or move it with pg_dump");
    if (tm < sm)
      add(FindingLevel::kBlocker, "versions",
          fmt::format("target PostgreSQL {} is older than source {}", *t, *s),
          "use a target of the same or a newer major version");
    else if (tm > sm)
      add(FindingLevel::kInfo, "versions",
          fmt::format("major upgrade on the way: source {}, target {}", *s, *t));
    auto dump = run_process({{"pg_dump", "--version"}, {}});
    if (!dump || dump->exit_status != 0) {
      add(FindingLevel::kBlocker, "versions", "pg_dump is not on PATH (needed for the schema)",
          "install postgresql-client of the source's major version or newer");
    } else {
      // "pg_dump (PostgreSQL) 15.4 (Debian ...)"
      const auto pos = dump->out.find(") ");
      const int local = pos == std::string::npos ? 0 : std::atoi(dump->out.c_str() + pos + 2);
      if (local < sm)
        add(FindingLevel::kBlocker, "versions",
            fmt::format("pg_dump is version {}, older than the source ({})", local, sm),
            "install a pg_dump of the source's major version or newer");
    }
    return {};
  }

  Result<void> identity() {
    // The same cluster (system identifier) and the same database: copying a
    // database onto itself would destroy it.
    const std::string sql =
        "SELECT current_database(), coalesce((SELECT system_identifier::text FROM "
        "pg_control_system()), ''), coalesce(inet_server_addr()::text, 'local'), "
        "current_setting('port')";
    auto s = source_.query(sql);
    auto t = target_.query(sql);
    if (!s) return tl::unexpected(s.error());
    if (!t) return tl::unexpected(t.error());
    const bool same_db = s->at(0, 0) == t->at(0, 0);
    const bool same_cluster = (!s->at(0, 1).empty() && s->at(0, 1) == t->at(0, 1)) ||
                              (s->at(0, 2) == t->at(0, 2) && s->at(0, 3) == t->at(0, 3));
    if (same_db && same_cluster)
      add(FindingLevel::kBlocker, "identity",
          "the target is the source database (same server and database name)",
          "point --target at another database");
    return {};
  }

  Result<void> replication() {
    auto r = source_.query(
        "SELECT current_setting('wal_level'), current_setting('max_replication_slots')::int, "
        "(SELECT count(*) FROM pg_replication_slots), "
        "current_setting('max_wal_senders')::int, "
        "(SELECT count(*) FROM pg_stat_replication)");
    if (!r) return tl::unexpected(r.error());
    const std::string fix_restart = "then restart the source server";
    const FindingLevel level = options_.need_slot ? FindingLevel::kBlocker : FindingLevel::kWarning;
    if (r->at(0, 0) != "logical")
      add(level, "replication",
          fmt::format("wal_level is '{}'; a replication slot for `ferry db follow` needs 'logical'",
                      r->at(0, 0)),
          "ALTER SYSTEM SET wal_level = logical; " + fix_restart +
              (options_.need_slot ? " (or clone with --no-slot for a one-shot copy)" : ""));
    if (r->int_at(0, 1) - r->int_at(0, 2) < 1)
      add(level, "replication",
          fmt::format("no free replication slot ({} of max_replication_slots = {} in use)",
                      r->int_at(0, 2), r->int_at(0, 1)),
          "raise max_replication_slots, " + fix_restart);
    if (r->int_at(0, 3) - r->int_at(0, 4) < 1)
      add(level, "replication",
          fmt::format("no free WAL sender ({} of max_wal_senders = {} in use)", r->int_at(0, 4),
                      r->int_at(0, 3)),
          "raise max_wal_senders, " + fix_restart);
    if (auto ok = follow_privileges(level); !ok) return ok;
    if (options_.need_slot && !options_.slot_name.empty() && !options_.resuming) {
      auto slot = source_.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1",
                                {options_.slot_name});
      if (!slot) return tl::unexpected(slot.error());
      if (slot->size() > 0)
        add(FindingLevel::kBlocker, "replication",
            fmt::format("replication slot '{}' already exists on the source", options_.slot_name),
            fmt::format("resume the clone that made it (--resume), choose another --slot, or "
                        "drop it: SELECT pg_drop_replication_slot('{}')",
                        options_.slot_name));
    }
    return {};
  }

  // What follow and the cutover will need of roles that are not superusers
  // (managed servers): a slot and publications on the source, the apply on
  // the target; then, as warnings, what only the cutover needs.
  Result<void> follow_privileges(FindingLevel level) {
    auto stream = missing_stream_privileges(source_);
    if (!stream) return tl::unexpected(stream.error());
    auto apply = missing_apply_privileges(target_);
    if (!apply) return tl::unexpected(apply.error());
    for (const auto* list : {&*stream, &*apply})
      for (const auto& m : *list) add(level, "privileges", m.what, m.fix);
    if (!options_.need_slot) return {};
    for (auto* conn : {&source_, &target_}) {
      auto owner = missing_database_owner(*conn);
      if (!owner) return tl::unexpected(owner.error());
      for (const auto& m : *owner)
        add(FindingLevel::kWarning, "privileges", "for the cutover: " + m.what, m.fix);
    }
    auto signal = missing_signal_privilege(source_);
    if (!signal) return tl::unexpected(signal.error());
    for (const auto& m : *signal)
      add(FindingLevel::kWarning, "privileges", "for the cutover: " + m.what, m.fix);
    return {};
  }

  Result<void> privileges() {
    auto unreadable = source_.query(fmt::format(
        "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = "
        "c.relnamespace WHERE c.relkind IN ('r', 'p', 'S', 'm') AND {} AND NOT "
        "has_table_privilege(c.oid, 'SELECT') ORDER BY 1",
        pg::kUserSchemaFilter));
    if (!unreadable) return tl::unexpected(unreadable.error());
    std::vector<std::string> names;
    for (int i = 0; i < unreadable->size(); ++i) names.emplace_back(unreadable->at(i, 0));
    if (!names.empty())
      add(FindingLevel::kBlocker, "privileges",
          fmt::format("the source user cannot read {} relation(s): {}", names.size(),
                      some_of(names)),
          "GRANT SELECT on them (or connect as their owner or a superuser)");
    auto create = target_.query(
        "SELECT has_database_privilege(current_database(), 'CREATE'), "
        "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user)");
    if (!create) return tl::unexpected(create.error());
    if (!create->bool_at(0, 0))
      add(FindingLevel::kBlocker, "privileges",
          "the target user cannot CREATE in the target database",
          "GRANT CREATE ON DATABASE <db> TO <user>, or connect as its owner");
    if (!create->bool_at(0, 1))
      add(FindingLevel::kWarning, "privileges",
          "the target user is not a superuser: triggers cannot be disabled while loading, and "
          "objects owned by other roles or using untrusted languages may fail to restore",
          "connect as a superuser, or clone with --no-owner");
    return {};
  }

  Result<void> settings() {
    auto s = pg::database_settings(source_);
    auto t = pg::database_settings(target_);
    if (!s) return tl::unexpected(s.error());
    if (!t) return tl::unexpected(t.error());
    if (s->encoding != t->encoding)
      add(FindingLevel::kBlocker, "settings",
          fmt::format("encoding differs: source {}, target {}", s->encoding, t->encoding),
          "create the target database WITH ENCODING '" + s->encoding + "'");
    const std::pair<const char*, std::string pg::DatabaseSettings::*> sorting[] = {
        {"collation (LC_COLLATE)", &pg::DatabaseSettings::collate},
        {"character type (LC_CTYPE)", &pg::DatabaseSettings::ctype},
        {"collation provider", &pg::DatabaseSettings::provider}};
    for (const auto& [name, field] : sorting) {
      if ((*s).*field != (*t).*field)
        add(FindingLevel::kWarning, "settings",
            fmt::format("{} differs: source {}, target {}: text sorts and compares differently "
                        "(ORDER BY, unique indexes on text, range partitions on text)",
                        name, (*s).*field, (*t).*field),
            fmt::format("create the target database with LC_COLLATE '{}' LC_CTYPE '{}' ({}) "
                        "unless the change is intended",
                        s->collate, s->ctype, s->provider));
    }
    if (s->timezone != t->timezone)
      add(FindingLevel::kWarning, "settings",
          fmt::format("default TimeZone differs: source {}, target {}: timestamptz values are "
                      "the same instants but print differently to clients that do not set it",
                      s->timezone, t->timezone),
          fmt::format("ALTER DATABASE <db> SET TimeZone = '{}' on the target", s->timezone));
    return {};
  }

  Result<void> extensions() {
    auto s = source_.query(
        "SELECT extname, extversion FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1");
    auto t = target_.query("SELECT name, default_version FROM pg_available_extensions");
    if (!s) return tl::unexpected(s.error());
    if (!t) return tl::unexpected(t.error());
    std::map<std::string, std::string> available;
    for (int i = 0; i < t->size(); ++i) available[std::string(t->at(i, 0))] = t->at(i, 1);
    std::vector<std::string> missing;
    for (int i = 0; i < s->size(); ++i) {
      const std::string name(s->at(i, 0));
      if (!available.count(name)) missing.push_back(name);
    }
    if (!missing.empty())
      add(FindingLevel::kBlocker, "extensions",
          fmt::format("extension(s) used on the source are not installable on the target: {}",
                      some_of(missing)),
          "install their packages on the target server (e.g. postgresql-15-postgis-3)");
    return {};
  }

  Result<void> tables() {
    auto list = pg::list_tables(source_);
    if (!list) return tl::unexpected(list.error());
    std::vector<std::string> keyless, unlogged;
    for (const auto& t : *list) {
      report_.table_bytes += t.bytes;
      if (!t.has_replica_identity()) keyless.push_back(t.display());
      if (t.unlogged) unlogged.push_back(t.display());
    }
    if (!keyless.empty())
      add(FindingLevel::kWarning, "tables",
          fmt::format("{} table(s) have no primary key and no replica identity: {}. clone puts "
                      "them in an insert-only publication, so follow carries their INSERTs and "
                      "TRUNCATEs while UPDATE and DELETE on them keep working on the source; an "
                      "UPDATE or DELETE cannot be carried and is reported as a divergence (then "
                      "ferry db clone --resync --tables T)",
                      keyless.size(), some_of(keyless)),
          "to carry every change: clone with --replica-identity-full (sets REPLICA IDENTITY "
          "FULL on them: each update and delete then logs the whole old row), or add primary "
          "keys");
    if (!unlogged.empty())
      add(FindingLevel::kWarning, "tables",
          fmt::format("{} unlogged table(s): {}. clone copies them; follow cannot (they are not "
                      "in the WAL), so changes after the clone are not carried over",
                      unlogged.size(), some_of(unlogged)),
          "ALTER TABLE ... SET LOGGED before the clone, or re-copy them at cutover");
    auto size = scalar(source_, "SELECT pg_database_size(current_database())");
    if (!size) return tl::unexpected(size.error());
    report_.source_bytes = std::atoll(size->c_str());
    report_.estimated_seconds = static_cast<double>(report_.table_bytes) /
                                (kBytesPerSecondPerJob * std::max(1, options_.jobs));
    add(FindingLevel::kInfo, "size",
        fmt::format("source database {}, tables {} in {} tables; copy estimated at {:.1f} s with "
                    "{} jobs (indexes are rebuilt after)",
                    size_text(report_.source_bytes), size_text(report_.table_bytes), list->size(),
                    report_.estimated_seconds, options_.jobs));
    return target_tables(*list);
  }

  // Which source tables exist on the target already, and whether they hold rows.
  Result<void> target_tables(const std::vector<pg::Table>& source_tables) {
    auto existing = pg::list_tables(target_);
    if (!existing) return tl::unexpected(existing.error());
    std::map<std::pair<std::string, std::string>, const pg::Table*> on_target;
    for (const auto& t : *existing) on_target[{t.schema, t.name}] = &t;
    std::vector<std::string> present, non_empty;
    for (const auto& t : source_tables) {
      auto it = on_target.find({t.schema, t.name});
      if (it == on_target.end()) continue;
      present.push_back(t.display());
      auto rows = target_.query("SELECT EXISTS (SELECT 1 FROM ONLY " + t.qualified() + ")");
      if (!rows) return tl::unexpected(rows.error());
      if (rows->bool_at(0, 0)) non_empty.push_back(t.display());
    }
    if (present.empty()) return {};
    if (present.size() < source_tables.size() && !options_.resuming)
      add(FindingLevel::kBlocker, "target",
          fmt::format("the target already has {} of the source's {} tables ({}) but not all",
                      present.size(), source_tables.size(), some_of(present)),
          "clone into an empty database, or create the whole schema there first");
    report_.target_has_schema = present.size() == source_tables.size();
    if (!non_empty.empty() && !options_.truncate_target && !options_.resuming)
      add(FindingLevel::kBlocker, "target",
          fmt::format("{} target table(s) already hold rows: {}", non_empty.size(),
                      some_of(non_empty)),
          "clone into an empty database, or pass --truncate-target to empty them first");
    else if (report_.target_has_schema && !options_.resuming)
      add(FindingLevel::kInfo, "target",
          "every source table already exists on the target: clone loads the data into them and "
          "leaves their schema as it is");
    return {};
  }

  Result<void> roles() {
    if (options_.no_owner) return {};
    auto owners = source_.query(fmt::format(
        "SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n ON "
        "n.oid = c.relnamespace WHERE {} UNION SELECT pg_get_userbyid(nspowner) FROM "
        "pg_namespace n WHERE {} ORDER BY 1",
        pg::kUserSchemaFilter, pg::kUserSchemaFilter));
    if (!owners) return tl::unexpected(owners.error());
    auto roles = target_.query("SELECT rolname FROM pg_roles");
    if (!roles) return tl::unexpected(roles.error());
    std::set<std::string> have;
    for (int i = 0; i < roles->size(); ++i) have.emplace(roles->at(i, 0));
    std::vector<std::string> missing;
    for (int i = 0; i < owners->size(); ++i)
      if (!have.count(std::string(owners->at(i, 0)))) missing.emplace_back(owners->at(i, 0));
    if (!missing.empty())
      add(FindingLevel::kBlocker, "roles",
          fmt::format("roles owning source objects do not exist on the target: {}",
                      some_of(missing)),
          "create them on the target (pg_dumpall --roles-only | psql), or clone with --no-owner");
    return {};
  }

  Result<void> large_objects() {
    auto n = scalar(source_, "SELECT count(*) FROM pg_largeobject_metadata");
    if (!n) return tl::unexpected(n.error());
    if (*n != "0")
      add(FindingLevel::kWarning, "large objects",
          fmt::format("{} large object(s): clone copies them; logical replication does not, so "
                      "large objects written after the clone are not carried over by follow",
                      *n),
          "store new binary data in bytea columns, or re-run the clone's large-object step at "
          "cutover");
    return {};
  }

  pg::Connection& source_;
  pg::Connection& target_;
  const PreflightOptions& options_;
  PreflightReport report_;
};

const char* level_name(FindingLevel level) {
  switch (level) {
    case FindingLevel::kBlocker:
      return "blocker";
    case FindingLevel::kWarning:
      return "warning";
    case FindingLevel::kInfo:
      return "info";
  }
  return "info";
}

}  // namespace

bool PreflightReport::has_blockers() const {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.level == FindingLevel::kBlocker; });
}

Result<PreflightReport> run_preflight(pg::Connection& source, pg::Connection& target,
                                      const PreflightOptions& options) {
  return Checker(source, target, options).run();
}

std::string render_preflight_text(const PreflightReport& report) {
  std::string out = fmt::format("source PostgreSQL {}, target PostgreSQL {}\n",
                                report.source_version, report.target_version);
  size_t blockers = 0, warnings = 0;
  for (const auto& f : report.findings) {
    blockers += f.level == FindingLevel::kBlocker;
    warnings += f.level == FindingLevel::kWarning;
    out += fmt::format("{:<8} {:<14} {}\n", level_name(f.level), f.area, f.message);
    if (!f.fix.empty()) out += fmt::format("{:<23} fix: {}\n", "", f.fix);
  }
  out += fmt::format("{} blocker(s), {} warning(s): {}\n", blockers, warnings,
                     blockers ? "fix the blockers before cloning" : "ready to clone");
  return out;
}

std::string render_preflight_json(const PreflightReport& report) {
  JsonWriter w;
  w.begin_object();
  w.field("ok", !report.has_blockers());
  w.field("source_version", report.source_version);
  w.field("target_version", report.target_version);
  w.field("source_bytes", report.source_bytes);
  w.field("table_bytes", report.table_bytes);
  w.field("estimated_copy_seconds", report.estimated_seconds);
  w.field("target_has_schema", report.target_has_schema);
  w.key("findings").begin_array();
  for (const auto& f : report.findings) {
    w.begin_object();
    w.field("level", level_name(f.level));
    w.field("area", f.area);
    w.field("message", f.message);
    w.field("fix", f.fix);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.take();
}

}  // namespace ferry::db
