#include "assess/rules.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

namespace ferry::assess {
namespace {

const RuleSet& builtin() {
  static const RuleSet rules = [] {
    auto parsed = RuleSet::parse(std::string(builtin_rules_text()), "data/rules.yaml");
    if (!parsed) {
      ADD_FAILURE() << parsed.error().to_string();
      return RuleSet{};
    }
    return *parsed;
  }();
  return rules;
}

// A VM-based, stateless, actively developed service with no cloud services
// and no data: every case below changes only what it is about.
Facts base_facts() {
  Facts f;
  f.set("kind", std::string("service"));
  f.set("criticality", std::string("medium"));
  f.set("data_classification", std::string("tier2"));
  f.set("containerized", false);
  f.set("stateful", false);
  f.set("actively_developed", true);
  f.set("needs_rearchitecture", false);
  f.set("remaining_lifespan_years", 3.0);
  f.set("active_users", 100.0);
  f.set("redundant_with", std::string());
  f.set("saas_alternative", std::string());
  f.set("contractual_lock_in", false);
  f.set("commercial_off_the_shelf", false);
  f.set("shared_infrastructure", false);
  f.set("downtime_budget_minutes", 60.0);
  f.set("cloud_service_count", 0.0);
  f.set("proprietary_service_count", 0.0);
  f.set("proprietary_level", std::string("none"));
  f.set("unmapped_service_count", 0.0);
  f.set("max_service_complexity", std::string("none"));
  f.set("runs_on_managed_service", false);
  f.set("managed_services", std::string());
  for (const char* constraint :
       {"no_replication_out", "hashes_not_exportable", "keys_not_exportable", "no_superuser"}) {
    f.set(constraint, false);
    f.set(std::string(constraint) + "_services", std::string());
  }
  f.set("data_store_count", 0.0);
  f.set("total_data_gb", 0.0);
  f.set("has_database", false);
  f.set("has_relational_database", false);
  f.set("has_file_store", false);
  f.set("needs_online_sync", false);
  f.set("appliance_recommended", false);
  f.set("appliance_planned", false);
  f.set("dependents", 0.0);
  f.set("dependencies", 0.0);
  f.set("in_cycle", false);
  f.set("over_downtime_budget", false);
  f.set("cannot_catch_up", false);
  f.set("confidence", 5.0);
  f.set("strategy", std::string("rehost"));
  f.set("moving", true);
  return f;
}

// What every rules file needs besides its decisions.
const std::string kRest = R"(
data_methods:
  by_size: [ { method: dump_restore } ]
  cutover_minutes: { logical_replication: 1, cdc: 5, physical_cdc: 5, incremental_sync: 15, replica_sync: 1, snapshot_reindex: 5, key_copy: 1 }
confidence: { facts: [kind], levels: [0.2, 0.4, 0.6, 0.8] }
effort_days: { retire: 1, retain: 0, repurchase: 1, refactor: 1, replatform: 1, rehost: 1 }
)";
// ...and besides a strategy decision under test.
const std::string kScaffold = R"(
  cutover: { options: [all_at_once], fallback: all_at_once }
  pattern: { options: [blue_green], fallback: blue_green })" +
                              kRest;

struct Case {
  const char* decision;
  std::vector<std::pair<const char*, FactValue>> facts;
  const char* expected;
  std::vector<const char*> must_fire;
};

std::vector<Case> decision_cases() {
  using S = std::string;
  return {
      {"strategy", {{"redundant_with", S("catalog")}}, "retire", {"retire-redundant"}},
      {"strategy",
       {{"active_users", 0.0}, {"actively_developed", false}},
       "retire",
       {"retire-unused"}},
      {"strategy", {{"contractual_lock_in", true}}, "retain", {"retain-contract"}},
      {"strategy",
       {{"proprietary_level", S("heavy")},
        {"proprietary_service_count", 3.0},
        {"remaining_lifespan_years", 1.0}},
       "retain",
       {"retain-deep-proprietary-short-life", "proprietary-heavy", "lifespan-short"}},
      {"strategy",
       {{"commercial_off_the_shelf", true}, {"saas_alternative", S("Odoo")}},
       "repurchase",
       {"repurchase-cots-with-alternative", "repurchase-cots"}},
      {"strategy", {{"commercial_off_the_shelf", true}}, "repurchase", {"repurchase-cots"}},
      {"strategy",
       {{"saas_alternative", S("Mattermost")}, {"remaining_lifespan_years", 1.0}},
       "repurchase",
       {"repurchase-alternative-end-of-life"}},
      {"strategy",
       {{"proprietary_level", S("heavy")},
        {"proprietary_service_count", 2.0},
        {"remaining_lifespan_years", 6.0},
        {"needs_rearchitecture", true}},
       "refactor",
       {"proprietary-heavy", "lifespan-long", "developed-rearchitect"}},
      {"strategy",
       {{"proprietary_level", S("light")}, {"proprietary_service_count", 1.0}},
       "replatform",
       {"proprietary-light", "vm-stateless", "lifespan-medium", "developed-keep-architecture"}},
      {"strategy", {{"containerized", true}}, "rehost", {"containerized", "proprietary-none"}},
      {"strategy", {{"stateful", true}}, "replatform", {"vm-stateful"}},
      {"strategy",
       {{"containerized", true},
        {"runs_on_managed_service", true},
        {"managed_services", S("Route 53 -> PowerDNS")}},
       "replatform",
       {"managed-service-replaced", "containerized"}},
      {"strategy",
       {{"actively_developed", false}, {"remaining_lifespan_years", 1.0}},
       "rehost",
       {"not-developed", "lifespan-short"}},
      {"strategy",
       {{"data_classification", S("tier1")}, {"remaining_lifespan_years", 8.0}},
       "replatform",
       {"tier1-data", "lifespan-long"}},

      {"cutover", {}, "all_at_once", {"simple"}},
      {"cutover",
       {{"has_database", true}, {"total_data_gb", 2000.0}},
       "layer_by_layer",
       {"big-data"}},
      {"cutover",
       {{"has_database", true}, {"total_data_gb", 100.0}, {"dependents", 3.0}},
       "layer_by_layer",
       {"many-consumers", "small-data"}},
      {"cutover",
       {{"has_database", true}, {"total_data_gb", 100.0}, {"criticality", S("critical")}},
       "all_at_once",
       {"critical-with-data", "small-data"}},

      {"pattern", {{"strategy", S("retire")}}, "archive_and_decommission", {"retire"}},
      {"pattern", {{"strategy", S("retain")}}, "stay", {"retain"}},
      {"pattern", {{"strategy", S("repurchase")}}, "replace_and_export", {"repurchase"}},
      {"pattern", {{"strategy", S("refactor")}}, "strangler_fig", {"refactor-strangler"}},
      {"pattern",
       {{"strategy", S("refactor")},
        {"criticality", S("critical")},
        {"data_classification", S("tier1")}},
       "parallel_run",
       {"critical-parallel-run", "refactor-strangler"}},
      {"pattern",
       {{"strategy", S("rehost")}, {"downtime_budget_minutes", 5.0}},
       "blue_green",
       {"zero-downtime-update"}},
      {"pattern",
       {{"strategy", S("rehost")}, {"criticality", S("high")}},
       "blue_green",
       {"important-update"}},
      {"pattern", {{"strategy", S("replatform")}}, "lift_and_shift", {"tolerant-infrastructure"}},
  };
}

TEST(BuiltinRules, EveryDecisionCaseChoosesAsExpectedAndFiresItsRules) {
  for (const auto& c : decision_cases()) {
    Facts facts = base_facts();
    for (const auto& [name, value] : c.facts) facts.set(name, value);
    const Decision* d = builtin().decision(c.decision);
    ASSERT_NE(d, nullptr) << c.decision;
    DecisionResult result = decide(*d, facts);
    EXPECT_EQ(result.choice, c.expected) << c.decision << " case expecting " << c.expected;
    for (const char* id : c.must_fire) {
      bool fired = std::any_of(result.fired.begin(), result.fired.end(),
                               [&](const Vote& v) { return v.rule->id == id; });
      EXPECT_TRUE(fired) << c.decision << ": rule " << id << " did not fire in the case expecting "
                         << c.expected;
    }
  }
}

TEST(BuiltinRules, EveryDecisionRuleHasACase) {
  std::set<std::string> covered;
  for (const auto& c : decision_cases()) {
    for (const char* id : c.must_fire) covered.insert(std::string(c.decision) + "/" + id);
  }
  for (const auto& d : builtin().decisions) {
    for (const auto& rule : d.rules) {
      EXPECT_TRUE(covered.count(d.name + "/" + rule.id))
          << "no test case fires " << d.name << "/" << rule.id;
    }
  }
}

TEST(BuiltinRules, TraceRecordsInputsAndAssumptions) {
  Facts facts = base_facts();
  facts.set("remaining_lifespan_years", 1.0, /*assumed=*/true);
  DecisionResult result = decide(*builtin().decision("strategy"), facts);
  auto it = std::find_if(result.fired.begin(), result.fired.end(),
                         [](const Vote& v) { return v.rule->id == "lifespan-short"; });
  ASSERT_NE(it, result.fired.end());
  ASSERT_EQ(it->inputs.size(), 1u);
  EXPECT_EQ(it->inputs[0].fact, "remaining_lifespan_years");
  EXPECT_EQ(it->inputs[0].value, "1");
  EXPECT_TRUE(it->inputs[0].assumed);
  EXPECT_EQ(it->because, "1 years of life left (< 2): rehost and minimise investment");
}

struct RiskCase {
  const char* id;
  std::vector<std::pair<const char*, FactValue>> facts;
};

TEST(BuiltinRules, EveryRiskFiresWhenItsConditionHoldsAndNotOnAPlainService) {
  using S = std::string;
  const std::vector<RiskCase> cases{
      {"database-downtime", {{"has_database", true}}},
      {"online-sync-required", {{"needs_online_sync", true}}},
      {"dns-propagation", {{"criticality", S("high")}}},
      {"dns-caching", {{"dependencies", 2.0}}},
      {"data-consistency", {{"stateful", true}}},
      {"data-consistency-db", {{"has_database", true}}},
      {"sequences", {{"has_relational_database", true}}},
      {"charset-timezone", {{"has_relational_database", true}}},
      {"certificates", {}},
      {"webhooks", {{"cloud_service_count", 1.0}}},
      {"shared-credentials", {{"data_store_count", 1.0}}},
      {"proprietary-rewrite", {{"proprietary_level", S("heavy")}}},
      {"unmapped-services", {{"unmapped_service_count", 1.0}}},
      {"cyclic-dependency", {{"in_cycle", true}}},
      {"transfer-appliance", {{"appliance_planned", true}}},
      {"sensitive-data-in-transit",
       {{"data_classification", S("tier1")}, {"data_store_count", 1.0}}},
      {"over-budget", {{"over_downtime_budget", true}}},
      {"never-catches-up", {{"cannot_catch_up", true}}},
      {"little-known", {{"confidence", 2.0}}},
      {"retained-exposure", {{"strategy", S("retain")}}},
      {"retirement-archive", {{"strategy", S("retire")}, {"data_store_count", 1.0}}},
      {"replication-out-forbidden", {{"no_replication_out", true}, {"has_database", true}}},
      {"password-hashes-not-exportable", {{"hashes_not_exportable", true}}},
      {"keys-not-exportable", {{"keys_not_exportable", true}}},
      {"no-superuser", {{"no_superuser", true}, {"has_database", true}}},
  };
  // Workloads that stay behind carry no migration risks.
  Facts staying = base_facts();
  staying.set("moving", false);
  staying.set("has_database", true);
  staying.set("criticality", std::string("critical"));
  for (const char* id : {"database-downtime", "dns-propagation", "certificates"}) {
    auto risk = std::find_if(builtin().risks.begin(), builtin().risks.end(),
                             [&](const RiskRule& r) { return r.id == id; });
    ASSERT_NE(risk, builtin().risks.end());
    EXPECT_FALSE(evaluate(risk->when, staying, nullptr))
        << id << " fires on a workload that does not move";
  }
  std::set<std::string> covered;
  const Facts plain = base_facts();
  for (const auto& c : cases) {
    covered.insert(c.id);
    Facts facts = base_facts();
    for (const auto& [name, value] : c.facts) facts.set(name, value);
    auto risk = std::find_if(builtin().risks.begin(), builtin().risks.end(),
                             [&](const RiskRule& r) { return r.id == c.id; });
    ASSERT_NE(risk, builtin().risks.end()) << c.id;
    EXPECT_TRUE(evaluate(risk->when, facts, nullptr)) << c.id;
    if (!c.facts.empty()) {
      EXPECT_FALSE(evaluate(risk->when, plain, nullptr)) << c.id << " fires on a plain service";
    }
  }
  for (const auto& r : builtin().risks)
    EXPECT_TRUE(covered.count(r.id)) << "no test case for risk " << r.id;
}

TEST(Rules, TiesGoToTheOptionListedFirstAndNoVotesFallBack) {
  auto rules = RuleSet::parse(R"(
decisions:
  strategy:
    options: [refactor, rehost]
    fallback: rehost
    rules:
      - { id: a, when: { containerized: true }, vote: { rehost: 5 }, because: "a" }
      - { id: b, when: { containerized: true }, vote: { refactor: 5 }, because: "b" })" +
                                  kScaffold,
                              "t.yaml");
  ASSERT_TRUE(rules) << rules.error().to_string();
  Facts f;
  f.set("containerized", true);
  EXPECT_EQ(decide(*rules->decision("strategy"), f).choice, "refactor");
  f.set("containerized", false);
  DecisionResult none = decide(*rules->decision("strategy"), f);
  EXPECT_EQ(none.choice, "rehost");
  EXPECT_TRUE(none.fell_back);
}

TEST(Rules, OperatorsCompareByType) {
  auto rules = RuleSet::parse(R"(
decisions:
  strategy:
    options: [rehost]
    fallback: rehost
    rules:
      - { id: n, when: { active_users: { gte: 10, lt: 20 } }, vote: { rehost: 1 }, because: x }
      - { id: i, when: { kind: [batch, cache] }, vote: { rehost: 1 }, because: x }
      - { id: not, when: { kind: { not: service } }, vote: { rehost: 1 }, because: x }
      - { id: p, when: { redundant_with: { present: false } }, vote: { rehost: 1 }, because: x })" +
                                  kScaffold,
                              "ops.yaml");
  ASSERT_TRUE(rules) << rules.error().to_string();
  auto fired = [&](Facts f) {
    std::set<std::string> ids;
    for (const auto& v : decide(*rules->decision("strategy"), f).fired) ids.insert(v.rule->id);
    return ids;
  };
  Facts f;
  f.set("active_users", 10.0);
  f.set("kind", std::string("Batch"));
  f.set("redundant_with", std::string());
  EXPECT_EQ(fired(f), (std::set<std::string>{"n", "i", "not", "p"}));
  f.set("active_users", 20.0);
  f.set("kind", std::string("service"));
  f.set("redundant_with", std::string("x"));
  EXPECT_TRUE(fired(f).empty());
}

TEST(Rules, EveryProblemIsReportedWithItsLine) {
  auto rules = RuleSet::parse(R"(assumptions:
  contanerized: false
decisions:
  strategy:
    options: [rehost, refactor]
    fallback: rehost
    rules:
      - id: a
        when: { criticality: { lt: 2 }, containerized: { bigger: 1 } }
        vote: { rehots: 1 }
        because: "about {lifespan}"
risks:
  - { id: r, title: t, severity: severe, mitigation: m }
data_methods: { by_size: [ { method: teleport } ] }
unknown_section: 1
)",
                              "bad.yaml");
  ASSERT_FALSE(rules);
  const std::string m = rules.error().message;
  EXPECT_EQ(rules.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(m.find("bad.yaml:2:3: error: assumptions: unknown fact 'contanerized' (did you mean "
                   "'containerized'?)"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("bad.yaml:9:"), std::string::npos) << m;
  EXPECT_NE(m.find("'lt' compares numbers, but criticality is text"), std::string::npos) << m;
  EXPECT_NE(m.find("unknown operator 'bigger'"), std::string::npos) << m;
  EXPECT_NE(m.find("unknown key 'rehots' (did you mean 'rehost'?)"), std::string::npos) << m;
  EXPECT_NE(m.find("placeholder '{lifespan}' names no fact"), std::string::npos) << m;
  EXPECT_NE(m.find("risks[0].severity: unknown value 'severe'"), std::string::npos) << m;
  EXPECT_NE(m.find("unknown value 'teleport'"), std::string::npos) << m;
  EXPECT_NE(m.find("top level: unknown key 'unknown_section'"), std::string::npos) << m;
}

TEST(Rules, DecisionNamesAreCheckedAndStrategyComesFirst) {
  auto typo = RuleSet::parse(R"(decisions:
  pattern: { options: [blue_green], fallback: blue_green }
  strategy: { options: [rehost], fallback: rehost }
  cutovr: { options: [all_at_once], fallback: all_at_once }
data_methods:
  by_size: [ { method: dump_restore } ]
  cutover_minutes: { logical_replication: 1, cdc: 5, physical_cdc: 5 }
)",
                             "d.yaml");
  ASSERT_FALSE(typo);
  const std::string m = typo.error().message;
  EXPECT_NE(
      m.find("d.yaml:4:3: error: decisions: unknown decision 'cutovr' (did you mean 'cutover'?)"),
      std::string::npos)
      << m;
  EXPECT_NE(m.find("decisions: 'cutover' is missing"), std::string::npos) << m;
  EXPECT_NE(m.find("missing required field 'incremental_sync'"), std::string::npos) << m;

  auto reordered = RuleSet::parse(R"(decisions:
  pattern: { options: [blue_green], fallback: blue_green }
  cutover: { options: [all_at_once], fallback: all_at_once }
  strategy:
    options: [rehost]
    fallback: rehost
    rules: [ { id: loop, when: { strategy: rehost }, vote: { rehost: 1 }, because: x } ])" +
                                      kRest,
                                  "r.yaml");
  ASSERT_FALSE(reordered);
  EXPECT_NE(reordered.error().message.find(
                "r.yaml:7:34: error: decisions.strategy: a strategy rule cannot read"),
            std::string::npos)
      << reordered.error().message;
  auto fine = RuleSet::parse(R"(decisions:
  pattern: { options: [blue_green], fallback: blue_green }
  cutover: { options: [all_at_once], fallback: all_at_once }
  strategy: { options: [rehost], fallback: rehost })" +
                                 kRest,
                             "f.yaml");
  ASSERT_TRUE(fine) << fine.error().to_string();
  EXPECT_EQ(fine->decisions.front().name, "strategy");
}

TEST(Rules, LoaderRefusesRulesThatWouldSilentlyChangeThePlan) {
  auto rules = RuleSet::parse(R"(assumptions:
  kind: servce
  redundant_with: nobody
  downtime_budget_minutes: -5
decisions:
  strategy: { options: [rehost, rehost, relocate], fallback: rehost }
  cutover: { options: [all_at_once], fallback: all_at_once }
  pattern: { options: [blue_green], fallback: blue_green }
data_methods:
  by_size: [ { up_to_tb: 10, method: logical_replication }, { up_to_tb: 1, method: dump_restore }, { method: cdc } ]
  cutover_minutes: { logical_replication: 1, cdc: 5, physical_cdc: 5, incremental_sync: 15, replica_sync: 1, snapshot_reindex: 5, key_copy: 1 }
effort_days: { retire: 1 }
)",
                              "s.yaml");
  ASSERT_FALSE(rules);
  const std::string m = rules.error().message;
  for (const char* needle :
       {"assumptions.kind: 'servce' is not one of", "assumptions.redundant_with: must be empty",
        "assumptions.downtime_budget_minutes: must not be negative", "'rehost' is listed twice",
        "'relocate' is not one of the 6 Rs", "tiers must grow",
        "missing required field 'confidence'", "effort_days: missing required field 'rehost'"}) {
    EXPECT_NE(m.find(needle), std::string::npos) << needle << "\nin:\n" << m;
  }
}

// Each section of a rules file reports its own problems with file:line:column
// and the field's path, whatever the other sections hold.
TEST(Rules, EverySectionNamesFileLineAndTheField) {
  const std::vector<std::pair<std::string, std::string>> valid{
      {"decisions", R"(decisions:
  strategy: { options: [rehost], fallback: rehost }
  cutover: { options: [all_at_once], fallback: all_at_once }
  pattern: { options: [blue_green], fallback: blue_green })"},
      {"data_methods", R"(data_methods:
  by_size: [ { method: dump_restore } ]
  cutover_minutes: { logical_replication: 1, cdc: 5, physical_cdc: 5, incremental_sync: 15, replica_sync: 1, snapshot_reindex: 5, key_copy: 1 })"},
      {"confidence", "confidence: { facts: [kind], levels: [0.2, 0.4, 0.6, 0.8] }"},
      {"effort_days", "effort_days: { rehost: 1 }"},
  };
  struct SectionCase {
    const char* section;
    const char* text;  // replaces the valid section, from line 1
    std::vector<const char*> expected;
  };
  const std::vector<SectionCase> cases{
      {"assumptions",
       "assumptions:\n  active_users: many",
       {"s.yaml:2:17: error: assumptions.active_users: expected a number"}},
      {"confidence",
       "confidence:\n  facts: [kind, lifespan]\n  levels: [0.5, 0.2, 0.6, 0.8]",
       {"s.yaml:2:17: error: confidence.facts: unknown fact 'lifespan'",
        "s.yaml:3:11: error: confidence.levels: expected four ascending shares"}},
      {"decisions",
       "decisions:\n  strategy: { options: [rehost], fallback: rehots }",
       {"s.yaml:2:44: error: decisions.strategy.fallback: unknown value 'rehots' (did you mean "
        "'rehost'?)",
        "s.yaml:2:3: error: decisions: 'cutover' is missing"}},
      {"risks",
       "risks:\n  - { id: r, title: t, severity: high }",
       {"s.yaml:2:5: error: risks[0]: missing required field 'mitigation'"}},
      {"checklist",
       "checklist:\n  technicle: []\n  data:\n    - { when: { has_database: true } }",
       {"s.yaml:2:3: error: checklist: unknown section 'technicle' (did you mean 'technical'?)",
        "s.yaml:4:7: error: checklist.data[0]: missing required field 'item'"}},
      {"rollback_criteria",
       "rollback_criteria:\n  - { metric: m, threshold: t, action: a, when: { stateful: maybe } }",
       {"s.yaml:2:61: error: rollback_criteria[0].when.stateful.equals: expected true or false"}},
      {"data_methods",
       "data_methods:\n  by_size: [ { method: dump_restore } ]\n  engine_methods:\n    redis: { "
       "method: teleport, how: x }",
       {"s.yaml:2:3: error: data_methods: missing required field 'cutover_minutes'",
        "s.yaml:4:22: error: data_methods.engine_methods.redis.method: unknown value 'teleport'"}},
      {"gravity",
       "gravity: { medium_at: 400 }",
       {"s.yaml:1:23: error: gravity.medium_at: 400 is out of range [0, 100]"}},
      {"effort_days",
       "effort_days: { rehost: -1, relocate: 3 }",
       {"s.yaml:1:24: error: effort_days.rehost: -1 is out of range [0, 100000]",
        "s.yaml:1:28: error: effort_days: unknown key 'relocate'"}},
  };
  for (const auto& c : cases) {
    std::string text = std::string(c.text) + "\n";
    for (const auto& [section, body] : valid) {
      if (section != c.section) text += body + "\n";
    }
    auto rules = RuleSet::parse(text, "s.yaml");
    ASSERT_FALSE(rules) << c.section;
    for (const char* needle : c.expected) {
      EXPECT_NE(rules.error().message.find(needle), std::string::npos)
          << c.section << ": " << needle << "\nin:\n"
          << rules.error().message;
    }
  }
}

TEST(Rules, FillPlaceholders) {
  Facts f;
  f.set("dependents", 4.0);
  f.set("kind", std::string("batch"));
  EXPECT_EQ(fill_placeholders("{dependents} users of this {kind}, {missing}", f),
            "4 users of this batch, unknown");
}

}  // namespace
}  // namespace ferry::assess

namespace ferry::assess {
namespace {

TEST(Docs, EveryFactIsDocumentedInTheAssessGuide) {
  std::ifstream in(std::string(FERRY_SOURCE_DIR) + "/docs/assess.md");
  std::stringstream guide;
  guide << in.rdbuf();
  for (const auto& fact : fact_registry()) {
    EXPECT_NE(guide.str().find(std::string("| `") + fact.name + "` |"), std::string::npos)
        << "docs/assess.md does not document the fact " << fact.name;
  }
}

TEST(Rules, RiskSeverityIsLikelihoodTimesImpactAndPlansMitigateSome) {
  EXPECT_EQ(risk_severity("high", "high"), "high");
  EXPECT_EQ(risk_severity("high", "medium"), "high");      // 3 x 2 = 6
  EXPECT_EQ(risk_severity("medium", "medium"), "medium");  // 4
  EXPECT_EQ(risk_severity("high", "low"), "medium");       // 3
  EXPECT_EQ(risk_severity("low", "medium"), "low");        // 2
  // Decisions only so that the risks have a rules file to live in.
  const std::string decisions = R"(
decisions:
  strategy: { options: [rehost], fallback: rehost }
  cutover: { options: [all_at_once], fallback: all_at_once }
  pattern: { options: [stay], fallback: stay }
)";
  auto rules = RuleSet::parse(decisions + R"(risks:
  - { id: old-style, when: { moving: true }, title: T, severity: high, mitigation: M }
  - id: slow-dump
    when: { has_database: true }
    title: Dump too slow
    likelihood: high
    impact: medium
    owner: DBA
    mitigation: Copy online
    mitigated_when: { over_downtime_budget: false }
    mitigated_by: "online copy fits {downtime_budget_minutes} min"
)" + kRest,
                              "r.yaml");
  ASSERT_TRUE(rules) << rules.error().message;
  const RiskRule& old_style = rules->risks[0];
  EXPECT_EQ(old_style.likelihood, "high");
  EXPECT_EQ(old_style.severity, "high");
  const RiskRule& slow = rules->risks[1];
  EXPECT_EQ(slow.severity, "high");
  EXPECT_EQ(slow.owner, "DBA");
  ASSERT_TRUE(slow.mitigated_when);
  Facts fits = base_facts();
  EXPECT_TRUE(evaluate(*slow.mitigated_when, fits, nullptr));
  fits.set("over_downtime_budget", true);
  EXPECT_FALSE(evaluate(*slow.mitigated_when, fits, nullptr));
  EXPECT_EQ(fill_placeholders(slow.mitigated_by, base_facts()), "online copy fits 60 min");

  auto bad = RuleSet::parse(decisions + R"(risks:
  - { id: bad, when: {}, title: T, likelihood: often, impact: high, mitigation: M, mitigated_by: x }
)" + kRest,
                            "r.yaml");
  ASSERT_FALSE(bad);
  const std::string m = bad.error().message;
  EXPECT_NE(m.find("risks[0].likelihood: unknown value 'often'"), std::string::npos) << m;
  EXPECT_NE(m.find("risks[0].mitigated_by: needs mitigated_when"), std::string::npos) << m;
}

}  // namespace
}  // namespace ferry::assess
