// One workload's assessment: its facts (inputs, assumptions, derived values),
// service mapping, data plan, the rules' decisions, risks, checklist,
// rollback criteria and confidence. Everything about the rest of the estate
// that it needs comes in a WorkloadContext, so it can be tested on its own.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "assess/catalog.h"
#include "assess/plan.h"
#include "assess/rules.h"

namespace ferry::assess {

struct WorkloadContext {
  std::vector<std::string> dependents;  // workloads that hard- or soft-depend on it
  bool in_cycle = false;
  // The tightest downtime budget among workloads that hard-depend on it: its
  // data cannot be down longer than they can.
  std::optional<double> dependent_budget_minutes;
  std::string dependent_budget_from;
};

WorkloadPlan assess_workload(const Workload& w, const WorkloadContext& context,
                             const RuleSet& rules, const Catalog& catalog,
                             const PlanningDefaults& defaults, std::vector<std::string>& warnings);

}  // namespace ferry::assess
