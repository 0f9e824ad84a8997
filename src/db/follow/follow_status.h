// What a running `ferry db follow` reports about itself: written to
// WORKDIR/follow-status.json (follow-reverse-status.json for the reverse
// stream) every second, atomically, for `ferry db status`, `ferry db cutover`
// and scripts; the same numbers are served as Prometheus metrics.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/metrics_endpoint.h"
#include "db/follow/follow_journal.h"

namespace ferry::db {

enum class FollowState {
  kStarting,      // connecting
  kCatchingUp,    // applying a backlog, or holding changes for a resync
  kFollowing,     // caught up: everything received is applied
  kReconnecting,  // a connection was lost; retrying
  kStopped,       // on request (Ctrl-C, SIGTERM)
  kSwitched,      // a cutover ended it
  kFailed,
};
// As the status file, the metrics and the docs spell them: "catching-up".
const char* follow_state_name(FollowState state);
std::optional<FollowState> parse_follow_state(std::string_view name);
// Catching up or following: the follow is at work.
bool is_streaming(FollowState state);
// Stopped, switched or failed: it will not go on by itself.
bool has_ended(FollowState state);

struct FollowStatus {
  FollowState state = FollowState::kStarting;
  // Set by readers: the writing process is alive and wrote within seconds.
  bool running = true;
  std::string direction = "forward";  // forward: source -> target; reverse after a cutover
  int64_t pid = 0;
  std::string slot, publication, source, target;  // servers with passwords masked
  int apply_jobs = 1;
  std::string metrics_url;             // the Prometheus endpoint, when one is served
  std::string started_at, updated_at;  // ISO 8601 UTC
  std::string applied_lsn;             // end of the last source commit on the target
  std::string confirmed_lsn;           // what the slot was told it may release
  std::string source_wal_lsn;
  int64_t lag_bytes = 0;
  double lag_seconds = 0;
  double lag_p99_ms = 0;  // commit on the source to commit on the target, last minute
  int64_t transactions = 0, rows = 0, conflicts = 0, skipped = 0, queued = 0;
  double transactions_per_second = 0, rows_per_second = 0;  // over the last 10 s
  int64_t reconnects = 0;
  // Tables only inserts and TRUNCATEs are carried for (no replica identity),
  // and those of them an UPDATE or DELETE on the source has made different.
  std::vector<std::string> insert_only_tables;
  std::vector<DivergedTable> diverged_tables;
  std::string resync;  // the copy `ferry db clone --resync` asked for, while it runs
  std::vector<std::string> warnings;
  std::string error;

  double updated_unix = 0;  // for staleness checks; written as updated_at too
};

std::string follow_status_path(const std::string& dir, bool reverse);
std::string render_follow_status_json(const FollowStatus& s);
std::string render_follow_status_text(const FollowStatus& s);
std::string render_follow_status_prometheus(const FollowStatus& s);
Result<void> write_follow_status(const std::string& path, const FollowStatus& s);
Result<FollowStatus> read_follow_status(const std::string& path);
// Whether the process that wrote `s` still runs (as any user).
bool follow_process_exists(const FollowStatus& s);
// Whether the process that wrote `s` still runs and wrote it recently.
bool follow_is_alive(const FollowStatus& s, double max_age_seconds = 5);
// What to do about a diverged table: the commands, with the work directory.
// `reverse`: the table diverged on the target after a cutover.
std::string diverged_table_fix(const std::string& table, const std::string& dir, bool reverse);

// For GET /readyz on the metrics listener: ready once follow streams (its
// connections are up) and has measured its lag, with the state and lag in
// the JSON body either way.
MetricsEndpoint::Readiness follow_readiness(const FollowStatus& s);

}  // namespace ferry::db
