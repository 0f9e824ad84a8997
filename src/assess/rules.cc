#include "assess/rules.h"

#include <fmt/format.h>

#include <algorithm>

#include "assess/catalog.h"
#include "assess/inventory.h"
#include "core/text.h"
#include "core/yaml_reader.h"

extern const std::string_view ferry_builtin_rules;

namespace ferry::assess {

std::string_view builtin_rules_text() { return ferry_builtin_rules; }

namespace {

const std::vector<std::string> kOpNames{"equals", "not", "in",  "not_in", "lt",
                                        "lte",    "gt",  "gte", "present"};
const std::vector<std::string> kSeverities{"low", "medium", "high"};
const std::vector<std::string> kSections{"technical", "data", "operational"};
const std::vector<std::string> kDecisions{"strategy", "cutover", "pattern"};
const std::vector<std::string> kStrategies{"rehost",     "replatform", "refactor",
                                           "repurchase", "retire",     "retain"};
const std::vector<std::string> kOnlineMethods{
    "logical_replication", "cdc",     "physical_cdc", "incremental_sync", "replica_sync",
    "snapshot_reindex",    "key_copy"};
const std::vector<std::string> kEngineMethods{"replica_sync", "snapshot_reindex", "key_copy"};
const std::vector<std::string> kMethods{"dump_restore", "logical_replication", "cdc",
                                        "physical_cdc", "incremental_sync"};

// Every fact's name, for "did you mean" hints; built once.
const std::vector<std::string>& fact_names() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> out;
    for (const auto& f : fact_registry()) out.emplace_back(f.name);
    return out;
  }();
  return kNames;
}

const char* type_name(FactType t) {
  switch (t) {
    case FactType::kBool:
      return "true or false";
    case FactType::kNumber:
      return "a number";
    case FactType::kText:
      return "text";
  }
  return "?";
}

std::optional<FactValue> read_operand(const YamlNode& node, FactType type) {
  if (!node.is_scalar()) return std::nullopt;
  switch (type) {
    case FactType::kBool:
      if (auto b = node.as_bool()) return FactValue(*b);
      return std::nullopt;
    case FactType::kNumber:
      if (auto d = node.as_number()) return FactValue(*d);
      return std::nullopt;
    case FactType::kText:
      return FactValue(to_lower(node.scalar()));
  }
  return std::nullopt;
}

// True when the node is present and of the expected kind; a present node of
// another kind is reported once.
bool is_kind_or_report(const YamlNode* node, YamlNode::Kind kind, const std::string& file,
                       const std::string& path, Diagnostics& diags) {
  if (!node || node->is_null()) return false;
  if (node->kind() == kind) return true;
  diags.error(
      location_of(*node, file),
      path + (kind == YamlNode::Kind::kMapping ? ": expected a mapping" : ": expected a list"));
  return false;
}

bool is_mapping_or_report(const YamlNode* node, const std::string& file, const std::string& path,
                          Diagnostics& diags) {
  return is_kind_or_report(node, YamlNode::Kind::kMapping, file, path, diags);
}

bool is_sequence_or_report(const YamlNode* node, const std::string& file, const std::string& path,
                           Diagnostics& diags) {
  return is_kind_or_report(node, YamlNode::Kind::kSequence, file, path, diags);
}

Conditions read_conditions(const YamlNode* node, const std::string& file, const std::string& path,
                           Diagnostics& diags) {
  Conditions out;
  if (!is_mapping_or_report(node, file, path, diags)) return out;
  const std::vector<std::string>& names = fact_names();
  for (size_t e = 0; e < node->size(); ++e) {
    const std::string fact = node->key(e).scalar();
    const SourceLocation where = location_of(node->key(e), file);
    const FactInfo* info = find_fact(fact);
    if (!info) {
      diags.error(where, fmt::format("{}: unknown fact '{}'{}", path, fact,
                                     did_you_mean_hint(fact, names)));
      continue;
    }
    auto add = [&](Op op, const YamlNode& operand, const std::string& op_name) {
      Condition c{fact, fact_index(*info), op, {}, where};
      const FactType type = op == Op::kPresent ? FactType::kBool : info->type;
      const bool is_list_op = op == Op::kIn || op == Op::kNotIn;
      if (is_list_op != operand.is_sequence()) {
        diags.error(location_of(operand, file),
                    fmt::format("{}.{}.{}: expected {}", path, fact, op_name,
                                is_list_op ? "a list" : "a single value"));
        return;
      }
      if ((op == Op::kLess || op == Op::kLessEq || op == Op::kGreater || op == Op::kGreaterEq) &&
          info->type != FactType::kNumber) {
        diags.error(location_of(operand, file),
                    fmt::format("{}.{}: '{}' compares numbers, but {} is {}", path, fact, op_name,
                                fact, type_name(info->type)));
        return;
      }
      std::vector<const YamlNode*> items;
      if (is_list_op) {
        for (size_t i = 0; i < operand.size(); ++i) items.push_back(&operand[i]);
      } else {
        items.push_back(&operand);
      }
      for (const YamlNode* item : items) {
        auto value = read_operand(*item, type);
        if (!value) {
          diags.error(location_of(*item, file),
                      fmt::format("{}.{}.{}: expected {}", path, fact, op_name, type_name(type)));
          return;
        }
        c.operands.push_back(std::move(*value));
      }
      out.all.push_back(std::move(c));
    };
    const YamlNode& spec = node->value(e);
    if (!spec.is_mapping()) {
      add(spec.is_sequence() ? Op::kIn : Op::kEquals, spec, spec.is_sequence() ? "in" : "equals");
      continue;
    }
    for (size_t o = 0; o < spec.size(); ++o) {
      const std::string op_name = spec.key(o).scalar();
      auto found = std::find(kOpNames.begin(), kOpNames.end(), op_name);
      if (found == kOpNames.end()) {
        diags.error(
            location_of(spec.key(o), file),
            fmt::format("{}.{}: unknown operator '{}'{}; expected one of: {}", path, fact, op_name,
                        did_you_mean_hint(op_name, kOpNames), join(kOpNames, ", ")));
        continue;
      }
      add(static_cast<Op>(found - kOpNames.begin()), spec.value(o), op_name);
    }
  }
  return out;
}

void check_placeholders(const std::string& text, const SourceLocation& where,
                        const std::string& path, Diagnostics& diags) {
  const std::vector<std::string>& names = fact_names();
  for (size_t open = text.find('{'); open != std::string::npos; open = text.find('{', open + 1)) {
    size_t close = text.find('}', open);
    if (close == std::string::npos) break;
    std::string fact = text.substr(open + 1, close - open - 1);
    if (!find_fact(fact)) {
      diags.error(where, fmt::format("{}: placeholder '{{{}}}' names no fact{}", path, fact,
                                     did_you_mean_hint(fact, names)));
    }
  }
}

// One decision: its options (order breaks ties), the fallback and the voting rules.
Decision read_decision(const std::string& name, const YamlNode& node, const std::string& file,
                       Diagnostics& diags) {
  Decision d;
  d.name = name;
  const std::string path = "decisions." + name;
  MappingReader r(node, file, path, diags);
  r.require("options");
  r.require("fallback");
  d.options = r.text_list("options").value_or(std::vector<std::string>{});
  for (size_t i = 0; i < d.options.size(); ++i) {
    const std::string& option = d.options[i];
    if (std::find(d.options.begin(), d.options.begin() + i, option) != d.options.begin() + i) {
      diags.error(r.element_location("options", i),
                  fmt::format("{}.options: '{}' is listed twice", path, option));
    }
    // The planner acts on the 6 Rs by name (retire and retain do not move).
    if (name == "strategy" &&
        std::find(kStrategies.begin(), kStrategies.end(), option) == kStrategies.end()) {
      diags.error(
          r.element_location("options", i),
          fmt::format("{}.options: '{}' is not one of the 6 Rs{}; expected {}", path, option,
                      did_you_mean_hint(option, kStrategies), join(kStrategies, ", ")));
    }
  }
  d.fallback = r.choice("fallback", d.options).value_or("");
  const YamlNode* rules = r.node("rules");
  r.finish();
  if (!is_sequence_or_report(rules, file, path + ".rules", diags)) return d;
  for (size_t i = 0; i < rules->size(); ++i) {
    const std::string rule_path = fmt::format("{}.rules[{}]", path, i);
    MappingReader rr((*rules)[i], file, rule_path, diags);
    Rule rule;
    rule.where = rr.where();
    rr.require("id");
    rr.require("vote");
    rr.require("because");
    rule.id = rr.text("id").value_or("");
    rule.because = rr.text("because").value_or("");
    check_placeholders(rule.because, rr.where("because"), rule_path, diags);
    rule.when = read_conditions(rr.node("when"), file, rule_path + ".when", diags);
    if (const YamlNode* votes = rr.node("vote"); votes && votes->is_mapping()) {
      MappingReader vr(*votes, file, rule_path + ".vote", diags);
      for (const auto& option : d.options) {
        if (auto w = vr.number(option, -1000, 1000)) rule.votes[option] = *w;
      }
      vr.finish();
    } else if (votes && !votes->is_null()) {
      diags.error(location_of(*votes, file), rule_path + ".vote: expected option: weight pairs");
    }
    rr.finish();
    d.rules.push_back(std::move(rule));
  }
  return d;
}

// data_methods: which engines are files, relational or logically replicated,
// the method for each size, the cutover time of each online method and the
// engines with replication of their own.
void read_data_methods(const YamlNode& node, const std::string& file, DataMethodRules& m,
                       Diagnostics& diags) {
  MappingReader r(node, file, "data_methods", diags);
  m.file_engines = r.text_list("file_engines").value_or(std::vector<std::string>{});
  m.logical_replication_engines =
      r.text_list("logical_replication_engines").value_or(std::vector<std::string>{});
  m.relational_engines = r.text_list("relational_engines").value_or(std::vector<std::string>{});
  if (auto f = r.number("dump_restore_factor", 1, 100)) m.dump_restore_factor = *f;
  if (auto f = r.number("index_build_hours_per_tb", 0, 1000)) m.index_build_hours_per_tb = *f;
  if (auto f = r.number("appliance_days", 0.5, 365)) m.appliance_days = *f;
  r.require("by_size");
  r.require("cutover_minutes");
  const YamlNode* tiers = r.node("by_size");
  const YamlNode* cutover = r.node("cutover_minutes");
  const YamlNode* engines = r.node("engine_methods");
  r.finish();
  if (is_mapping_or_report(engines, file, "data_methods.engine_methods", diags)) {
    for (size_t e = 0; e < engines->size(); ++e) {
      const std::string engine = engines->key(e).scalar();
      MappingReader em(engines->value(e), file, "data_methods.engine_methods." + engine, diags);
      em.require("method");
      em.require("how");
      EngineMethod method;
      method.method = em.choice("method", kEngineMethods).value_or("");
      method.how = em.text("how").value_or("");
      // unless: { constraint, method, how }: what to do when the source
      // platform forbids the engine's own replication.
      if (const YamlNode* unless = em.node("unless")) {
        const std::string where = "data_methods.engine_methods." + engine + ".unless";
        MappingReader u(*unless, file, where, diags);
        u.require("constraint");
        u.require("method");
        u.require("how");
        method.blocked_by = u.choice("constraint", kConstraints).value_or("");
        method.fallback_method = u.choice("method", kEngineMethods).value_or("");
        method.fallback_how = u.text("how").value_or("");
        u.finish();
      }
      em.finish();
      m.engine_methods[engine] = std::move(method);
    }
  }
  if (is_sequence_or_report(tiers, file, "data_methods.by_size", diags)) {
    for (size_t i = 0; i < tiers->size(); ++i) {
      MappingReader t((*tiers)[i], file, fmt::format("data_methods.by_size[{}]", i), diags);
      SizeTier tier;
      tier.up_to_tb = t.number("up_to_tb", 0, 1e9);
      t.require("method");
      tier.method = t.choice("method", kMethods).value_or("");
      t.finish();
      if (!tier.up_to_tb && i + 1 != tiers->size()) {
        diags.error(t.where(), "data_methods.by_size: only the last tier may omit up_to_tb");
      }
      if (tier.up_to_tb && !m.by_size.empty() && m.by_size.back().up_to_tb &&
          *tier.up_to_tb <= *m.by_size.back().up_to_tb) {
        diags.error(t.where(),
                    "data_methods.by_size: tiers must grow: each up_to_tb above the one before");
      }
      m.by_size.push_back(tier);
    }
  }
  if (cutover) {
    MappingReader c(*cutover, file, "data_methods.cutover_minutes", diags);
    // key_copy came later: rules files written before it need no figure for
    // it unless an engine method falls back to it.
    bool key_copy_used = false;
    for (const auto& [engine, em] : m.engine_methods)
      key_copy_used = key_copy_used || em.method == "key_copy" || em.fallback_method == "key_copy";
    for (const auto& method : kOnlineMethods) {
      if (method != "key_copy" || key_copy_used) c.require(method);
      if (auto v = c.number(method, 0, 1e6)) m.cutover_minutes[method] = *v;
    }
    c.finish();
  }
}

// assumptions: fact -> the value used when the inventory does not say.
void read_assumptions(const YamlNode* node, const std::string& file,
                      std::map<std::string, FactValue>& assumptions, Diagnostics& diags) {
  if (!is_mapping_or_report(node, file, "assumptions", diags)) return;
  for (size_t e = 0; e < node->size(); ++e) {
    const std::string fact = node->key(e).scalar();
    const FactInfo* info = find_fact(fact);
    if (!info) {
      diags.error(location_of(node->key(e), file),
                  fmt::format("assumptions: unknown fact '{}'{}", fact,
                              did_you_mean_hint(fact, fact_names())));
      continue;
    }
    auto v = read_operand(node->value(e), info->type);
    if (!v) {
      diags.error(location_of(node->value(e), file),
                  fmt::format("assumptions.{}: expected {}", fact, type_name(info->type)));
      continue;
    }
    // An assumption must be a value an inventory could have given.
    const SourceLocation at = location_of(node->value(e), file);
    if (const auto* word = std::get_if<std::string>(&*v)) {
      const std::vector<std::string>* allowed = fact == "kind"                  ? &kKinds
                                                : fact == "criticality"         ? &kCriticalities
                                                : fact == "data_classification" ? &kClassifications
                                                                                : nullptr;
      if (allowed && std::find(allowed->begin(), allowed->end(), *word) == allowed->end()) {
        diags.error(at, fmt::format("assumptions.{}: '{}' is not one of: {}", fact, *word,
                                    join(*allowed, ", ")));
      }
      if (fact == "redundant_with" && !word->empty()) {
        diags.error(at,
                    "assumptions.redundant_with: must be empty; ferry cannot assume which "
                    "workload replaces another");
      }
    } else if (const auto* number = std::get_if<double>(&*v); number && *number < 0) {
      diags.error(at, fmt::format("assumptions.{}: must not be negative", fact));
    }
    assumptions[fact] = *v;
  }
}

// confidence: the inputs that count towards it and the shares that raise it.
void read_confidence(const YamlNode& node, const std::string& file, RuleSet& rs,
                     Diagnostics& diags) {
  MappingReader c(node, file, "confidence", diags);
  rs.confidence_facts = c.text_list("facts").value_or(std::vector<std::string>{});
  for (size_t i = 0; i < rs.confidence_facts.size(); ++i) {
    const auto& fact = rs.confidence_facts[i];
    if (!find_fact(fact) && fact != "data_sizes") {
      diags.error(c.element_location("facts", i),
                  fmt::format("confidence.facts: unknown fact '{}'{}", fact,
                              did_you_mean_hint(fact, fact_names())));
    }
  }
  if (const YamlNode* levels = c.node("levels"); levels && levels->is_sequence()) {
    for (size_t i = 0; i < levels->size(); ++i)
      rs.confidence_levels.push_back((*levels)[i].as_number().value_or(-1));
  }
  if (rs.confidence_levels.size() != 4 ||
      !std::is_sorted(rs.confidence_levels.begin(), rs.confidence_levels.end()) ||
      rs.confidence_levels.front() < 0) {
    diags.error(c.where("levels"),
                "confidence.levels: expected four ascending shares, e.g. [0.2, 0.4, 0.6, 0.8]");
  }
  c.finish();
}

// decisions: strategy, cutover and pattern, each with its options and rules.
void read_decisions(const YamlNode* node, const std::string& file, RuleSet& rs,
                    Diagnostics& diags) {
  if (!is_mapping_or_report(node, file, "decisions", diags)) return;
  for (size_t e = 0; e < node->size(); ++e) {
    const std::string name = node->key(e).scalar();
    if (std::find(kDecisions.begin(), kDecisions.end(), name) == kDecisions.end()) {
      diags.error(
          location_of(node->key(e), file),
          fmt::format("decisions: unknown decision '{}'{}; expected strategy, cutover and pattern",
                      name, did_you_mean_hint(name, kDecisions)));
      continue;
    }
    rs.decisions.push_back(read_decision(name, node->value(e), file, diags));
  }
  for (const auto& name : kDecisions) {
    if (!rs.decision(name))
      diags.error(location_of(*node, file), fmt::format("decisions: '{}' is missing", name));
  }
  // The strategy is decided first; cutover and pattern may read it.
  std::stable_partition(rs.decisions.begin(), rs.decisions.end(),
                        [](const Decision& x) { return x.name == "strategy"; });
  if (const Decision* strategy = rs.decision("strategy")) {
    for (const auto& rule : strategy->rules) {
      for (const auto& c : rule.when.all) {
        if (c.fact == "strategy") {
          diags.error(c.where,
                      "decisions.strategy: a strategy rule cannot read the strategy it decides");
        }
      }
    }
  }
}

// risks: the register, each risk with the conditions it applies under.
void read_risks(const YamlNode* node, const std::string& file, std::vector<RiskRule>& risks,
                Diagnostics& diags) {
  if (!is_sequence_or_report(node, file, "risks", diags)) return;
  for (size_t i = 0; i < node->size(); ++i) {
    const std::string path = fmt::format("risks[{}]", i);
    MappingReader r((*node)[i], file, path, diags);
    RiskRule risk;
    for (const char* key : {"id", "title", "mitigation"}) r.require(key);
    risk.id = r.text("id").value_or("");
    risk.title = r.text("title").value_or("");
    // likelihood and impact; a bare severity (rules written before them)
    // stands for both.
    if (r.has("severity")) {
      risk.likelihood = risk.impact = r.choice("severity", kSeverities).value_or("medium");
    } else {
      r.require("likelihood");
      r.require("impact");
      risk.likelihood = r.choice("likelihood", kSeverities).value_or("medium");
      risk.impact = r.choice("impact", kSeverities).value_or("medium");
    }
    risk.severity = risk_severity(risk.likelihood, risk.impact);
    risk.mitigation = r.text("mitigation").value_or("");
    risk.source = r.text("source").value_or("");
    risk.owner = r.text("owner").value_or("");
    check_placeholders(risk.title, r.where("title"), path, diags);
    check_placeholders(risk.mitigation, r.where("mitigation"), path, diags);
    risk.when = read_conditions(r.node("when"), file, path + ".when", diags);
    if (r.has("mitigated_when")) {
      risk.mitigated_when =
          read_conditions(r.node("mitigated_when"), file, path + ".mitigated_when", diags);
      r.require("mitigated_by");
      risk.mitigated_by = r.text("mitigated_by").value_or("");
      check_placeholders(risk.mitigated_by, r.where("mitigated_by"), path, diags);
    } else if (r.has("mitigated_by")) {
      diags.error(r.where("mitigated_by"),
                  path +
                      ".mitigated_by: needs mitigated_when (the conditions under which the "
                      "plan mitigates it)");
    }
    r.finish();
    risks.push_back(std::move(risk));
  }
}

// checklist: items under technical, data and operational.
void read_checklist(const YamlNode* node, const std::string& file,
                    std::vector<ChecklistRule>& checklist, Diagnostics& diags) {
  if (!is_mapping_or_report(node, file, "checklist", diags)) return;
  for (size_t e = 0; e < node->size(); ++e) {
    const std::string section = node->key(e).scalar();
    if (std::find(kSections.begin(), kSections.end(), section) == kSections.end()) {
      diags.error(
          location_of(node->key(e), file),
          fmt::format("checklist: unknown section '{}'{}; expected technical, data or operational",
                      section, did_you_mean_hint(section, kSections)));
      continue;
    }
    const YamlNode* items = &node->value(e);
    if (!is_sequence_or_report(items, file, "checklist." + section, diags)) continue;
    for (size_t i = 0; i < items->size(); ++i) {
      const std::string path = fmt::format("checklist.{}[{}]", section, i);
      MappingReader r((*items)[i], file, path, diags);
      r.require("item");
      ChecklistRule item{section, r.text("item").value_or(""),
                         read_conditions(r.node("when"), file, path + ".when", diags)};
      r.finish();
      checklist.push_back(std::move(item));
    }
  }
}

// rollback_criteria: metric, threshold and action, where they apply.
void read_rollback_criteria(const YamlNode* node, const std::string& file,
                            std::vector<RollbackRule>& rollback, Diagnostics& diags) {
  if (!is_sequence_or_report(node, file, "rollback_criteria", diags)) return;
  for (size_t i = 0; i < node->size(); ++i) {
    const std::string path = fmt::format("rollback_criteria[{}]", i);
    MappingReader r((*node)[i], file, path, diags);
    for (const char* key : {"metric", "threshold", "action"}) r.require(key);
    RollbackRule rule{r.text("metric").value_or(""), r.text("threshold").value_or(""),
                      r.text("action").value_or(""),
                      read_conditions(r.node("when"), file, path + ".when", diags)};
    r.finish();
    rollback.push_back(std::move(rule));
  }
}

// gravity: accesses per user and the levels' thresholds.
void read_gravity(const YamlNode& node, const std::string& file, GravityRules& gravity,
                  Diagnostics& diags) {
  MappingReader g(node, file, "gravity", diags);
  if (auto v = g.number("accesses_per_user_per_day", 0, 1e9))
    gravity.accesses_per_user_per_day = *v;
  if (auto v = g.number("medium_at", 0, 100)) gravity.medium_at = *v;
  if (auto v = g.number("high_at", 0, 100)) gravity.high_at = *v;
  if (auto v = g.number("extreme_at", 0, 100)) gravity.extreme_at = *v;
  g.finish();
}

// effort_days: per strategy; every option the strategy decision can choose
// needs one.
void read_effort_days(const YamlNode& node, const std::string& file, const Decision* strategy,
                      std::map<std::string, double>& effort_days, Diagnostics& diags) {
  MappingReader e(node, file, "effort_days", diags);
  if (strategy) {
    for (const auto& option : kStrategies) {
      const bool used = std::find(strategy->options.begin(), strategy->options.end(), option) !=
                        strategy->options.end();
      if (used) e.require(option);
      if (auto v = e.number(option, 0, 1e5)) effort_days[option] = *v;
    }
  }
  e.finish();
}

// effort_scaling: days per thing that has to change.
void read_effort_scaling(const YamlNode& node, const std::string& file, EffortScaling& scaling,
                         Diagnostics& diags) {
  MappingReader r(node, file, "effort_scaling", diags);
  if (const YamlNode* services = r.node("per_service")) {
    MappingReader s(*services, file, "effort_scaling.per_service", diags);
    for (const char* complexity : {"low", "medium", "high", "unknown"}) {
      if (auto v = s.number(complexity, 0, 1e4)) scaling.per_service[complexity] = *v;
    }
    s.finish();
  }
  if (auto v = r.number("per_integration", 0, 1e4)) scaling.per_integration = *v;
  if (auto v = r.number("per_data_store", 0, 1e4)) scaling.per_data_store = *v;
  if (auto v = r.number("per_data_tb", 0, 1e4)) scaling.per_data_tb = *v;
  r.finish();
}

}  // namespace

std::string risk_severity(const std::string& likelihood, const std::string& impact) {
  auto rank = [](const std::string& level) {
    return level == "high" ? 3 : level == "medium" ? 2 : 1;
  };
  const int score = rank(likelihood) * rank(impact);
  return score >= 6 ? "high" : score >= 3 ? "medium" : "low";
}

int register_rank(bool mitigated, const std::string& severity) {
  return mitigated ? 3 : severity == "high" ? 0 : severity == "medium" ? 1 : 2;
}

bool is_online_method(const std::string& method) {
  return std::find(kOnlineMethods.begin(), kOnlineMethods.end(), method) != kOnlineMethods.end();
}

const Decision* RuleSet::decision(const std::string& name) const {
  for (const auto& d : decisions) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

Result<RuleSet> RuleSet::parse(const std::string& text, const std::string& file) {
  auto root = parse_yaml(text, file);
  if (!root) return tl::unexpected(root.error());
  Diagnostics diags;
  RuleSet rs;
  MappingReader top(*root, file, "", diags);
  // Section by section, in the order data/rules.yaml has them; every problem
  // is collected and the file fails once.
  read_assumptions(top.node("assumptions"), file, rs.assumptions, diags);
  if (auto size = top.number("assumed_data_size_gb", 0, 1e9)) rs.assumed_data_size_gb = *size;
  if (auto heavy = top.number("proprietary_heavy_at", 1, 1000)) rs.proprietary_heavy_at = *heavy;
  if (auto hosting = top.text_list("hosting_categories")) rs.hosting_categories = *hosting;
  top.require("confidence");
  top.require("effort_days");
  if (top.has("confidence")) read_confidence(*top.node("confidence"), file, rs, diags);
  top.require("decisions");
  read_decisions(top.node("decisions"), file, rs, diags);
  read_risks(top.node("risks"), file, rs.risks, diags);
  read_checklist(top.node("checklist"), file, rs.checklist, diags);
  read_rollback_criteria(top.node("rollback_criteria"), file, rs.rollback, diags);
  top.require("data_methods");
  if (top.has("data_methods"))
    read_data_methods(*top.node("data_methods"), file, rs.data_methods, diags);
  if (top.has("gravity")) read_gravity(*top.node("gravity"), file, rs.gravity, diags);
  if (top.has("effort_days")) {
    // After the decisions: the strategy's options say which efforts are needed.
    read_effort_days(*top.node("effort_days"), file, rs.decision("strategy"), rs.effort_days,
                     diags);
  }
  if (top.has("effort_scaling"))
    read_effort_scaling(*top.node("effort_scaling"), file, rs.effort_scaling, diags);
  top.finish();
  if (diags.has_errors()) return tl::unexpected(diags.to_error(file));
  return rs;
}

}  // namespace ferry::assess
