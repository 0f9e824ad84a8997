// `ferry db clone`: copies a live PostgreSQL database to another server at one
// consistent snapshot: schema (pg_dump/pg_restore), then data (parallel
// COPY streams, largest tables first, big tables split by ctid ranges) with
// each table's indexes built as soon as it is in, sequences, large objects,
// then foreign keys and triggers, materialized views. Journaled in WORKDIR so --resume finishes an
// interrupted clone. With a replication slot created at the same snapshot,
// `ferry db follow` continues exactly where the copy ends.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/step_timer.h"
#include "db/check/preflight.h"
#include "pg/conninfo.h"

namespace ferry::db {

struct CloneOptions {
  pg::ConnInfo source, target;
  std::string dir;     // journal and schema dump
  int jobs = 4;        // parallel COPY streams
  int index_jobs = 4;  // parallel index builds (and ANALYZEs)
  bool resume = false;
  bool slot = true;  // create the slot (and publication) for follow
  std::string slot_name = "ferry";
  std::string publication = "ferry";
  bool truncate_target = false;
  bool no_owner = false;
  bool analyze = true;
  // Split tables larger than this into parts; 0: automatic_split_bytes().
  int64_t split_bytes = 0;
  std::string maintenance_work_mem = "256MB";  // per index build
  // Large values (TOAST) are compressed with lz4 on the target when it has
  // lz4: several times cheaper to write (and read) than pglz, the same values.
  // false: the target's default_toast_compression.
  bool lz4_toast = true;
  bool live_progress = false;  // a terminal: redraw worker lines
  // Tables without replica identity get REPLICA IDENTITY FULL on the source
  // first, so follow carries their updates and deletes too (more WAL).
  bool replica_identity_full = false;
};

struct TableCopySummary {
  std::string table;  // schema.name
  int parts = 0;
  int64_t rows = 0, bytes = 0;
  double seconds = 0;  // summed over its parts
  bool unlogged = false;
  bool binary = true;
};

struct CloneSummary {
  std::vector<TableCopySummary> tables;
  std::vector<TimedStep> steps;  // in the order they finished
  double total_seconds = 0;
  std::string snapshot_lsn, slot_name, publication;  // slot empty with --no-slot
  // Tables without replica identity: only their inserts and TRUNCATEs are
  // carried (a publication of their own); REPLICA IDENTITY FULL was set on
  // these by --replica-identity-full.
  std::vector<std::string> insert_only_tables, replica_identity_set;
  int64_t sequences = 0, large_objects = 0, materialized_views = 0;
  std::string toast_compression;  // what large values were written with on the target
  // VALIDATE statements still to run: foreign keys whose rows, copied at
  // different instants after a resume, do not agree yet.
  std::vector<std::string> foreign_keys_not_valid;
  bool resumed = false;
};

struct CloneOutcome {
  PreflightReport preflight;
  bool blocked = false;  // preflight found blockers; nothing was done
  CloneSummary summary;
};

Result<CloneOutcome> run_clone(const CloneOptions& options);

std::string render_clone_summary_text(const CloneSummary& summary);
std::string render_clone_summary_json(const CloneSummary& summary);

}  // namespace ferry::db
