// The rules engine. Everything ferry decides about a workload that is a matter
// of judgement lives in data/rules.yaml (replaceable with --rules): the
// assumptions for missing inputs, the weighted votes that pick a 6R strategy,
// cutover style and traffic pattern, the risk register, the checklists, the
// rollback criteria, the data-method thresholds and the effort estimates.
// Code evaluates; data decides.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "assess/facts.h"
#include "core/diagnostics.h"
#include "core/error.h"

namespace ferry::assess {

enum class Op { kEquals, kNotEquals, kIn, kNotIn, kLess, kLessEq, kGreater, kGreaterEq, kPresent };

struct Condition {
  std::string fact;
  size_t fact_index = 0;  // into fact_registry()
  Op op = Op::kEquals;
  std::vector<FactValue> operands;  // one, except for in / not_in
  SourceLocation where;
};

// A `when:` block: every condition must hold. Empty holds always.
struct Conditions {
  std::vector<Condition> all;
};

struct FactRead {
  std::string_view fact;  // a registry name: lives as long as the program
  std::string value;      // formatted, "unknown" when absent
  bool assumed = false;
};

struct Rule {
  std::string id;
  Conditions when;
  std::map<std::string, double> votes;  // option -> weight
  std::string because;                  // may reference facts as {fact}
  SourceLocation where;
};

struct Decision {
  std::string name;                  // strategy, cutover, pattern
  std::vector<std::string> options;  // order breaks ties: earlier wins
  std::string fallback;              // when no rule votes
  std::vector<Rule> rules;
};

struct RiskRule {
  std::string id;
  Conditions when;
  std::string title;
  std::string likelihood;  // low | medium | high
  std::string impact;      // low | medium | high
  std::string severity;    // their product: low (1-2), medium (3-4), high (6-9)
  std::string mitigation;
  std::string source;
  std::string owner;  // a role; "" means the workload's owner
  // When these hold too, the plan already mitigates it (mitigated_by says how).
  std::optional<Conditions> mitigated_when;
  std::string mitigated_by;
};

// "high" for likelihood high x impact medium (3 x 2 = 6), and so on.
std::string risk_severity(const std::string& likelihood, const std::string& impact);
// Where a risk stands in a register read from the top: open ones by
// severity (high 0, medium 1, low 2), mitigated ones last (3).
int register_rank(bool mitigated, const std::string& severity);
// A data method that copies while the source serves (logical replication,
// CDC, file sync, ...), as opposed to one inside the cutover window.
bool is_online_method(const std::string& method);

struct ChecklistRule {
  std::string section;  // technical, data, operational
  std::string item;
  Conditions when;
};

struct RollbackRule {
  std::string metric;
  std::string threshold;
  std::string action;
  Conditions when;
};

struct SizeTier {
  std::optional<double> up_to_tb;  // none on the last tier
  std::string method;
};

// An engine whose own replication beats generic CDC for the online copy.
struct EngineMethod {
  std::string method;  // replica_sync, snapshot_reindex, key_copy
  std::string how;     // one line for the plan
  // When a service the workload uses has this constraint (catalog.h), the
  // fallback is used instead: ElastiCache lets no replica outside attach.
  std::string blocked_by;
  std::string fallback_method;
  std::string fallback_how;
};

struct DataMethodRules {
  std::vector<std::string> file_engines;
  std::vector<std::string> logical_replication_engines;
  std::vector<std::string> relational_engines;
  std::vector<SizeTier> by_size;
  double dump_restore_factor = 2.0;
  std::map<std::string, double> cutover_minutes;
  std::map<std::string, EngineMethod> engine_methods;  // by engine
  // Rebuilding a relational store's indexes after an online method's bulk
  // copy (a dump/restore's factor already counts them).
  double index_build_hours_per_tb = 0;
  // A transfer appliance, when one is recommended: days from order to data
  // loaded on the target; 0 when the rules give none (then only recommended).
  double appliance_days = 0;
};

struct GravityRules {
  double accesses_per_user_per_day = 20;
  double medium_at = 4;
  double high_at = 7;
  double extreme_at = 10;
};

// What a workload's build costs beyond its strategy's base: each thing that
// has to change adds days (see effort_scaling in data/rules.yaml).
struct EffortScaling {
  std::map<std::string, double> per_service;  // by complexity: low, medium, high, unknown
  double per_integration = 0;                 // each workload it depends on or that uses it
  double per_data_store = 0;
  double per_data_tb = 0;
};

struct RuleSet {
  std::map<std::string, FactValue> assumptions;
  std::vector<std::string> confidence_facts;
  std::vector<double> confidence_levels;  // ascending share thresholds, 4 of them
  double assumed_data_size_gb = 100;
  double proprietary_heavy_at = 2;
  // Catalog categories that only host a workload (runs_on_managed_service).
  std::vector<std::string> hosting_categories{"compute", "kubernetes", "containers", "serverless",
                                              "block-storage"};
  std::vector<Decision> decisions;  // evaluated in order; later ones may read earlier results
  std::vector<RiskRule> risks;
  std::vector<ChecklistRule> checklist;
  std::vector<RollbackRule> rollback;
  DataMethodRules data_methods;
  GravityRules gravity;
  std::map<std::string, double> effort_days;  // per strategy: the base of a build
  EffortScaling effort_scaling;               // none when the rules file has no such section

  // Validates everything (fact names and types, options, unknown keys) and
  // fails once with every problem.
  static Result<RuleSet> parse(const std::string& text, const std::string& file);
  const Decision* decision(const std::string& name) const;
};

// True when every condition holds; `reads` receives each fact consulted.
bool evaluate(const Conditions& when, const Facts& facts, std::vector<FactRead>* reads);

struct Vote {
  const Rule* rule;     // the RuleSet must outlive the results
  std::string because;  // with {fact} placeholders filled in
  std::vector<FactRead> inputs;
};

struct DecisionResult {
  std::string choice;
  std::map<std::string, double> scores;
  std::vector<Vote> fired;  // every rule that matched, in rule order
  bool fell_back = false;
};

DecisionResult decide(const Decision& decision, const Facts& facts);

// Replaces {fact} with the fact's formatted value.
std::string fill_placeholders(const std::string& text, const Facts& facts);

std::string_view builtin_rules_text();

}  // namespace ferry::assess
