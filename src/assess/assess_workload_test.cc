#include "assess/assess_workload.h"

#include <gtest/gtest.h>

namespace ferry::assess {
namespace {

struct Fixture {
  RuleSet rules = *RuleSet::parse(std::string(builtin_rules_text()), "data/rules.yaml");
  Catalog catalog = *Catalog::parse(std::string(builtin_catalog_text()), "data/catalog.yaml");
  PlanningDefaults defaults;
  std::vector<std::string> warnings;

  WorkloadPlan assess(const Workload& w, const WorkloadContext& context = {}) {
    return assess_workload(w, context, rules, catalog, defaults, warnings);
  }
};

Workload with_store(const std::string& name, const std::string& engine, double gb) {
  Workload w;
  w.name = name;
  w.data.push_back({name + "-data", engine, gb, 0.0, std::nullopt, {}});
  return w;
}

TEST(AssessWorkload, TheStrategyDecidesWhatHappensToTheData) {
  Fixture f;
  Workload retired = with_store("old", "mysql", 15);
  retired.redundant_with = "new";
  EXPECT_EQ(f.assess(retired).data_plan[0].method, "archive");

  Workload retained = with_store("ledger", "postgresql", 650);
  retained.contractual_lock_in = true;
  const WorkloadPlan kept = f.assess(retained);
  EXPECT_EQ(kept.strategy, "retain");
  EXPECT_EQ(kept.data_plan[0].method, "stays");
  EXPECT_EQ(kept.data_plan[0].downtime_minutes, 0);
  EXPECT_TRUE(kept.checklist.empty()) << "nothing to prepare for a workload that stays";

  Workload bought = with_store("crm", "files", 45);
  bought.commercial_off_the_shelf = true;
  bought.saas_alternative = "Odoo";
  const WorkloadPlan replaced = f.assess(bought);
  EXPECT_EQ(replaced.strategy, "repurchase");
  EXPECT_EQ(replaced.data_plan[0].method, "export_import");
  EXPECT_NE(replaced.data_plan[0].why.find("import it into Odoo"), std::string::npos)
      << replaced.data_plan[0].why;
}

TEST(AssessWorkload, ADatabaseIsHeldToItsConsumersTighterBudget) {
  Fixture f;
  Workload db = with_store("web-db", "postgresql", 500);
  db.downtime_budget_minutes = 240;  // a 500 GB dump and restore (3.2 h) fits this
  EXPECT_EQ(f.assess(db).data_plan[0].method, "dump_restore");
  WorkloadContext context;
  context.dependent_budget_minutes = 30;
  context.dependent_budget_from = "web-api";
  const WorkloadPlan held = f.assess(db, context);
  EXPECT_EQ(held.data_plan[0].method, "logical_replication");
  EXPECT_NE(held.data_plan[0].why.find("the budget is web-api's 30 min"), std::string::npos)
      << held.data_plan[0].why;
}

TEST(AssessWorkload, MissingInputsAreAssumedListedAndLowerConfidence) {
  Fixture f;
  Workload sparse;
  sparse.name = "mystery";
  const WorkloadPlan p = f.assess(sparse);
  EXPECT_EQ(p.confidence, 1);
  EXPECT_GE(p.assumptions.size(), 10u);
  EXPECT_TRUE(std::any_of(p.risks.begin(), p.risks.end(),
                          [](const Risk& r) { return r.id == "little-known"; }));
  Workload known = sparse;
  known.kind = "service";
  known.criticality = "low";
  known.data_classification = "public";
  known.containerized = true;
  known.stateful = false;
  known.actively_developed = true;
  known.needs_rearchitecture = false;
  known.remaining_lifespan_years = 4;
  known.active_users = 50;
  known.downtime_budget_minutes = 60;
  EXPECT_EQ(f.assess(known).confidence, 5);
}

}  // namespace
}  // namespace ferry::assess
