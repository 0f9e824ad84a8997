// What a run's live dashboard shows, as one JSON document (docs/run.md,
// "Live dashboard"): the run's status (run_status.h's fields: name, state,
// why, steps, events, queued) and
//
//   plan:      {file, on_failure, steps: ["what step 1 does", ...]}
//   databases: [{name, route, source, target, direction, state, running,
//                lag_seconds, lag_bytes, lag_p99_ms, transactions_per_second,
//                rows_per_second, updated_at, error, diverged_tables}]
//   proxy:     null without a proxy in the plan, else dashboard_proxy.h's reading
//   error:     "" or why the journal could not be read
//
// A database's replication is what its follow last wrote to
// STATE_DIR/NAME/follow-status.json (and follow-reverse-status.json for the
// reverse stream after a cutover; db/follow/follow_status.h). Connection
// strings appear only redacted, as the plan shows them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "run/dashboard_proxy.h"
#include "run/plan.h"
#include "run/run_journal.h"

namespace ferry::run {

struct DatabaseReplication {
  std::string name, route;
  std::string source, target;         // redacted
  std::string direction = "forward";  // "reverse": the way back, after a cutover
  std::string state = "none";         // the follow's state; "none" before any, "unreadable"
  bool running = false;               // its process is alive and wrote within seconds
  double lag_seconds = 0, lag_p99_ms = 0;
  int64_t lag_bytes = 0;
  double transactions_per_second = 0, rows_per_second = 0;
  std::string updated_at;
  std::string error;
  int64_t diverged_tables = 0;
};

// Each database's forward stream, and its reverse stream when one has
// written a status.
std::vector<DatabaseReplication> read_replication(const Plan& plan);

// The whole document; a journal that cannot be read is reported in `error`
// (with the run's state "unknown"), so the page says so instead of going stale.
std::string render_dashboard_snapshot(const Plan& plan, const RunJournal& journal,
                                      const std::vector<DatabaseReplication>& databases,
                                      const std::optional<ProxyReading>& proxy,
                                      size_t events = 100);

}  // namespace ferry::run
