// `ferry db follow`: keeps the target in step with the source after a clone.
// It streams the clone's logical replication slot (pgoutput), assembles whole
// source transactions, and applies them through an ApplyPool: in parallel
// where rows are disjoint, committed in source order, each commit recording
// its source position in the target's replication origins. The slot is told a
// position only once the target has flushed everything up to it, so a crash
// of either side loses nothing and applies nothing twice.
//
// It reconnects after lost connections (a restarted server, a killed
// backend), stops cleanly on request, and ends by itself when a cutover
// announces the switch (a "ferry-switch" message in the stream).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "db/follow/follow_status.h"
#include "pg/conninfo.h"

namespace ferry::db {

struct FollowOptions {
  // The stream's server and where changes are applied. For the reverse
  // stream after a cutover these are the new and the old database.
  pg::ConnInfo from, to;
  bool reverse = false;
  std::string dir = "ferry-clone";  // the clone's journal; status files
  std::string slot = "ferry", publication = "ferry";
  int apply_jobs = 4;
  size_t max_transaction_bytes = 64u << 20;  // larger ones stream through one connection
  std::string metrics_addr;                  // empty: no Prometheus endpoint
  int stall_timeout_seconds = 300;           // no apply progress this long with work waiting: fail
  int retry_seconds = 300;                   // keep reconnecting this long after a lost connection
  bool live_progress = false;                // a terminal: redraw one status line
};

struct FollowOutcome {
  FollowState reason = FollowState::kStopped;  // stopped (a signal) or switched (a cutover)
  FollowStatus status;
};

// The reverse stream after a cutover: slot "<slot>_reverse" on the target,
// publication "ferry_reverse".
std::string reverse_slot_name(const std::string& slot);
inline constexpr const char* kReversePublication = "ferry_reverse";
// The slot the clone journaled in `dir` created, or "ferry".
std::string clone_slot_name(const std::string& dir);

Result<FollowOutcome> run_follow(const FollowOptions& options, const std::atomic<bool>& stop);

}  // namespace ferry::db
