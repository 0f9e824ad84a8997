// Moving writes from one database to the other, as a timed checklist (seed
// 001's cutover: read-only source, lag 0, verify, sequences, switch; seed 004:
// reverse synchronisation so there is a way back). `ferry db cutover` moves
// them from the source to the target, `ferry db rollback` back again; both
// run the same steps with the sides swapped:
//
//  1. preflight    the follow carrying old -> new runs and its lag is small
//                  (one still starting or catching up is waited for); no
//                  table has diverged; schema and settings agree; nothing
//                  blocks the steps after
//  2. read-only    the old side's database defaults to read-only; writing
//                  transactions get a grace period, then sessions still open
//                  are ended (they would keep writing); a marker in the WAL
//                  records the stop position
//  3. drain        the follow applies up to the marker (lag 0)
//  4. verify       row counts of every table (or checksums), nothing missing
//  5. sequences    the new side's sequences take the old side's values, never
//                  below the largest value in a column they own
//  6. switch       (cutover --reverse: a slot and publication on the new side
//                  first, so no write made there is missed) --then runs; the
//                  follow is told to end
//
// Any failure before the switch completes puts the old side back to
// read-write and removes what the steps created: everything is as it was.
// The write-unavailable time runs from read-only on to the switch done.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/cutover/cutover_checks.h"
#include "pg/conninfo.h"

namespace ferry::db {

struct CutoverOptions {
  pg::ConnInfo source, target;  // as given to cutover and rollback
  std::string dir = "ferry-clone";
  // The forward stream's slot (the clone's); the reverse stream's is
  // reverse_slot_name(slot) on the target, with publication "ferry_reverse".
  std::string slot = "ferry";
  bool rollback = false;                 // false: cutover (source -> target); true: rollback
  bool reverse = false;                  // cutover: prepare the reverse stream and start it
  double max_lag_seconds = 10;           // preflight: the follow's lag
  double catch_up_timeout_seconds = 60;  // preflight waits this long for the follow to catch up
  double grace_seconds = 5;              // writing transactions may finish
  double max_write_pause = 60;           // read-only to switched, or everything is restored
  FinalVerify final_verify = FinalVerify::kCounts;
  std::vector<std::string> verify_tables;  // checksums for these too (patterns)
  std::string then_command;                // run at the switch, via /bin/sh
  // Go on although follow reports diverged tables (they stay different).
  bool allow_diverged = false;
  std::string ferry_binary;  // to start the reverse follow
  // With --reverse: false leaves starting `ferry db follow --reverse` to a
  // supervisor (ferry-follow-reverse@.service, a Kubernetes pod), which keeps
  // it running; the reverse slot holds the new side's writes until then.
  bool start_reverse_follow = true;
};

struct CutoverStep {
  std::string name;
  double seconds = 0;
  bool ok = true;
  std::string detail;
};

struct CutoverReport {
  std::string kind;  // cutover, rollback
  std::vector<CutoverStep> steps;
  bool switched = false;
  bool restored = false;  // a failure put the old side back to read-write
  double write_unavailable_seconds = 0;
  double total_seconds = 0;
  std::string stop_lsn;
  std::string writable;  // the side that takes writes now (password masked)
  std::string failure;   // why it stopped, when it did
  ErrorCode failure_code = ErrorCode::kDatabase;
  bool changed_anything = false;         // the old side was made read-only (then restored or not)
  std::vector<std::string> differences;  // from the final verify
  std::vector<std::string> diverged_accepted;  // tables that stay different (--allow-diverged)
  int64_t reverse_follow_pid = 0;
  bool reverse_follow_external = false;  // prepared for a supervisor to start
  bool ok() const { return switched; }
};

Result<CutoverReport> run_cutover(const CutoverOptions& options);

std::string render_cutover_text(const CutoverReport& report);
std::string render_cutover_json(const CutoverReport& report);

// WORKDIR/cutover.json: what the last cutover did, for rollback.
std::string cutover_state_path(const std::string& dir);

}  // namespace ferry::db
