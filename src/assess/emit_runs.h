// Plans become runs (`ferry assess --emit-runs DIR`): from an assessment's
// Plan, a `ferry run` plan skeleton (docs/run.md) for every workload whose
// data or traffic ferry can move, and an index (README.md) listing them in
// wave order with everything ferry cannot carry and why. Pure: no clock, no
// files; the caller writes what it returns (core/generated_files.h).
//
// The choices (docs/assess.md, "Plans become runs"):
// - ferry moves PostgreSQL stores (`ferry db`) and HTTP traffic (`ferry
//   proxy`): a store is moved when its engine is postgresql and the plan
//   moves its data (not archived, kept or exported); a workload's traffic
//   when it is a service or frontend that does not answer DNS instead.
// - Every store is moved by exactly one plan: `ferry run` clones a database
//   once, into slots named after its plan, so two plans must never share one.
// - A database workload whose only moving user is one HTTP workload cutting
//   over in the same wave moves in that workload's plan: `ferry run`'s
//   cutover holds the application's requests while its database switches,
//   which a plan without the route cannot do. A database shared by several
//   workloads, or used by one in another wave, gets a plan of its own (data
//   steps only), and its users get plans for their traffic.
// - The steps follow the workload's cutover style: all at once (copy, then
//   the database and the traffic switch together) or layer by layer (copy,
//   then the application's traffic, then the database). Either way the copy
//   comes first: it takes hours or days, changes nothing users see, and the
//   schedule has it finish as the wave's cutover window opens.
// - The watch's thresholds are the workload's rollback criteria; criteria
//   ferry cannot check itself (data integrity, security incidents) are
//   written as comments for the person running the plan.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "assess/plan.h"
#include "core/generated_files.h"

namespace ferry::assess {

struct EmitRunsOptions {
  std::vector<std::string> inventories;  // named in every header
  std::string dir;                       // as given: the commands shown use it
};

// One PostgreSQL store a run plan moves.
struct RunDatabase {
  std::string name;      // in the run plan: the store's name as a config name
  size_t owner = 0;      // the workload that owns it (index into Plan::workloads)
  size_t item = 0;       // its index in the owner's data_plan
  std::string variable;  // "WEB_MAIN": ${WEB_MAIN_SOURCE_URI}, ${WEB_MAIN_TARGET_URI}
};

struct RunPlan {
  std::string file;             // "wave-04-web-api.yaml"
  std::string name;             // the run's name: the workload's, as a config name
  size_t workload = 0;          // index into Plan::workloads
  std::vector<size_t> carried;  // database workloads whose stores it moves
  std::vector<RunDatabase> databases;
  std::string route;  // the proxy route it moves; "" when it moves data only
  bool layer_by_layer = false;
};

// Something of the estate that no plan carries, and why.
struct RunExclusion {
  size_t workload = 0;  // index into Plan::workloads
  std::string what;     // "traffic", "data store web-sessions (Redis, 6 GB)", "the workload"
  std::string reason;
};

struct EmittedRuns {
  std::vector<RunPlan> plans;  // in wave order, then by file name
  // Moving workloads first, in wave order; then those that do not move.
  std::vector<RunExclusion> exclusions;
  std::vector<GeneratedFile> files;  // every plan's text, then README.md
};

EmittedRuns emit_runs(const Plan& plan, const EmitRunsOptions& options);

// How a plan's closing watch judges the route (docs/run.md, "watch"): the
// rollback criteria as thresholds, on windows long enough to hold
// `min_requests` at the workload's traffic.
struct WatchSettings {
  int64_t for_seconds = 30 * 60;
  int64_t interval_seconds = 30;
  double max_error_rate_increase = 1.0;  // percentage points above the baseline
  double max_p99_ratio = 1.5;            // the p99 over the baseline's
  int64_t min_requests = 100;            // a window with fewer has no verdict
  std::string error_rate_from;           // the criterion's text, "" for ferry's default
  std::string p99_from;
  std::string traffic_note;  // how the windows were sized, for the plan's comment
};

// `requests_per_day`: the workload's traffic, when the inventory gives it.
WatchSettings watch_settings(const std::vector<RollbackRule>& criteria,
                             std::optional<double> requests_per_day);

// True when a watch checks the criterion (an error rate or p99 threshold in
// percent); the rest are for people.
bool watch_checks(const RollbackRule& criterion);

// One plan's file: the header that says where it came from and what to fill
// in, then the plan. `runs` lets it name related plans and what they leave out.
std::string run_plan_text(const Plan& plan, const RunPlan& run, const EmittedRuns& runs,
                          const EmitRunsOptions& options);

}  // namespace ferry::assess
