#include "assess/plan.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

namespace ferry::assess {

namespace {

int rank_of(const std::optional<std::string>& value, const std::vector<std::string>& order,
            const std::vector<int>& ranks) {
  if (!value) return ranks[1];
  for (size_t i = 0; i < order.size(); ++i) {
    if (order[i] == *value) return ranks[i];
  }
  return ranks[1];
}

// Records an input fact, or the rules' assumption when the inventory is silent.
class FactBuilder {
 public:
  FactBuilder(const RuleSet& rules, Facts& facts, std::vector<Assumption>& assumptions)
      : rules_(rules), facts_(facts), assumptions_(assumptions) {}

  template <typename T>
  void operator()(const std::string& name, const std::optional<T>& value) {
    if (value) {
      if constexpr (std::is_same_v<T, int>) {
        facts_.set(name, static_cast<double>(*value));
      } else {
        facts_.set(name, *value);
      }
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

const std::vector<std::string> kComplexityOrder{"none", "low", "medium", "high"};

std::string gravity_level(double score, const GravityRules& g) {
  if (score >= g.extreme_at) return "extreme";
  if (score >= g.high_at) return "high";
  if (score >= g.medium_at) return "medium";
  return "low";
}

const char* wave_label(WaveKind kind) {
  switch (kind) {
    case WaveKind::kPilot: return "pilot";
    case WaveKind::kSharedInfrastructure: return "shared infrastructure";
    case WaveKind::kMigration: return "migration";
  }
  return "migration";
}

}  // namespace

Plan build_plan(const Estate& estate, const RuleSet& rules, const Catalog& catalog,
                const std::vector<std::string>& load_warnings) {
  Plan plan;
  plan.defaults = estate.defaults;
  plan.warnings = load_warnings;
  const auto& ws = estate.workloads;
  const size_t n = ws.size();

  // Graph: indices of hard dependencies and names of everything depending on each workload.
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < n; ++i) index.emplace(ws[i].name, i);
  std::vector<WaveInput> graph(n);
  std::vector<std::vector<std::string>> dependents(n);
  for (size_t i = 0; i < n; ++i) {
    graph[i].name = ws[i].name;
    for (const auto& d : ws[i].depends_on) {
      size_t j = index.at(d.name);
      graph[i].hard_deps.push_back(j);
      dependents[j].push_back(ws[i].name);
    }
    for (const auto& d : ws[i].depends_on_soft) dependents[index.at(d.name)].push_back(ws[i].name);
  }
  std::vector<bool> in_cycle(n, false);
  for (const auto& component : strongly_connected_components(graph)) {
    if (component.size() > 1) {
      for (size_t m : component) in_cycle[m] = true;
    }
  }

  plan.workloads.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const Workload& w = ws[i];
    WorkloadPlan& p = plan.workloads[i];
    p.workload = &w;
    p.dependents = dependents[i];
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

    // Service mapping.
    int proprietary = 0, unmapped = 0;
    std::string max_complexity = "none";
    for (const auto& service : w.cloud_services) {
      ServiceMapping m{service, "", "unknown", "", "", false, ""};
      if (const CatalogEntry* e = catalog.find(service)) {
        m = {service, e->to, e->complexity, e->provider, e->category, e->proprietary, e->notes};
        if (e->proprietary) ++proprietary;
        auto rank = [](const std::string& c) {
          return std::find(kComplexityOrder.begin(), kComplexityOrder.end(), c) - kComplexityOrder.begin();
        };
        if (rank(e->complexity) > rank(max_complexity)) max_complexity = e->complexity;
      } else {
        ++unmapped;
        plan.warnings.push_back(fmt::format("{}: cloud service '{}' is not in the catalog; map it by hand "
                                            "or extend the catalog (--catalog)",
                                            w.name, service));
      }
      p.service_mappings.push_back(std::move(m));
    }
    facts.set("cloud_service_count", double(w.cloud_services.size()));
    facts.set("proprietary_service_count", double(proprietary));
    facts.set("proprietary_level", std::string(proprietary == 0 ? "none"
                                               : proprietary >= rules.proprietary_heavy_at ? "heavy"
                                                                                           : "light"));
    facts.set("unmapped_service_count", double(unmapped));
    facts.set("max_service_complexity", max_complexity);

    // Data plan.
    const double budget = std::get<double>(facts.get("downtime_budget_minutes")
                                               ? facts.get("downtime_budget_minutes")->value
                                               : FactValue(60.0));
    double total_gb = 0;
    bool has_database = false, has_files = false, online = false, appliance = false, size_assumed = false,
         relational = false;
    for (const auto& store : w.data) {
      DataPlanItem item = plan_data_store(store, budget, estate.defaults, rules, rules.assumed_data_size_gb);
      total_gb += item.size_gb;
      size_assumed = size_assumed || item.size_assumed;
      const bool files = item.method == "incremental_sync";
      has_files = has_files || files;
      has_database = has_database || !files;
      const auto& sql = rules.data_methods.relational_engines;
      relational = relational || std::find(sql.begin(), sql.end(), item.engine) != sql.end();
      online = online || (!files && item.method != "dump_restore");
      appliance = appliance || item.appliance_recommended;
      if (!item.can_catch_up) {
        plan.warnings.push_back(fmt::format("{}: data store {} changes faster ({} GB/day) than the link "
                                            "can carry; replication would never catch up",
                                            w.name, item.store, item.change_rate_gb_per_day));
      }
      if (item.size_assumed) p.assumptions.push_back({"size_gb of " + item.store, fmt::format("{:.0f}", item.size_gb)});
      p.data_plan.push_back(std::move(item));
    }
    facts.set("data_store_count", double(w.data.size()));
    facts.set("total_data_gb", total_gb, size_assumed);
    facts.set("has_database", has_database);
    facts.set("has_file_store", has_files);
    facts.set("has_relational_database", relational);
    facts.set("needs_online_sync", online);
    facts.set("appliance_recommended", appliance);
    facts.set("dependents", double(dependents[i].size()));
    facts.set("dependencies", double(w.depends_on.size()));
    facts.set("in_cycle", bool(in_cycle[i]));

    // Decisions, in the order the rules list them; the strategy feeds the rest.
    for (const auto& decision : rules.decisions) {
      DecisionResult result = decide(decision, facts);
      if (decision.name == "strategy") {
        p.strategy = result.choice;
        facts.set("strategy", result.choice);
        // Reasons: the rules that voted for the choice, strongest first.
        std::vector<std::pair<double, std::string>> weighted;
        for (const auto& vote : result.fired) {
          auto it = vote.rule->votes.find(result.choice);
          if (it != vote.rule->votes.end() && it->second > 0) weighted.emplace_back(it->second, vote.because);
        }
        std::stable_sort(weighted.begin(), weighted.end(),
                         [](const auto& a, const auto& b) { return a.first > b.first; });
        for (auto& [weight, because] : weighted) p.reasons.push_back(std::move(because));
        if (result.fell_back) p.reasons.push_back("no rule applied: " + result.choice + " by default");
      } else if (decision.name == "cutover") {
        p.cutover = result.choice;
      } else if (decision.name == "pattern") {
        p.pattern = result.choice;
      }
      p.decisions.emplace_back(decision.name, std::move(result));
    }

    for (const auto& risk : rules.risks) {
      if (evaluate(risk.when, facts, nullptr)) {
        p.risks.push_back({risk.id, fill_placeholders(risk.title, facts), risk.severity,
                           fill_placeholders(risk.mitigation, facts), risk.source});
      }
    }
    for (const auto& item : rules.checklist) {
      if (evaluate(item.when, facts, nullptr)) p.checklist.push_back({item.section, item.item});
    }
    for (const auto& criterion : rules.rollback) {
      if (evaluate(criterion.when, facts, nullptr)) p.rollback.push_back(criterion);
    }

    // Confidence: how much of what the rules read did the inventory say?
    size_t given = 0;
    for (const auto& name : rules.confidence_facts) {
      if (name == "data_sizes") {
        given += size_assumed ? 0 : 1;
      } else {
        const Fact* f = facts.get(name);
        given += (f && !f->assumed) ? 1 : 0;
      }
    }
    p.given_share = rules.confidence_facts.empty() ? 1.0 : double(given) / rules.confidence_facts.size();
    p.confidence = 1;
    for (double level : rules.confidence_levels) p.confidence += p.given_share >= level ? 1 : 0;

    // Risk score for wave ordering and pilot choice.
    p.risk_score = rank_of(w.criticality, kCriticalities, {0, 1, 2, 3}) +
                   rank_of(w.data_classification, kClassifications, {2, 1, 0, 0}) +
                   (total_gb >= 1000 ? 2 : total_gb > 0 ? 1 : 0) + (dependents[i].size() >= 3 ? 1 : 0);
    double copy_days = 0;
    for (const auto& item : p.data_plan) copy_days = std::max(copy_days, item.copy_hours / 24);
    auto effort = rules.effort_days.find(p.strategy);
    p.effort_days = (effort == rules.effort_days.end() ? 0 : effort->second) + copy_days;
    p.cycle = -1;

    graph[i].moving = p.strategy != "retire" && p.strategy != "retain";
    const Fact* shared = facts.get("shared_infrastructure");
    graph[i].shared_infrastructure = shared && std::get<bool>(shared->value);
    graph[i].priority = w.data_classification == "tier1";
    graph[i].risk = p.risk_score;
    // A pilot rehearses the runbook: a simple move the plan is confident about.
    graph[i].pilot_candidate = p.strategy == "rehost" || p.strategy == "replatform";
    graph[i].confidence = p.confidence;
    graph[i].data_tb = total_gb / 1000;
    graph[i].duration_days = p.effort_days;
    plan.total_data_tb += total_gb / 1000;
  }

  // Moving workloads that hard-depend on one that is not moving.
  for (size_t i = 0; i < n; ++i) {
    if (!graph[i].moving) continue;
    for (size_t j : graph[i].hard_deps) {
      if (!graph[j].moving) {
        plan.warnings.push_back(fmt::format("{} hard-depends on {}, which is planned to {}: it will call "
                                            "across platforms (latency, egress, firewall rules) or must be "
                                            "changed first",
                                            ws[i].name, ws[j].name, plan.workloads[j].strategy));
      }
    }
  }

  WaveOptions options{estate.defaults.max_workloads_per_wave, estate.defaults.max_data_tb_per_wave,
                      estate.defaults.pilot_size, 3};
  WaveSchedule schedule = schedule_waves(graph, options);
  for (size_t i = 0; i < n; ++i) {
    plan.workloads[i].wave = schedule.wave_of[i];
    plan.workloads[i].cycle = schedule.cycle_of[i];
  }
  for (const auto& cycle : schedule.cycles) {
    std::vector<std::string> names;
    for (size_t m : cycle) names.push_back(ws[m].name);
    plan.cycles.push_back(std::move(names));
  }
  for (const auto& step : schedule.critical_path) {
    std::vector<std::string> names;
    for (size_t m : step) names.push_back(ws[m].name);
    plan.critical_path.push_back(std::move(names));
  }
  plan.critical_path_days = schedule.critical_path_days;
  plan.warnings.insert(plan.warnings.end(), schedule.warnings.begin(), schedule.warnings.end());

  for (auto& wave : schedule.waves) {
    WavePlan wp;
    wp.label = wave_label(wave.kind);
    std::map<std::string, size_t> by_title;
    double transfer = 0;
    std::vector<std::string> cycle_members;
    for (size_t m : wave.members) {
      for (const auto& r : plan.workloads[m].risks) {
        auto [it, inserted] = by_title.emplace(r.title, wp.risks.size());
        if (inserted) wp.risks.push_back({r.title, r.severity, {}});
        wp.risks[it->second].workloads.push_back(ws[m].name);
      }
      for (const auto& item : plan.workloads[m].data_plan) transfer += item.transfer_hours;
      if (plan.workloads[m].cycle >= 0) cycle_members.push_back(ws[m].name);
    }
    if (transfer / 24 > 1) {
      wp.risks.push_back({fmt::format("{:.1f} TB share one link: {:.1f} days of transfer if copied at once; "
                                      "stagger the copies or add bandwidth",
                                      wave.data_tb, transfer / 24),
                          "medium", {}});
    }
    if (!cycle_members.empty()) {
      wp.risks.push_back({"dependency cycle moves in one window: " + fmt::format("{}", fmt::join(cycle_members, ", ")),
                          "high", {}});
    }
    if (wave.kind == WaveKind::kPilot) {
      wp.risks.push_back({"pilot: rehearse the runbook and the rollback end to end before wave 2", "low", {}});
    }
    std::stable_sort(wp.risks.begin(), wp.risks.end(), [](const WaveRisk& a, const WaveRisk& b) {
      auto rank = [](const std::string& s) { return s == "high" ? 0 : s == "medium" ? 1 : 2; };
      return rank(a.severity) < rank(b.severity);
    });
    wp.wave = std::move(wave);
    plan.total_days = std::max(plan.total_days, wp.wave.start_day + wp.wave.duration_days);
    plan.waves.push_back(std::move(wp));
  }

  // Gravity needs every workload's traffic, so it comes last.
  for (size_t i = 0; i < n; ++i) {
    const Workload& w = ws[i];
    WorkloadPlan& p = plan.workloads[i];
    Gravity& g = p.gravity;
    for (const auto& item : p.data_plan) g.size_gb += item.size_gb;
    g.integrations = std::max<int>(1, static_cast<int>(dependents[i].size()));
    std::string access_source;
    if (w.requests_per_day) {
      g.accesses_per_day = *w.requests_per_day;
      access_source = "requests per day";
    } else if (w.active_users) {
      g.accesses_per_day = *w.active_users * rules.gravity.accesses_per_user_per_day;
      access_source = fmt::format("{:.0f} users x {} accesses/day", *w.active_users,
                                  rules.gravity.accesses_per_user_per_day);
    } else {
      for (const auto& name : dependents[i]) {
        const Workload& d = ws[index.at(name)];
        if (d.requests_per_day) g.accesses_per_day += *d.requests_per_day;
        else if (d.active_users) g.accesses_per_day += *d.active_users * rules.gravity.accesses_per_user_per_day;
      }
      access_source = "sum of its dependents' traffic";
      if (g.accesses_per_day == 0) {
        g.accesses_per_day = rules.assumptions.count("active_users")
                                 ? std::get<double>(rules.assumptions.at("active_users")) *
                                       rules.gravity.accesses_per_user_per_day
                                 : 0;
        access_source = "assumed users x accesses/day";
      }
    }
    const double product = g.size_gb * g.accesses_per_day * g.integrations;
    g.score = std::log10(1 + product);
    g.level = gravity_level(g.score, rules.gravity);
    g.explanation = g.size_gb == 0
                        ? "no data of its own: no gravity"
                        : fmt::format("log10({:.0f} GB x {:.0f} accesses/day ({}) x {} integration{}) = {:.1f}",
                                      g.size_gb, g.accesses_per_day, access_source, g.integrations,
                                      g.integrations == 1 ? "" : "s", g.score);
  }
  return plan;
}

}  // namespace ferry::assess
