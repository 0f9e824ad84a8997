// What changed between two plans: for a what-if (--bandwidth, --start,
// --team-capacity against the inventory's own settings) and for
// `ferry assess diff OLD NEW` (a changed inventory, reviewed in CI).
#pragma once

#include <string>
#include <vector>

#include "assess/plan.h"

namespace ferry::assess {

// Plan-wide changes first (dates, waves, critical path, data), then each
// workload in the newer plan's order, then removed workloads, then warnings.
std::vector<PlanChange> compare_plans(const Plan& before, const Plan& after);

// "catalog-db: wave 6 -> 7", "plan: end 2027-06-22 -> 2027-05-11".
std::string change_text(const PlanChange& change);

}  // namespace ferry::assess
