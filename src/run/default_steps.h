// The steps a plan gets when it lists none: seed 004's two cutover
// processes, for each of the plan's databases in turn.
//
// all-at-once: copy and follow the data, verify it, wait for a person's
// approval, then cut the database over and move its route's traffic in the
// same moment (requests held meanwhile, the reverse stream started), verify
// again and watch the route.
//
// layer-by-layer: the application layer first, its traffic moved by the
// proxy's progressive rollout while the new application still uses the old
// database (across the link: seed 004 asks for the latency check), and
// watched; then the data layer, as above but with the traffic already moved.
#pragma once

#include <vector>

#include "run/plan.h"

namespace ferry::run {

// How long a cutover holds its route's requests by default, and how long
// the route is watched after it.
constexpr int64_t kDefaultHoldMs = 5'000;
constexpr int64_t kDefaultWatchMs = 30 * 60'000;

std::vector<PlanStep> default_steps(Strategy strategy, const std::vector<PlanDatabase>& databases);

}  // namespace ferry::run
