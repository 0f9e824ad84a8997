// What `ferry run PLAN --dry-run` checks before anything moves: the plan's
// state directory can be written, each database's source and target answer
// and pass `ferry db check` (db/check/preflight.h), and the proxy's admin API
// answers and has every route the steps name (with a rollout where a step
// runs one). Every check runs and is reported, passed or not: one round of
// fixes, not one per attempt. Nothing is changed anywhere.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "run/plan.h"

namespace ferry::run {

struct PreflightCheck {
  std::string subject;  // "database users-db", "proxy 127.0.0.1:9901", "route users"
  bool ok = false;
  std::string detail;  // what was found; for a failure, what to do
};

struct PlanPreflight {
  std::vector<PreflightCheck> checks;
  bool ok() const;
};

// `env_token`: FERRY_ADMIN_TOKEN as the command read it, for a proxy without
// proxy.token_file. `resuming`: the run has started already, so the clone
// may have filled the target and taken the slot name: the databases are
// checked for answering only, not by `ferry db check`.
PlanPreflight run_plan_preflight(const Plan& plan, std::string_view env_token,
                                 bool resuming = false);

// The replication slot a plan's follow of `db` uses: "ferry_" and the plan's
// and database's names, in the characters PostgreSQL allows, at most 40
// (`ferry db clone --slot`'s limit: a long one is cut and ends in a hash of
// the whole).
std::string slot_name(const Plan& plan, const PlanDatabase& db);

}  // namespace ferry::run
