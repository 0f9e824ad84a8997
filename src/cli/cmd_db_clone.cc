// ferry db clone: consistent, parallel, resumable copy of a live database.
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/common.h"
#include "cli/db_commands.h"
#include "core/exit_codes.h"
#include "core/log.h"
#include "core/stop_signal.h"
#include "core/text.h"
#include "db/clone/clone.h"
#include "db/clone/resync_request.h"

namespace ferry::cli {

namespace {

struct CloneCliOptions {
  Endpoints endpoints;
  db::CloneOptions clone;
  int index_jobs = 0;
  std::string split = "auto";
  std::string format = "text";
  bool no_slot = false, skip_analyze = false, resync = false;
  std::vector<std::string> tables;
  std::string toast_compression = "lz4";
  int64_t maintenance_work_mem = 256 << 20;
};

constexpr const char* kDescription = R"(
Copies every schema, table, sequence, large object and database object of the
source database into the target, while the source keeps serving:

  1. preflight (as `ferry db check`); blockers stop the clone before it starts
  2. a publication and a logical replication slot (pgoutput) on the source,
     created at the snapshot every reader uses: `ferry db follow` continues
     exactly where the copy ends (--no-slot: a one-shot copy)
  3. schema with pg_dump/pg_restore (pre-data: types, tables, functions, views)
  4. data: COPY streams from source to target, binary where the column types
     allow, largest tables first over --jobs workers; big tables are copied
     in ctid ranges concurrently (--split-tables-larger-than)
  5. sequences set to the source's values, large objects
  6. each table's indexes and key constraints, then ANALYZE, as soon as its
     data is in, on --index-jobs connections while the copy goes on
  7. foreign keys, triggers and the rest in one transaction; materialized
     views refreshed

Progress is journaled in --dir (SQLite). After a crash or kill -9, run the
same command with --resume: finished tables and parts are not copied again and
no row is duplicated (each part's target transaction is checked).

Tables without a primary key or replica identity go into a second
publication, <publication>_insert_only, that carries only their INSERTs and
TRUNCATEs (so UPDATE and DELETE on them keep working on the source); follow
reports an UPDATE or DELETE on one of them as a divergence the moment it
happens. --replica-identity-full sets REPLICA IDENTITY FULL on those tables
first, so every change to them is carried (each UPDATE and DELETE then logs
the whole old row: more WAL).

The source is only read, except for the publications and slot it reports
(and REPLICA IDENTITY FULL with --replica-identity-full). Target tables that
already hold rows are refused unless --truncate-target.

--resync --tables T[,T...] copies tables again while `ferry db follow` runs
(same --dir), without stopping the rest: follow holds their changes, the
tables are emptied and copied at a new snapshot on the target, and the held
changes the copy does not have are applied. Use it for a table follow reports
as diverged (after ALTER TABLE T REPLICA IDENTITY FULL on the source, so its
updates and deletes are carried from then on). Exit 0 copied, 1 the copy
failed and the tables were left as they were, 3 no such table or follow not
running.

Exit status: 0 copied, 1 preflight blockers (nothing done), 2 usage,
3 invalid input, 4 journal or dump file error, 5 a server failed.

Examples:
  ferry db clone --source postgres://app@old-db/shop --target postgres://app@new-db/shop
  ferry db clone --source ... --target ... --jobs 8 --dir /var/lib/ferry/shop
  ferry db clone --source ... --target ... --dir /var/lib/ferry/shop --resume
  ferry db clone --source ... --target ... --resync --tables public.audit_log)";

int run_resync_command(CloneCliOptions& o, const std::pair<pg::ConnInfo, pg::ConnInfo>& ends) {
  db::ResyncRequestOptions r;
  r.source = ends.first;
  r.target = ends.second;
  r.dir = o.clone.dir;
  r.publication = o.clone.publication;
  for (const auto& t : o.tables)
    for (auto& one : split_trimmed(t, ",")) r.tables.push_back(std::move(one));
  auto report = db::run_resync_request(r, install_stop_signals());
  if (!report) return report_error(report.error(), o.format);
  std::cout << (o.format == "json" ? db::render_resync_json(*report)
                                   : db::render_resync_text(*report));
  if (report->ok()) return exit_status(ExitCode::kOk);
  log_error("the resync failed: " + report->record.detail);
  return exit_status(ExitCode::kFindings);
}

int run_clone_command(CloneCliOptions& o) {
  auto endpoints = parse_endpoints(o.endpoints);
  if (!endpoints) return report_error(endpoints.error(), o.format);
  if (!o.tables.empty() && !o.resync) {
    log_error("--tables is only for --resync (a clone copies every table)");
    return exit_status(ExitCode::kUsage);
  }
  if (o.resync) return run_resync_command(o, *endpoints);
  auto split =
      o.split == "auto" ? Result<int64_t>(0) : parse_size(o.split, "--split-tables-larger-than");
  if (!split) return report_error(split.error(), o.format);
  auto& c = o.clone;
  if (!is_plain_name(c.slot_name, "--slot") || !is_plain_name(c.publication, "--publication"))
    return exit_status(ExitCode::kUsage);
  c.source = endpoints->first;
  c.target = endpoints->second;
  c.index_jobs = o.index_jobs > 0 ? o.index_jobs : c.jobs;
  c.split_bytes = *split;
  c.slot = !o.no_slot;
  c.analyze = !o.skip_analyze;
  c.lz4_toast = o.toast_compression == "lz4";
  c.live_progress = isatty(STDERR_FILENO) != 0;
  if (o.maintenance_work_mem < (1 << 20)) {
    log_error("--maintenance-work-mem: PostgreSQL needs at least 1MiB");
    return exit_status(ExitCode::kUsage);
  }
  c.maintenance_work_mem = fmt::format("{}kB", o.maintenance_work_mem >> 10);
  auto outcome = db::run_clone(c);
  if (!outcome) {
    const int status = report_error(outcome.error(), o.format);
    const std::string journal = (std::filesystem::path(c.dir) / "clone.db").string();
    if (outcome.error().code != ErrorCode::kInvalidInput && std::filesystem::exists(journal)) {
      log_error(
          "the clone stopped; fix the cause and run the same command with --resume to "
          "finish it (journal: " +
          journal + ")");
      if (c.slot)
        log_error(fmt::format(
            "until then the replication slot '{}' keeps WAL on the source; to give up instead, "
            "drop it: SELECT pg_drop_replication_slot('{}')",
            c.slot_name, c.slot_name));
    }
    return status;
  }
  if (outcome->blocked) {
    std::cerr << db::render_preflight_text(outcome->preflight);
    log_error("preflight found blockers; nothing was copied");
    return exit_status(ExitCode::kFindings);
  }
  std::cout << (o.format == "json" ? db::render_clone_summary_json(outcome->summary)
                                   : db::render_clone_summary_text(outcome->summary));
  return exit_status(ExitCode::kOk);
}

}  // namespace

Runner install_db_clone(CLI::App& sub) {
  auto o = std::make_shared<CloneCliOptions>();
  o->clone.dir = "ferry-clone";
  sub.footer(kDescription);
  add_endpoint_options(sub, o->endpoints);
  sub.add_option("-j,--jobs", o->clone.jobs, "Parallel COPY streams")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  sub.add_option("--index-jobs", o->index_jobs,
                 "Parallel index and constraint builds (default: --jobs)")
      ->check(CLI::Range(1, 256));
  sub.add_option("--dir", o->clone.dir, "Work directory: journal and schema dump")
      ->capture_default_str();
  sub.add_flag("--resume", o->clone.resume, "Finish an interrupted clone journaled in --dir");
  sub.add_flag("--no-slot", o->no_slot,
               "One-shot copy: no publication or replication slot on the source");
  sub.add_option("--slot", o->clone.slot_name, "Replication slot to create")->capture_default_str();
  // The name it had before every command said --slot: still understood.
  sub.add_option("--slot-name", o->clone.slot_name)->group("");
  sub.add_option("--publication", o->clone.publication, "Publication to create")
      ->capture_default_str();
  sub.add_option("--split-tables-larger-than", o->split,
                 "Copy tables larger than this in concurrent ctid ranges (e.g. 512MB, 2GB); "
                 "auto: each job's share of the data, at least 1GB")
      ->capture_default_str();
  sub.add_flag("--truncate-target", o->clone.truncate_target,
               "Empty target tables that already hold rows instead of refusing");
  sub.add_flag("--no-owner", o->clone.no_owner,
               "Objects on the target are owned by the target user; grants are not copied");
  add_size_option(sub, "--maintenance-work-mem", o->maintenance_work_mem,
                  "Memory per index build on the target (e.g. 1GiB, 512MB)");
  sub.add_option("--toast-compression", o->toast_compression,
                 "lz4: large values compressed with lz4 on the target when it has it (several "
                 "times faster than pglz, same values); server: the target's default")
      ->capture_default_str()
      ->check(CLI::IsMember({"lz4", "server"}));
  sub.add_flag("--replica-identity-full", o->clone.replica_identity_full,
               "Set REPLICA IDENTITY FULL on source tables without a key first, so follow "
               "carries their updates and deletes (more WAL); without it only their inserts are");
  sub.add_flag("--resync", o->resync,
               "Copy --tables again while ferry db follow runs (same --dir), e.g. a table follow "
               "reports as diverged");
  sub.add_option(
      "--tables", o->tables,
      "With --resync: the tables, schema.name (or name for public.name); comma-separated "
      "or repeated");
  sub.add_flag("--skip-analyze", o->skip_analyze,
               "Do not ANALYZE the target tables (autovacuum will, later)");
  sub.add_option("-f,--format", o->format, "Summary on stdout: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  return [o] { return run_clone_command(*o); };
}

}  // namespace ferry::cli
