#include "assess/assess_workload.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/text.h"

namespace ferry::assess {

namespace {

// Records an input fact, or the rules' assumption when the inventory is silent.
class FactBuilder {
 public:
  FactBuilder(const RuleSet& rules, Facts& facts, std::vector<Assumption>& assumptions)
      : rules_(rules), facts_(facts), assumptions_(assumptions) {}

  template <typename T>
  void operator()(const std::string& name, const std::optional<T>& value) {
    if (value) {
      facts_.set(name, *value);
      return;
    }
    auto it = rules_.assumptions.find(name);
    if (it == rules_.assumptions.end()) return;
    facts_.set(name, it->second, true);
    assumptions_.push_back({name, format_fact_value(it->second)});
  }

 private:
  const RuleSet& rules_;
  Facts& facts_;
  std::vector<Assumption>& assumptions_;
};

int rank_in(const std::optional<std::string>& value, const std::vector<std::string>& order) {
  if (!value) return -1;
  return static_cast<int>(std::find(order.begin(), order.end(), *value) - order.begin());
}

void map_services(const Workload& w, const Catalog& catalog, const RuleSet& rules, WorkloadPlan& p,
                  Facts& facts, std::vector<std::string>& warnings) {
  static const std::vector<std::string> kComplexityOrder{"none", "low", "medium", "high"};
  int proprietary = 0, unmapped = 0;
  std::string max_complexity = "none";
  std::vector<const CatalogEntry*> entries;  // the services the catalog knows
  for (const auto& service : w.cloud_services) {
    ServiceMapping m{service, "", "unknown", "", "", false, ""};
    if (const CatalogEntry* e = catalog.find(service)) {
      entries.push_back(e);
      m = {service, e->to, e->complexity, e->provider, e->category, e->proprietary, e->notes};
      if (e->proprietary) ++proprietary;
      if (rank_in(e->complexity, kComplexityOrder) > rank_in(max_complexity, kComplexityOrder)) {
        max_complexity = e->complexity;
      }
    } else {
      ++unmapped;
      warnings.push_back(
          fmt::format("{}: cloud service '{}' is not in the catalog; map it by hand or extend the "
                      "catalog (--catalog)",
                      w.name, service));
    }
    p.service_mappings.push_back(std::move(m));
  }
  facts.set("cloud_service_count", double(w.cloud_services.size()));
  facts.set("proprietary_service_count", double(proprietary));
  facts.set("proprietary_level",
            std::string(proprietary == 0                            ? "none"
                        : proprietary >= rules.proprietary_heavy_at ? "heavy"
                                                                    : "light"));
  facts.set("unmapped_service_count", double(unmapped));
  facts.set("max_service_complexity", max_complexity);
  // A workload whose services include nothing that merely hosts it is such a
  // service itself (a DNS zone, a secrets store, a managed database).
  const auto& hosting = rules.hosting_categories;
  bool hosted = false;
  std::vector<std::string> managed;
  for (const auto& m : p.service_mappings) {
    if (std::find(hosting.begin(), hosting.end(), m.category) != hosting.end()) hosted = true;
    if (!m.to.empty()) managed.push_back(m.from + " -> " + m.to);
  }
  facts.set("runs_on_managed_service", !hosted && !managed.empty());
  facts.set("managed_services", join(managed, ", "));
  // Each constraint of the source platform: whether a service it uses has
  // it, and which (for the risks' titles).
  for (const auto& constraint : kConstraints) {
    std::vector<std::string> services;
    for (const CatalogEntry* e : entries) {
      if (std::find(e->constraints.begin(), e->constraints.end(), constraint) !=
          e->constraints.end())
        services.push_back(e->name);
    }
    facts.set(constraint, !services.empty());
    facts.set(constraint + "_services", join(services, ", "));
  }
}

void plan_data(const Workload& w, const WorkloadContext& context, const RuleSet& rules,
               const PlanningDefaults& defaults, WorkloadPlan& p, Facts& facts,
               std::vector<std::string>& warnings) {
  // No budget at all (neither given nor assumed) means no limit.
  double budget = std::numeric_limits<double>::infinity();
  if (const Fact* f = facts.get("downtime_budget_minutes")) budget = std::get<double>(f->value);
  std::string budget_note;
  if (context.dependent_budget_minutes && *context.dependent_budget_minutes < budget) {
    budget = *context.dependent_budget_minutes;
    budget_note = fmt::format("; the budget is {}'s {:.0f} min, which depends on it",
                              context.dependent_budget_from, budget);
    // Its data is down whenever what depends on it is: every rule and risk
    // after this reads the budget the plan applies, not its own.
    facts.set("downtime_budget_minutes", budget);
  }
  double total_gb = 0;
  bool has_database = false, has_files = false, online = false, appliance = false, shipped = false,
       size_assumed = false, relational = false, over_budget = false, stuck = false;
  const auto& sql = rules.data_methods.relational_engines;
  // (constraint, the services that have it), from the facts map_services set.
  std::vector<std::pair<std::string, std::string>> source_constraints;
  for (const auto& constraint : kConstraints) {
    if (std::get<bool>(facts.get(constraint)->value))
      source_constraints.emplace_back(
          constraint, std::get<std::string>(facts.get(constraint + "_services")->value));
  }
  for (const auto& store : w.data) {
    DataPlanItem item = plan_data_store(store, budget, defaults, rules, rules.assumed_data_size_gb,
                                        source_constraints);
    item.why += budget_note;
    total_gb += item.size_gb;
    size_assumed = size_assumed || item.size_assumed;
    const bool files = item.method == "incremental_sync";
    has_files = has_files || files;
    has_database = has_database || !files;
    relational = relational || std::find(sql.begin(), sql.end(), item.engine) != sql.end();
    online = online || (!files && !item.dump_fits_budget);
    stuck = stuck || !item.can_catch_up;
    appliance = appliance || item.appliance_recommended;
    shipped = shipped || item.appliance_used;
    over_budget = over_budget || !item.fits_budget;
    if (!item.can_catch_up) {
      warnings.push_back(
          fmt::format("{}: data store {} changes faster ({} GB/day) than the link can carry; "
                      "replication would never catch up",
                      w.name, item.store, item.change_rate_gb_per_day));
    }
    if (item.size_assumed)
      p.assumptions.push_back({"size_gb of " + item.store, fmt::format("{:.0f}", item.size_gb)});
    p.data_plan.push_back(std::move(item));
  }
  facts.set("data_store_count", double(w.data.size()));
  facts.set("total_data_gb", total_gb, size_assumed);
  facts.set("has_database", has_database);
  facts.set("has_file_store", has_files);
  facts.set("has_relational_database", relational);
  facts.set("needs_online_sync", online);
  facts.set("appliance_recommended", appliance);
  facts.set("appliance_planned", shipped);
  facts.set("over_downtime_budget", over_budget);
  facts.set("cannot_catch_up", stuck);
}

void record_decision(const std::string& name, DecisionResult result, WorkloadPlan& p,
                     Facts& facts) {
  if (name == "strategy") {
    p.strategy = result.choice;
    facts.set("strategy", result.choice);
    facts.set("moving", result.choice != "retire" && result.choice != "retain");
    // Reasons: the rules that voted for the choice, strongest first.
    std::vector<std::pair<double, std::string>> weighted;
    for (const auto& vote : result.fired) {
      auto it = vote.rule->votes.find(result.choice);
      if (it != vote.rule->votes.end() && it->second > 0)
        weighted.emplace_back(it->second, vote.because);
    }
    std::stable_sort(weighted.begin(), weighted.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    for (auto& [weight, because] : weighted) p.reasons.push_back(std::move(because));
    if (result.fell_back) p.reasons.push_back("no rule applied: " + result.choice + " by default");
  } else if (name == "cutover") {
    p.cutover = result.choice;
  } else if (name == "pattern") {
    p.pattern = result.choice;
  }
  p.decisions.emplace_back(name, std::move(result));
}

// The strategy decides what happens to the data: a retired workload's data
// is archived, a retained one's stays, and a repurchased product's data is
// exported and imported into its replacement rather than replicated.
void settle_data_for_strategy(const Workload& w, WorkloadPlan& p) {
  for (auto& item : p.data_plan) {
    if (p.strategy == "retire") {
      item.method = "archive";
      item.copy_hours = item.transfer_hours;
      item.downtime_minutes = 0;
      item.fits_budget = true;
      item.why = fmt::format(
          "retiring: archive {:.0f} GB for compliance ({} to archive storage), keep the audit "
          "trail",
          item.size_gb, hours_text(item.transfer_hours));
    } else if (p.strategy == "retain") {
      item.method = "stays";
      item.copy_hours = 0;
      item.downtime_minutes = 0;
      item.fits_budget = true;
      item.why = "retained: the data stays where it is";
    } else if (p.strategy == "repurchase") {
      item.method = "export_import";
      const std::string target = w.saas_alternative && !w.saas_alternative->empty()
                                     ? *w.saas_alternative
                                     : std::string("the replacement");
      item.why = fmt::format(
          "repurchased: export {:.0f} GB from the current product and import it into {} ({} "
          "over the link); rehearse the import, then freeze the old product for the final delta",
          item.size_gb, target, hours_text(item.transfer_hours));
    }
  }
}

void compute_confidence(const RuleSet& rules, const Facts& facts, WorkloadPlan& p) {
  size_t given = 0;
  for (const auto& name : rules.confidence_facts) {
    if (name == "data_sizes") {
      given += std::none_of(p.data_plan.begin(), p.data_plan.end(),
                            [](const auto& d) { return d.size_assumed; });
    } else {
      const Fact* f = facts.get(name);
      given += (f && !f->assumed) ? 1 : 0;
    }
  }
  p.given_share =
      rules.confidence_facts.empty() ? 1.0 : double(given) / rules.confidence_facts.size();
  p.confidence = 1;
  for (double level : rules.confidence_levels) p.confidence += p.given_share >= level ? 1 : 0;
}

// The build's working days: the strategy's base plus each thing that has to
// change, with the sum written out for the plan's reader.
void estimate_build(const Workload& w, const WorkloadContext& context, const RuleSet& rules,
                    bool moving, WorkloadPlan& p) {
  auto base = rules.effort_days.find(p.strategy);
  p.effort_days = base == rules.effort_days.end() ? 0 : base->second;
  std::vector<std::string> terms{fmt::format("{} {:g}", p.strategy, p.effort_days)};
  if (!moving) {
    p.effort_explanation = fmt::format("{:g} days ({})", p.effort_days, terms.front());
    return;
  }
  const EffortScaling& scale = rules.effort_scaling;
  auto add = [&](double count, double per, std::string_view what) {
    if (count <= 0 || per <= 0) return;
    p.effort_days += count * per;
    const bool plural = count != 1 && what != "TB";
    terms.push_back(fmt::format("{:g} {}{} x {:g}", count, what, plural ? "s" : "", per));
  };
  if (p.strategy != "repurchase") {
    for (const char* complexity : {"high", "medium", "low", "unknown"}) {
      const auto per = scale.per_service.find(complexity);
      if (per == scale.per_service.end()) continue;
      const auto count =
          std::count_if(p.service_mappings.begin(), p.service_mappings.end(),
                        [&](const ServiceMapping& m) { return m.complexity == complexity; });
      add(static_cast<double>(count), per->second, fmt::format("{} service", complexity));
    }
  }
  add(static_cast<double>(w.depends_on.size() + w.depends_on_soft.size() +
                          context.dependents.size()),
      scale.per_integration, "integration");
  add(static_cast<double>(w.data.size()), scale.per_data_store, "data store");
  add(std::round(p.total_data_gb / 100) / 10, scale.per_data_tb, "TB");
  p.effort_days = std::ceil(p.effort_days);
  p.effort_explanation = fmt::format("{:g} days ({})", p.effort_days, fmt::join(terms, " + "));
}

}  // namespace

WorkloadPlan assess_workload(const Workload& w, const WorkloadContext& context,
                             const RuleSet& rules, const Catalog& catalog,
                             const PlanningDefaults& defaults, std::vector<std::string>& warnings) {
  WorkloadPlan p;
  p.workload = &w;
  p.dependents = context.dependents;
  Facts facts;
  FactBuilder input(rules, facts, p.assumptions);
  input("kind", w.kind);
  input("criticality", w.criticality);
  input("data_classification", w.data_classification);
  input("containerized", w.containerized);
  input("stateful", w.stateful);
  input("actively_developed", w.actively_developed);
  input("needs_rearchitecture", w.needs_rearchitecture);
  input("remaining_lifespan_years", w.remaining_lifespan_years);
  input("active_users", w.active_users);
  input("requests_per_day", w.requests_per_day);
  input("redundant_with", w.redundant_with);
  input("saas_alternative", w.saas_alternative);
  input("contractual_lock_in", w.contractual_lock_in);
  input("commercial_off_the_shelf", w.commercial_off_the_shelf);
  input("shared_infrastructure", w.shared_infrastructure);
  input("downtime_budget_minutes", w.downtime_budget_minutes);
  map_services(w, catalog, rules, p, facts, warnings);
  plan_data(w, context, rules, defaults, p, facts, warnings);
  facts.set("dependents", double(context.dependents.size()));
  facts.set("dependencies", double(w.depends_on.size()));
  facts.set("in_cycle", context.in_cycle);
  compute_confidence(rules, facts, p);
  facts.set("confidence", double(p.confidence));

  // The rules loader puts the strategy first; cutover and pattern may read it.
  for (const auto& decision : rules.decisions)
    record_decision(decision.name, decide(decision, facts), p, facts);
  settle_data_for_strategy(w, p);

  for (const auto& rule : rules.risks) {
    if (!evaluate(rule.when, facts, nullptr)) continue;
    Risk risk{rule.id,         fill_placeholders(rule.title, facts),
              rule.likelihood, rule.impact,
              rule.severity,   fill_placeholders(rule.mitigation, facts),
              rule.source,     rule.owner.empty() ? w.owner.value_or("unassigned") : rule.owner,
              false,           ""};
    if (rule.mitigated_when && evaluate(*rule.mitigated_when, facts, nullptr)) {
      risk.mitigated = true;
      risk.severity = "low";
      risk.mitigated_by = fill_placeholders(rule.mitigated_by, facts);
    }
    p.risks.push_back(std::move(risk));
  }
  // The register reads from the top: open risks, most severe first; mitigated last.
  std::stable_sort(p.risks.begin(), p.risks.end(), [](const Risk& a, const Risk& b) {
    return register_rank(a.mitigated, a.severity) < register_rank(b.mitigated, b.severity);
  });
  for (const auto& item : rules.checklist) {
    if (evaluate(item.when, facts, nullptr)) p.checklist.push_back({item.section, item.item});
  }
  for (const auto& criterion : rules.rollback) {
    if (evaluate(criterion.when, facts, nullptr)) p.rollback.push_back(criterion);
  }

  // Risk score orders waves and picks the pilot: criticality 0-3, tier 1 data
  // +2, tier 2 +1, a terabyte of data +2 (any data +1), three or more dependents +1.
  // Unknown criticality or classification count as their assumed values.
  auto text_fact = [&](const char* name) -> std::optional<std::string> {
    const Fact* f = facts.get(name);
    return f ? std::optional<std::string>(std::get<std::string>(f->value)) : std::nullopt;
  };
  const std::optional<std::string> classification = text_fact("data_classification");
  const double total_gb = std::get<double>(facts.get("total_data_gb")->value);
  p.total_data_gb = total_gb;
  p.risk_score = std::max(0, criticality_rank(text_fact("criticality").value_or(""))) +
                 (classification == "tier1"   ? 2
                  : classification == "tier2" ? 1
                                              : 0) +
                 (total_gb >= 1000 ? 2
                  : total_gb > 0   ? 1
                                   : 0) +
                 (context.dependents.size() >= 3 ? 1 : 0);
  const bool moving = std::get<bool>(facts.get("moving")->value);
  estimate_build(w, context, rules, moving, p);
  p.over_downtime_budget = std::get<bool>(facts.get("over_downtime_budget")->value) && moving;
  p.cannot_catch_up = std::get<bool>(facts.get("cannot_catch_up")->value) && moving;
  const Fact* shared = facts.get("shared_infrastructure");
  p.shared_infrastructure = shared && std::get<bool>(shared->value);
  return p;
}

}  // namespace ferry::assess
