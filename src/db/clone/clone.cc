#include "db/clone/clone.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "core/failpoint.h"
#include "core/log.h"
#include "core/measure.h"
#include "core/step_timer.h"
#include "core/text.h"
#include "db/clone/clone_journal.h"
#include "db/clone/clone_parts.h"
#include "db/clone/clone_progress.h"
#include "db/clone/index_builder.h"
#include "db/clone/part_copy.h"
#include "db/clone/schema_steps.h"
#include "db/follow/apply_pool.h"
#include "db/follow/divergence_monitor.h"
#include "db/follow/follow_journal.h"
#include "db/publication.h"
#include "pg/catalog.h"
#include "pg/connection.h"
#include "pg/snapshot.h"

namespace ferry::db {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kMaxPartsPerTable = 64;

class Cloner {
 public:
  explicit Cloner(const CloneOptions& o) : o_(o) {}

  Result<CloneOutcome> run() {
    // 1. Servers, preflight, journal.
    auto source = pg::Connection::open(o_.source, {"ferry clone"});
    if (!source) return tl::unexpected(source.error());
    auto target = pg::Connection::open(o_.target, {"ferry clone"});
    if (!target) return tl::unexpected(target.error());
    if (auto ok = CloneJournal::check_dir(o_.dir, o_.resume); !ok)
      return tl::unexpected(ok.error());
    PreflightOptions checks{o_.slot, o_.truncate_target, o_.no_owner,
                            o_.jobs, o_.slot_name,       o_.resume};
    auto report = run_preflight(*source, *target, checks);
    if (!report) return tl::unexpected(report.error());
    outcome_.preflight = *report;
    if (report->has_blockers()) {
      outcome_.blocked = true;
      return std::move(outcome_);
    }
    // The journal is created only once there is something to journal, so a
    // refused clone leaves no directory that a new attempt would trip over.
    auto journal = CloneJournal::open(o_.dir, o_.resume);
    if (!journal) return tl::unexpected(journal.error());
    journal_ = &*journal;
    // A new clone starts a new history: an earlier move's follow journal goes.
    if (!o_.resume)
      if (auto ok = FollowJournal::remove(o_.dir); !ok) return tl::unexpected(ok.error());
    if (auto ok = check_run_identity(); !ok) return tl::unexpected(ok.error());
    for (const auto& f : report->findings)
      if (f.level == FindingLevel::kWarning) log_warn(f.area + ": " + f.message);
    auto& summary = outcome_.summary;
    summary.resumed = o_.resume;
    auto existing_schema = journal_->get("schema");
    if (!existing_schema) return tl::unexpected(existing_schema.error());
    schema_by_ferry_ =
        existing_schema->value_or(report->target_has_schema ? "existing" : "ferry") == "ferry";
    if (auto ok = journal_->set("schema", schema_by_ferry_ ? "ferry" : "existing"); !ok)
      return tl::unexpected(ok.error());

    if (auto ok = choose_toast_compression(*target); !ok) return tl::unexpected(ok.error());

    // 2-4. Schema and data at one consistent point, held only as long as needed.
    const std::string dump_file = (std::filesystem::path(o_.dir) / "schema.dump").string();
    if (auto ok = copy_at_snapshot(*source, *target, dump_file); !ok)
      return tl::unexpected(ok.error());

    // 5. Indexes, constraints, triggers; then what depends on them.
    if (auto ok = post_data(*target, dump_file); !ok) return tl::unexpected(ok.error());
    if (auto ok = refresh_materialized_views(*source, *target); !ok)
      return tl::unexpected(ok.error());
    if (auto ok = journal_->set("finished", "yes"); !ok) return tl::unexpected(ok.error());
    summary.steps = timer_.steps();
    summary.total_seconds = timer_.total_seconds();
    return std::move(outcome_);
  }

 private:
  // A resumed run must talk to the same servers and make the same kind of copy.
  Result<void> check_run_identity() {
    const std::pair<const char*, std::string> expected[] = {
        {"source", o_.source.redacted()},
        {"target", o_.target.redacted()},
        {"slot", o_.slot ? o_.slot_name : std::string("(none)")}};
    for (const auto& [key, value] : expected) {
      auto stored = journal_->get(key);
      if (!stored) return tl::unexpected(stored.error());
      if (!*stored) {
        if (auto ok = journal_->set(key, value); !ok) return ok;
      } else if (**stored != value) {
        return fail(ErrorCode::kInvalidInput,
                    fmt::format("--resume: the journal in {} belongs to a clone with {} {}, not {}",
                                o_.dir, key, **stored, value));
      }
    }
    return {};
  }

  Result<void> copy_at_snapshot(pg::Connection& source, pg::Connection& target,
                                const std::string& dump_file) {
    // 2. The consistent point every reader shares.
    auto step = timer_.start("snapshot");
    if (auto ok = set_replica_identity(source); !ok) return ok;
    auto snapshot = take_snapshot(source);
    if (!snapshot) return tl::unexpected(snapshot.error());
    if (auto ok = record_slot_start(source, *snapshot); !ok) return ok;
    // A new slot starts a new history: positions an earlier follow into this
    // database recorded mean nothing for it.
    if (o_.slot && !o_.resume) {
      if (auto ok = drop_apply_origins(target, o_.slot_name); !ok) return ok;
    }
    timer_.finish(step);
    // 3. Schema before data.
    auto pre = transaction_step_done("pre-data", target);
    if (!pre) return tl::unexpected(pre.error());
    if (!*pre) {
      step = timer_.start("pre-data");
      log_info("dumping the schema at the snapshot (pg_dump)");
      if (auto ok = dump_schema(o_.source, snapshot->name(), dump_file); !ok) return ok;
      if (schema_by_ferry_) {
        log_info("creating the schema on the target (pre-data, one transaction)");
        if (auto ok = run_script("pre-data", dump_file, ScriptPart::kPreData); !ok) return ok;
      }
      failpoint("clone.after-pre-data");
      if (auto ok = mark(step); !ok) return ok;
    }
    if (auto ok = start_index_builder(source, target, dump_file); !ok) return ok;
    // 4. Data, sequences and large objects as the snapshot sees them.
    if (auto ok = copy_data(source, target, *snapshot); !ok) return ok;
    if (auto ok = copy_sequences(source, target); !ok) return ok;
    if (auto ok = copy_large_objects(source, target, dump_file); !ok) return ok;
    return source.exec("COMMIT");
  }

  // The slot's start is the first run's snapshot; a resumed run reports it
  // from the slot itself, which knows it even if the journal never heard.
  Result<void> record_slot_start(pg::Connection& source, const pg::ExportedSnapshot& snapshot) {
    auto& lsn = outcome_.summary.snapshot_lsn;
    lsn = snapshot.lsn();
    if (!o_.slot || !o_.resume) return {};
    auto slot =
        source.query("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = $1",
                     {o_.slot_name});
    if (!slot) return tl::unexpected(slot.error());
    if (slot->size() > 0 && !slot->is_null(0, 0)) lsn = std::string(slot->at(0, 0));
    return {};
  }

  // A step that is one target transaction is done when journaled, or when the
  // transaction it journaled just before committing did commit.
  Result<bool> transaction_step_done(const std::string& step, pg::Connection& target) {
    auto done = journal_->step_done(step);
    if (!done || *done) return done;
    auto xid = journal_->get(step + " xid");
    if (!xid) return tl::unexpected(xid.error());
    if (!*xid) return false;
    auto committed = transaction_committed(target, **xid);
    if (!committed || !*committed) return committed;
    if (auto ok = journal_->mark_step_done(step, 0); !ok) return tl::unexpected(ok.error());
    return true;
  }

  // Runs part of the dump as one target transaction, journaling its id.
  Result<void> run_script(const std::string& step, const std::string& dump_file, ScriptPart part,
                          std::vector<std::string>* validations = nullptr) {
    auto sql = restore_script(dump_file, part, {o_.no_owner});
    if (!sql) return tl::unexpected(sql.error());
    if (sql->empty()) return {};
    if (validations) *validations = add_foreign_keys_not_valid(*sql);
    return with_context(run_script_in_one_transaction(o_.target, *sql,
                                                      [&](const std::string& xid) {
                                                        return journal_->set(step + " xid", xid);
                                                      }),
                        "restoring " + step);
  }

  // Index builds and ANALYZE start while the data is still copying, table by
  // table; statements an interrupted run already built are left out.
  Result<void> start_index_builder(pg::Connection& source, pg::Connection& target,
                                   const std::string& dump_file) {
    auto done = journal_->step_done("indexes");
    if (!done) return tl::unexpected(done.error());
    if (*done) return {};
    std::vector<IndexStatement> statements;
    if (schema_by_ferry_) {
      auto found = index_statements(source, target, dump_file, {o_.no_owner});
      if (!found) return tl::unexpected(found.error());
      statements = std::move(*found);
    }
    builder_ = std::make_unique<IndexBuilder>(
        o_.target, std::move(statements),
        IndexBuilderOptions{o_.index_jobs, o_.maintenance_work_mem, o_.analyze});
    return {};
  }

  // lz4 when asked for and the target has it (PostgreSQL 14 built with lz4),
  // set on every connection that writes rows.
  Result<void> choose_toast_compression(pg::Connection& target) {
    auto r = target.query(
        "SELECT 'lz4' = ANY(enumvals), setting FROM pg_settings "
        "WHERE name = 'default_toast_compression'");
    if (!r) return tl::unexpected(r.error());
    auto& chosen = outcome_.summary.toast_compression;
    if (r->size() == 0) {
      chosen = "pglz";  // before PostgreSQL 14: the only method
      return {};
    }
    const bool lz4 = o_.lz4_toast && r->bool_at(0, 0);
    chosen = lz4 ? "lz4" : std::string(r->at(0, 1));
    if (!lz4) return {};
    toast_setting_ = "SET default_toast_compression = 'lz4'";
    return target.exec(toast_setting_);
  }

  // A schema the user created may carry foreign keys and triggers; replica
  // mode keeps them from firing while ferry loads or empties tables (a
  // superuser's privilege: without it they stay on, which the user hears of).
  static void disable_triggers(pg::Connection& target) {
    if (auto ok = target.exec("SET session_replication_role = replica"); !ok)
      log_warn(
          "triggers and foreign keys of the existing target schema stay active while "
          "loading: " +
          ok.error().message);
  }

  // A step whose being done is journaled, so a resumed clone skips it.
  Result<void> mark(const StepTimer::Running& step) {
    return journal_->mark_step_done(step.name, timer_.finish(step));
  }

  Result<pg::ExportedSnapshot> take_snapshot(pg::Connection& source) {
    auto& summary = outcome_.summary;
    if (!o_.slot) return pg::ExportedSnapshot::plain(o_.source);
    auto slot_exists =
        source.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", {o_.slot_name});
    if (!slot_exists) return tl::unexpected(slot_exists.error());
    summary.slot_name = o_.slot_name;
    summary.publication = o_.publication;
    if (o_.resume && slot_exists->size() > 0) {
      auto insert_only = insert_only_tables(source, o_.publication);
      if (!insert_only) return tl::unexpected(insert_only.error());
      summary.insert_only_tables = std::move(*insert_only);
      // The slot keeps the first run's start; a temporary slot gives a new
      // consistent point for what is left, and the journal keeps each part's.
      return pg::ExportedSnapshot::with_slot(
          o_.source, fmt::format("{}_resume_{}", o_.slot_name, getpid()), true);
    }
    auto created = journal_->get("slot created");
    if (!created) return tl::unexpected(created.error());
    if (*created)
      return fail(ErrorCode::kInvalidInput,
                  fmt::format("--resume: the replication slot '{}' this clone created is gone from "
                              "the source, and with it the changes since the copy began; a "
                              "follow could not catch up. Start afresh: an empty target and a "
                              "new --dir",
                              o_.slot_name));
    if (auto ok = create_publications(source); !ok) return tl::unexpected(ok.error());
    log_info(fmt::format("creating replication slot '{}' (pgoutput) on the source", o_.slot_name));
    auto snapshot = pg::ExportedSnapshot::with_slot(o_.source, o_.slot_name, false);
    if (!snapshot) return snapshot;
    if (auto ok = journal_->set("slot created", "yes"); !ok) return tl::unexpected(ok.error());
    return snapshot;
  }

  // The publications must exist before the slot so that decoding from the
  // slot's start finds them. The insert-only tables' update and delete
  // counters are recorded now too: follow reports any change after this.
  Result<void> create_publications(pg::Connection& source) {
    log_info(fmt::format("publication '{}' on the source", o_.publication));
    auto created = db::create_publications(source, o_.publication);
    if (!created) return tl::unexpected(created.error());
    if (created->existed) {
      log_info(fmt::format("publication '{}' exists; using it", o_.publication));
      if (auto ok = warn_unpublished(source); !ok) return ok;
    }
    auto& insert_only = outcome_.summary.insert_only_tables;
    insert_only = created->insert_only;
    if (!insert_only.empty())
      log_warn(fmt::format(
          "{} table(s) without replica identity: only their inserts and TRUNCATEs are carried "
          "by follow (publication {}); an UPDATE or DELETE on them is reported as a divergence: "
          "{}",
          insert_only.size(), insert_only_publication(o_.publication), join(insert_only, ", ")));
    auto journal = FollowJournal::open(o_.dir);
    if (!journal) return tl::unexpected(journal.error());
    return record_insert_only_baselines(source, o_.publication, *journal, "forward");
  }

  // A publication made before the clone may leave tables out: follow would
  // carry nothing of them, so they are named now, not found at cutover.
  Result<void> warn_unpublished(pg::Connection& source) {
    auto left_out = source.query(
        fmt::format(
            "SELECT string_agg(format('%s.%s', n.nspname, c.relname), ', ' ORDER BY n.nspname, "
            "c.relname) FROM "
            "pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND "
            "c.relpersistence = 'p' AND {} AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE "
            "d.classid "
            "= 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e') AND NOT EXISTS "
            "(SELECT 1 FROM pg_publication_tables p "
            "WHERE p.schemaname = n.nspname AND p.tablename = c.relname AND p.pubname IN ($1, $2))",
            pg::kUserSchemaFilter),
        {o_.publication, insert_only_publication(o_.publication)});
    if (!left_out) return tl::unexpected(left_out.error());
    if (!left_out->is_null(0, 0))
      log_warn(
          fmt::format("publication '{}' existed and leaves out: {}; follow carries no change "
                      "to them (ALTER PUBLICATION {} ADD TABLE ..., or ferry db clone "
                      "--resync --tables T once follow runs)",
                      o_.publication, left_out->at(0, 0), o_.publication));
    return {};
  }

  // --replica-identity-full: before the schema is dumped and the publications
  // made, so the target's tables get it too and their every change is carried.
  Result<void> set_replica_identity(pg::Connection& source) {
    if (!o_.replica_identity_full || o_.resume) return {};
    auto tables = pg::list_tables(source);
    if (!tables) return tl::unexpected(tables.error());
    std::vector<std::string> qualified;
    for (const auto& t : *tables) {
      if (t.unlogged || t.has_replica_identity()) continue;
      qualified.push_back(t.qualified());
      outcome_.summary.replica_identity_set.push_back(t.display());
    }
    if (qualified.empty()) return {};
    log_info(
        fmt::format("--replica-identity-full: ALTER TABLE ... REPLICA IDENTITY FULL on {} "
                    "source table(s): {}",
                    qualified.size(), join(outcome_.summary.replica_identity_set, ", ")));
    return set_replica_identity_full(source, qualified);
  }

  Result<void> copy_data(pg::Connection& source, pg::Connection& target,
                         const pg::ExportedSnapshot& snapshot) {
    const auto step = timer_.start("data");
    if (auto ok = pg::import_snapshot(source, snapshot.name()); !ok) return ok;
    auto tables = pg::list_tables(source);
    if (!tables) return tl::unexpected(tables.error());
    for (const auto& t : *tables) tables_[t.display()] = t;
    auto planned = journal_->step_done("planned");
    if (!planned) return tl::unexpected(planned.error());
    if (!*planned) {
      if (o_.truncate_target && !schema_by_ferry_) {
        if (auto ok = truncate_target(target, *tables); !ok) return ok;
      }
      // The parts and the "planned" step in one journal transaction.
      // TID range scans (PostgreSQL 14) read just a part's blocks; before
      // that each part would scan the whole table.
      const int64_t split = source.server_version() < 140000 ? 0
                            : o_.split_bytes > 0             ? o_.split_bytes
                                                 : automatic_split_bytes(*tables, o_.jobs);
      if (auto ok = journal_->plan(plan_parts(*tables, split, kMaxPartsPerTable)); !ok) return ok;
    } else {
      if (!schema_by_ferry_) disable_triggers(target);
      auto reset = reconcile_parts(*journal_, target, snapshot.lsn(), schema_by_ferry_);
      if (!reset) return tl::unexpected(reset.error());
      for (const auto& t : *reset)
        log_warn(
            fmt::format("{}: copied in parts at the earlier snapshot; copying it again whole "
                        "at the new one",
                        t));
    }
    auto parts = journal_->parts();
    if (!parts) return tl::unexpected(parts.error());
    std::vector<PartRecord> todo;
    int64_t total = 0;
    for (const auto& p : *parts) {
      if (p.state == PartState::kDone) continue;
      if (!tables_.count(p.schema + "." + p.name))
        return fail(ErrorCode::kDatabase,
                    fmt::format("table {}.{} was in the clone's plan but is gone from the source",
                                p.schema, p.name));
      todo.push_back(p);
      total += p.estimated_bytes;
    }
    if (o_.resume)
      log_info(fmt::format("resuming: {} of {} parts already copied, {} to go",
                           parts->size() - todo.size(), parts->size(), todo.size()));
    if (auto ok = run_workers(snapshot, todo, total); !ok) return ok;
    timer_.finish(step);
    return summarise_tables();
  }

  Result<void> truncate_target(pg::Connection& target, const std::vector<pg::Table>& tables) {
    std::string list;
    for (const auto& t : tables) list += (list.empty() ? "" : ", ") + t.qualified();
    if (list.empty()) return {};
    log_info(fmt::format("--truncate-target: emptying {} target tables", tables.size()));
    return target.exec("TRUNCATE " + list);
  }

  Result<void> run_workers(const pg::ExportedSnapshot& snapshot,
                           const std::vector<PartRecord>& todo, int64_t total_bytes) {
    if (todo.empty()) return {};
    const int workers = std::max(1, std::min<int>(o_.jobs, static_cast<int>(todo.size())));
    CloneProgress progress(workers, total_bytes, o_.live_progress);
    std::mutex mutex;
    std::map<std::string, int> parts_left;  // per table; at 0 its indexes can be built
    for (const auto& p : todo) ++parts_left[p.schema + "." + p.name];
    size_t next = 0;
    std::optional<Error> first_error;
    auto worker = [&](int index) {
      auto fail_with = [&](Error e) {
        std::lock_guard lock(mutex);
        if (!first_error) first_error = std::move(e);
      };
      auto source = pg::Connection::open(o_.source, {"ferry clone worker"});
      if (!source) return fail_with(source.error());
      if (auto ok = pg::import_snapshot(*source, snapshot.name()); !ok)
        return fail_with(ok.error());
      auto target = pg::Connection::open(o_.target, {"ferry clone worker"});
      if (!target) return fail_with(target.error());
      if (!schema_by_ferry_) disable_triggers(*target);
      if (!toast_setting_.empty()) {
        if (auto ok = target->exec(toast_setting_); !ok) return fail_with(ok.error());
      }
      while (true) {
        const PartRecord* part = nullptr;
        {
          std::lock_guard lock(mutex);
          // A failed index build fails the clone: copying on would only delay saying so.
          if (first_error || next == todo.size() || (builder_ && builder_->failed())) return;
          part = &todo[next++];
        }
        const pg::Table& table = tables_.at(part->schema + "." + part->name);
        const std::string label =
            part->whole_table()
                ? table.display()
                : fmt::format("{} ({}/{})", table.display(), part->part_no, part->part_count);
        CopyCounters& counters = progress.part_started(index, label, part->estimated_bytes);
        const auto t0 = Clock::now();
        auto copied =
            copy_part(*source, *target, table, *part, counters, [&](const std::string& xid) {
              auto ok = journal_->part_copying(part->id, xid, snapshot.lsn());
              failpoint("clone.part-before-commit");
              return ok;
            });
        if (!copied) return fail_with(std::move(copied.error()).with_context("copying " + label));
        // Committed on the target, not yet journaled: resume must ask the target.
        failpoint("clone.part-committed");
        const double seconds = seconds_since(t0);
        if (auto ok = journal_->part_done(part->id, copied->rows, copied->bytes, seconds); !ok)
          return fail_with(ok.error());
        progress.part_finished(index, copied->rows, copied->bytes, seconds, part->estimated_bytes);
        failpoint("clone.part-done");
        bool table_done = false;
        {
          std::lock_guard lock(mutex);
          table_done = --parts_left[table.display()] == 0;
        }
        if (table_done) failpoint("clone.table-copied " + table.display());
        if (table_done && builder_) builder_->table_copied(table.display(), table.qualified());
      }
    };
    std::vector<std::thread> threads;
    for (int i = 0; i < workers; ++i) threads.emplace_back(worker, i);
    for (auto& t : threads) t.join();
    progress.finish();
    if (first_error) return tl::unexpected(*first_error);
    return {};
  }

  Result<void> summarise_tables() {
    auto parts = journal_->parts();
    if (!parts) return tl::unexpected(parts.error());
    std::map<std::string, TableCopySummary> by_table;
    for (const auto& p : *parts) {
      const std::string name = p.schema + "." + p.name;
      auto& s = by_table[name];
      s.table = name;
      s.parts += 1;
      // -1: a part committed just before an interruption, its count unknown.
      s.rows = s.rows < 0 || p.rows < 0 ? -1 : s.rows + p.rows;
      s.bytes += std::max<int64_t>(0, p.bytes);
      s.seconds += p.seconds;
      if (auto it = tables_.find(name); it != tables_.end()) {
        s.unlogged = it->second.unlogged;
        s.binary = it->second.binary_copy_ok();
      }
    }
    for (auto& [name, s] : by_table) outcome_.summary.tables.push_back(s);
    std::sort(outcome_.summary.tables.begin(), outcome_.summary.tables.end(),
              [](const auto& a, const auto& b) { return a.bytes > b.bytes; });
    return {};
  }

  // Sequence values as the snapshot saw them; setval on the target.
  Result<void> copy_sequences(pg::Connection& source, pg::Connection& target) {
    const auto step = timer_.start("sequences");
    auto sequences = pg::list_sequences(source);
    if (!sequences) return tl::unexpected(sequences.error());
    if (auto ok = pg::set_sequences(target, *sequences); !ok) return tl::unexpected(ok.error());
    outcome_.summary.sequences = static_cast<int64_t>(sequences->size());
    timer_.finish(step);
    return {};
  }

  // Large objects' contents are the dump's only data besides sequences.
  Result<void> copy_large_objects(pg::Connection& source, pg::Connection& target,
                                  const std::string& dump_file) {
    auto count = source.query("SELECT count(*) FROM pg_largeobject_metadata");
    if (!count) return tl::unexpected(count.error());
    outcome_.summary.large_objects = count->int_at(0, 0);
    auto done = transaction_step_done("large-objects", target);
    if (!done) return tl::unexpected(done.error());
    if (*done || outcome_.summary.large_objects == 0) return {};
    const auto step = timer_.start("large-objects");
    log_info(fmt::format("copying {} large object(s)", outcome_.summary.large_objects));
    // Without ferry's pre-data step the objects themselves do not exist yet.
    if (auto ok = run_script(
            "large-objects", dump_file,
            schema_by_ferry_ ? ScriptPart::kLargeObjects : ScriptPart::kLargeObjectsWithMetadata);
        !ok)
      return ok;
    return mark(step);
  }

  // The index builds still running or queued (each its own statement,
  // skipped on resume when it exists), then everything else that follows the
  // data (foreign keys, triggers, policies, rules, comments) in one transaction.
  Result<void> post_data(pg::Connection& target, const std::string& dump_file) {
    if (builder_) {
      failpoint("clone.post-data-started");
      const auto step = timer_.start("indexes");
      log_info(fmt::format("finishing index builds{} ({} jobs)", o_.analyze ? " and ANALYZE" : "",
                           o_.index_jobs));
      std::vector<std::pair<std::string, std::string>> tables;
      for (const auto& [display, table] : tables_) tables.emplace_back(display, table.qualified());
      auto built = builder_->finish(tables);
      builder_.reset();
      if (!built) return built;
      if (auto ok = mark(step); !ok) return ok;
    }
    if (!schema_by_ferry_) return {};
    auto rest = transaction_step_done("post-data", target);
    if (!rest) return tl::unexpected(rest.error());
    if (!*rest) {
      const auto step = timer_.start("post-data");
      log_info("adding foreign keys, triggers and the rest of post-data (one transaction)");
      auto mixed = copied_at_several_instants();
      if (!mixed) return tl::unexpected(mixed.error());
      std::vector<std::string> validations;
      if (auto ok = run_script("post-data", dump_file, ScriptPart::kPostDataRest,
                               *mixed ? &validations : nullptr);
          !ok)
        return ok;
      if (auto ok = mark(step); !ok) return ok;
      validate_foreign_keys(target, validations);
    }
    failpoint("clone.after-post-data");
    return {};
  }

  // Whether a resume copied some tables at another snapshot than the rest.
  Result<bool> copied_at_several_instants() {
    auto parts = journal_->parts();
    if (!parts) return tl::unexpected(parts.error());
    std::set<std::string> instants;
    for (const auto& p : *parts)
      if (!p.snapshot_lsn.empty()) instants.insert(p.snapshot_lsn);
    return instants.size() > 1;
  }

  // Foreign keys added NOT VALID because the tables were copied at different
  // instants: validated now where the rows already agree; the others are
  // reported, to validate once `ferry db follow` has caught up.
  void validate_foreign_keys(pg::Connection& target, const std::vector<std::string>& validations) {
    for (const auto& sql : validations) {
      if (auto ok = target.exec(sql); !ok) {
        log_warn("a foreign key stays NOT VALID (tables copied at different instants): " +
                 ok.error().message + "; once follow has caught up, run: " + sql);
        outcome_.summary.foreign_keys_not_valid.push_back(sql);
      }
    }
  }

  // pg_dump leaves materialized views empty when table data is excluded;
  // refresh those the source has populated, retrying the ones that read
  // another view until every dependency is filled.
  Result<void> refresh_materialized_views(pg::Connection& source, pg::Connection& target) {
    auto done = journal_->step_done("materialized-views");
    if (!done) return tl::unexpected(done.error());
    if (*done) return {};
    const auto step = timer_.start("materialized-views");
    auto views = source.query(
        "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON "
        "n.oid = c.relnamespace WHERE c.relkind = 'm' AND c.relispopulated ORDER BY c.oid");
    if (!views) return tl::unexpected(views.error());
    std::vector<std::string> pending;
    for (int i = 0; i < views->size(); ++i) pending.emplace_back(views->at(i, 0));
    outcome_.summary.materialized_views = static_cast<int64_t>(pending.size());
    while (!pending.empty()) {
      std::vector<std::string> failed;
      std::optional<Error> last;
      for (const auto& v : pending) {
        if (auto ok = target.exec("REFRESH MATERIALIZED VIEW " + v); !ok) {
          failed.push_back(v);
          last = ok.error();
        }
      }
      if (failed.size() == pending.size())
        return tl::unexpected(std::move(*last).with_context("refreshing materialized views"));
      pending = std::move(failed);
    }
    return mark(step);
  }

  const CloneOptions& o_;
  CloneJournal* journal_ = nullptr;
  bool schema_by_ferry_ = true;
  std::string toast_setting_;                // SET for connections that write rows, or ""
  std::map<std::string, pg::Table> tables_;  // by schema.name, at the snapshot
  std::unique_ptr<IndexBuilder> builder_;    // indexes and ANALYZE, overlapping the copy
  StepTimer timer_;  // from the start of run(): the summary's steps and total
  CloneOutcome outcome_;
};

}  // namespace

Result<CloneOutcome> run_clone(const CloneOptions& options) { return Cloner(options).run(); }

}  // namespace ferry::db
