#include "run/default_steps.h"

namespace ferry::run {

namespace {

PlanStep step(StepKind kind, const PlanDatabase& db) {
  PlanStep s;
  s.kind = kind;
  s.database = db.name;
  s.where = db.where;  // a defaulted step is reported where its database is
  s.from_strategy = true;
  return s;
}

void data_layer(const PlanDatabase& db, std::vector<PlanStep>& out) {
  out.push_back(step(StepKind::kClone, db));
  out.push_back(step(StepKind::kFollow, db));
  out.push_back(step(StepKind::kVerify, db));
  PlanStep approve = step(StepKind::kApprove, db);
  approve.database.clear();
  approve.message = db.name + " is copied, followed and verified: cut it over";
  out.push_back(approve);
  PlanStep cutover = step(StepKind::kCutover, db);
  cutover.route = db.route;
  cutover.hold_ms = db.route.empty() ? 0 : kDefaultHoldMs;
  out.push_back(cutover);
  out.push_back(step(StepKind::kVerify, db));
}

void watch(const PlanDatabase& db, std::vector<PlanStep>& out) {
  if (db.route.empty()) return;
  PlanStep w = step(StepKind::kWatch, db);
  w.database.clear();
  w.route = db.route;
  w.for_ms = kDefaultWatchMs;
  out.push_back(w);
}

}  // namespace

std::vector<PlanStep> default_steps(Strategy strategy, const std::vector<PlanDatabase>& databases) {
  std::vector<PlanStep> out;
  for (const PlanDatabase& db : databases) {
    const size_t first = out.size();
    if (strategy == Strategy::kLayerByLayer && !db.route.empty()) {
      PlanStep rollout = step(StepKind::kRollout, db);
      rollout.database.clear();
      rollout.route = db.route;
      out.push_back(rollout);
      watch(db, out);
    }
    data_layer(db, out);
    watch(db, out);
    for (size_t i = first; i < out.size(); ++i) {
      out[i].origin = "databases." + db.name + ": the strategy's step " + std::to_string(i + 1);
    }
  }
  return out;
}

}  // namespace ferry::run
