// A migration plan (docs/run.md): the databases and the proxy route a
// migration moves, and the steps that move them, in order. Loading checks
// everything that can be checked without reaching a server and reports every
// problem at once with file:line:column, like every ferry file.
//
// Connection strings may name environment variables (`${SOURCE_URI}`), so a
// plan can be committed without a password in it. A plan keeps both what was
// written (for display) and the expanded value (for use); the expanded value
// is never printed, only its redacted form.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/diagnostics.h"
#include "core/error.h"

namespace ferry::run {

// Seed 004's two ways of cutting over, each with its default steps
// (default_steps.h): everything in one cutover, or the application layer
// first (its traffic moved while it still uses the old database) and the
// data layer after.
enum class Strategy { kAllAtOnce, kLayerByLayer };
// What a failed step leads to: the rollback path for what has moved so
// far, or a pause for a person to decide.
enum class OnFailure { kRollback, kPause };

struct PlanDatabase {
  std::string name;
  std::string source, target;              // expanded; may hold passwords: never print
  std::string source_shown, target_shown;  // redacted, for output
  int jobs = 4;                            // clone's parallel table copies
  std::string route;  // the proxy route whose traffic this data serves; "" none
  SourceLocation where;
};

struct PlanProxy {
  std::string admin = "127.0.0.1:9901";  // a running `ferry proxy`'s admin.listen
  std::string token_file;                // "" : FERRY_ADMIN_TOKEN, or none
  SourceLocation where;
};

enum class StepKind { kClone, kFollow, kVerify, kApprove, kRollout, kCutover, kWatch, kCommand };

const char* step_kind_name(StepKind kind);

// Seed 000's rollback criteria, as a watch checks them window by window
// against the route's baseline (its numbers before the run moved traffic).
struct WatchCriteria {
  int64_t interval_ms = 30'000;          // each verdict covers this long
  double max_error_rate_increase = 1.0;  // percentage points above the baseline
  double max_p99_ratio = 1.5;            // p99 over the baseline's p99
  int64_t min_requests = 100;            // per window; fewer: inconclusive
};

struct PlanStep {
  StepKind kind = StepKind::kClone;
  std::string database;  // clone, follow, verify, cutover
  std::string route;     // rollout, watch; cutover's route (optional)
  std::string to_pool;   // cutover: the route's pool on the new side; "" : its rollout's to:
  std::string message;   // approve: what the person approves
  std::string command;   // command: run by /bin/sh; non-zero exit fails the step
  // cutover: run by /bin/sh at the database's switch (`ferry db cutover
  // --then`), and at the switch back when it is rolled back (`rollback --then`)
  std::string then, rollback_then;
  bool reverse = true;         // cutover: start the reverse stream (the way back)
  int64_t hold_ms = 0;         // cutover: hold the route's requests this long at most; 0: no hold
  int64_t for_ms = 0;          // watch: how long the rollback criteria keep being checked
  WatchCriteria criteria;      // watch
  bool from_strategy = false;  // not written in the plan: the strategy's default
  std::string origin;          // for messages: "steps[3]", or "the strategy's step 4"
  SourceLocation where;

  // What it does, in a line: "cutover users-db (route users, hold 5s, reverse)".
  std::string describe() const;
};

struct Plan {
  std::string file;
  std::string name;
  std::string state_dir;  // as resolved: relative paths from the plan's directory
  std::vector<PlanDatabase> databases;
  std::optional<PlanProxy> proxy;
  Strategy strategy = Strategy::kAllAtOnce;
  OnFailure on_failure = OnFailure::kRollback;
  std::vector<PlanStep> steps;
  std::vector<std::string> warnings;  // "file:line:col: warning: ..."

  const PlanDatabase* find_database(std::string_view wanted) const;
};

// Looks a variable up: the process environment in `ferry run`, a map in tests.
using Environment = std::function<std::optional<std::string>(std::string_view)>;
std::optional<std::string> process_environment(std::string_view name);
// For what reads a run's journal and connects to nothing (`ferry run status`,
// the commands): every variable reads as a placeholder connection string, so
// a person without the secrets can still see where a run is.
std::optional<std::string> placeholder_environment(std::string_view name);

// Every problem in one kInvalidInput error.
Result<Plan> parse_plan(std::string_view text, const std::string& file, const Environment& env);
Result<Plan> load_plan(const std::string& path, const Environment& env = process_environment);

}  // namespace ferry::run
