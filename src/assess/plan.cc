#include "assess/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include "assess/assess_workload.h"
#include "core/calendar.h"
#include "core/text.h"
#include "core/two_halves.h"

namespace ferry::assess {

namespace {

struct Graph {
  std::unordered_map<std::string, size_t> index;
  std::vector<WaveInput> nodes;
  std::vector<std::vector<std::string>> dependents;  // hard and soft
  std::vector<std::vector<size_t>> hard_dependents;
};

Graph build_graph(const std::vector<Workload>& ws) {
  Graph g;
  const size_t n = ws.size();
  g.nodes.resize(n);
  g.dependents.resize(n);
  g.hard_dependents.resize(n);
  for (size_t i = 0; i < n; ++i) g.index.emplace(ws[i].name, i);
  for (size_t i = 0; i < n; ++i) {
    g.nodes[i].name = ws[i].name;
    for (const auto& d : ws[i].depends_on) {
      const size_t j = g.index.at(d.name);
      g.nodes[i].hard_deps.push_back(j);
      g.dependents[j].push_back(ws[i].name);
      g.hard_dependents[j].push_back(i);
    }
    for (const auto& d : ws[i].depends_on_soft)
      g.dependents[g.index.at(d.name)].push_back(ws[i].name);
  }
  return g;
}

// Workloads an import puts on one server (a host or an IP in several
// applications) cannot move in different waves: they are linked, and said.
void link_shared_hosts(const std::vector<Workload>& ws, Graph& g,
                       std::vector<std::string>& warnings) {
  std::map<std::string, std::vector<size_t>> on_host;  // ordered: the warnings' order is stable
  for (size_t i = 0; i < ws.size(); ++i) {
    for (const auto& server : ws[i].servers) {
      const std::string host = server.host.empty() ? server.ip : server.host;
      if (host.empty()) continue;
      auto& list = on_host[host];
      if (std::find(list.begin(), list.end(), i) == list.end()) list.push_back(i);
    }
  }
  for (const auto& [host, members] : on_host) {
    if (members.size() < 2) continue;
    std::vector<std::string> names;
    for (size_t m : members) {
      names.push_back(ws[m].name);
      for (size_t other : members) {
        if (other != m) g.nodes[m].same_host.push_back(other);
      }
    }
    warnings.push_back(
        fmt::format("{} share the host {}: they move in one wave", join(names, ", "), host));
  }
}

WorkloadContext context_of(size_t i, const std::vector<Workload>& ws, const Graph& g,
                           const std::vector<bool>& in_cycle) {
  WorkloadContext c;
  c.dependents = g.dependents[i];
  c.in_cycle = in_cycle[i];
  for (size_t d : g.hard_dependents[i]) {
    const auto& budget = ws[d].downtime_budget_minutes;
    if (budget && (!c.dependent_budget_minutes || *budget < *c.dependent_budget_minutes)) {
      c.dependent_budget_minutes = budget;
      c.dependent_budget_from = ws[d].name;
    }
  }
  return c;
}

std::string gravity_level(double score, const GravityRules& g) {
  if (score >= g.extreme_at) return "extreme";
  if (score >= g.high_at) return "high";
  if (score >= g.medium_at) return "medium";
  return "low";
}

// Data gravity: size x access frequency x integration count, as log10(1 + product).
Gravity gravity_of(size_t i, const std::vector<Workload>& ws, const Graph& g, const WorkloadPlan& p,
                   const RuleSet& rules) {
  const Workload& w = ws[i];
  const double per_user = rules.gravity.accesses_per_user_per_day;
  Gravity out;
  out.size_gb = p.total_data_gb;
  out.integrations = std::max<int>(1, static_cast<int>(g.dependents[i].size()));
  std::string source;
  if (w.requests_per_day) {
    out.accesses_per_day = *w.requests_per_day;
    source = "requests per day";
  } else if (w.active_users) {
    out.accesses_per_day = *w.active_users * per_user;
    source = fmt::format("{:.0f} users x {} accesses/day", *w.active_users, per_user);
  } else {
    for (const auto& name : g.dependents[i]) {
      const Workload& d = ws[g.index.at(name)];
      if (d.requests_per_day)
        out.accesses_per_day += *d.requests_per_day;
      else if (d.active_users)
        out.accesses_per_day += *d.active_users * per_user;
    }
    source = "sum of its dependents' traffic";
    if (out.accesses_per_day == 0) {
      auto users = rules.assumptions.find("active_users");
      out.accesses_per_day =
          users == rules.assumptions.end() ? 0 : std::get<double>(users->second) * per_user;
      source = "assumed users x accesses/day";
    }
  }
  out.score = std::log10(1 + out.size_gb * out.accesses_per_day * out.integrations);
  out.level = gravity_level(out.score, rules.gravity);
  out.explanation =
      out.size_gb == 0
          ? "no data of its own: no gravity"
          : fmt::format("log10({:.0f} GB x {:.0f} accesses/day ({}) x {} integration{}) = {:.1f}",
                        out.size_gb, out.accesses_per_day, source, out.integrations,
                        out.integrations == 1 ? "" : "s", out.score);
  return out;
}

// Warnings for edges from a moving workload to one that stays behind.
void warn_about_edges_to_workloads_not_moving(const std::vector<Workload>& ws, const Plan& plan,
                                              const Graph& g, std::vector<std::string>& warnings) {
  auto moving = [&](size_t i) { return g.nodes[i].moving; };
  for (size_t i = 0; i < ws.size(); ++i) {
    if (!moving(i)) continue;
    auto check = [&](const std::string& dep, bool hard) {
      const size_t j = g.index.at(dep);
      if (moving(j)) return;
      const std::string kind = hard ? "hard-depends" : "soft-depends";
      if (plan.workloads[j].strategy == "retire") {
        warnings.push_back(
            fmt::format("{} {} on {}, which is planned to retire: change {} first or keep {}",
                        ws[i].name, kind, dep, ws[i].name, dep));
      } else {
        warnings.push_back(
            fmt::format("{} {} on {}, which is retained: it will call across platforms (latency, "
                        "egress, firewall rules)",
                        ws[i].name, kind, dep));
      }
    };
    for (const auto& d : ws[i].depends_on) check(d.name, true);
    for (const auto& d : ws[i].depends_on_soft) check(d.name, false);
  }
}

const char* wave_label(WaveKind kind) {
  switch (kind) {
    case WaveKind::kPilot:
      return "pilot";
    case WaveKind::kSharedInfrastructure:
      return "shared infrastructure";
    case WaveKind::kMigration:
      return "migration";
  }
  return "migration";
}

// The wave's register: its members' risks grouped by title, plus the risks of
// the wave itself.
// A hard dependency that moves before its consumers leaves them calling it
// across the link until their own wave: one risk per dependency, in the wave
// that splits them, with the working days the split lasts (seed 004: check
// the latency before moving one layer without the other).
std::vector<WaveRisk> split_platform_risks(const Wave& wave, const Plan& plan, const Graph& g) {
  std::vector<WaveRisk> out;
  const auto cutover_end = [&](int w) { return plan.schedule.waves[size_t(w - 1)].cutover_end; };
  for (size_t d : wave.members) {
    std::vector<std::string> consumers;
    std::vector<std::string> owners;
    int longest = 0;
    bool sensitive = false;    // a consumer with a tight budget or high criticality
    bool all_tolerant = true;  // every consumer of low criticality with an hour or more of budget
    for (size_t c : g.hard_dependents[d]) {
      const WorkloadPlan& consumer = plan.workloads[c];
      if (consumer.wave <= wave.index) continue;
      const int days = cutover_end(consumer.wave) - cutover_end(wave.index);
      longest = std::max(longest, days);
      consumers.push_back(fmt::format("{} (wave {}, {} working day{})", consumer.workload->name,
                                      consumer.wave, days, days == 1 ? "" : "s"));
      const Workload& w = *consumer.workload;
      const bool tight = w.downtime_budget_minutes && *w.downtime_budget_minutes <= 15;
      sensitive = sensitive || tight || w.criticality == "high" || w.criticality == "critical";
      all_tolerant = all_tolerant && w.criticality == "low" &&
                     (!w.downtime_budget_minutes || *w.downtime_budget_minutes >= 60);
      if (std::find(owners.begin(), owners.end(), consumer.team) == owners.end())
        owners.push_back(consumer.team);
    }
    if (consumers.empty()) continue;
    const WorkloadPlan& dependency = plan.workloads[d];
    // A large store reached remotely (a file share mounted across the link)
    // hurts most; a few days across the link are likelier to go unnoticed
    // than months.
    const bool heavy = dependency.total_data_gb >= 1000;
    const char* impact = sensitive || heavy ? "high" : all_tolerant ? "low" : "medium";
    const char* likelihood = longest > 10 ? "high" : "medium";
    out.push_back({fmt::format("{} moves before what calls it, which reaches it across platforms "
                               "until its own wave: {}; measure the added round trip against "
                               "their latency budget or move them together",
                               dependency.workload->name, some_of(consumers, 4)),
                   risk_severity(likelihood, impact),
                   {dependency.workload->name},
                   likelihood,
                   impact,
                   owners,
                   false,
                   "split:" + dependency.workload->name});
  }
  return out;
}

std::vector<WaveRisk> wave_risks(const Wave& wave, const Plan& plan, const Graph& g) {
  std::vector<WaveRisk> risks = split_platform_risks(wave, plan, g);
  // By title, open and mitigated apart; the titles live in plan.workloads.
  std::unordered_map<std::string_view, size_t> by_title[2];
  double transfer = 0;
  std::vector<std::string> cycle_members;
  for (size_t m : wave.members) {
    const WorkloadPlan& p = plan.workloads[m];
    for (const auto& r : p.risks) {
      // A risk mitigated for one member and open for another is two lines.
      auto [it, inserted] = by_title[r.mitigated ? 1 : 0].emplace(r.title, risks.size());
      if (inserted)
        risks.push_back({r.title, r.severity, {}, r.likelihood, r.impact, {}, r.mitigated, r.id});
      WaveRisk& grouped = risks[it->second];
      grouped.workloads.push_back(p.workload->name);
      if (std::find(grouped.owners.begin(), grouped.owners.end(), r.owner) == grouped.owners.end())
        grouped.owners.push_back(r.owner);
    }
    for (const auto& item : p.data_plan) transfer += item.transfer_hours;
    if (p.cycle >= 0) cycle_members.push_back(p.workload->name);
  }
  // The wave's own risks belong to whoever runs the migration.
  auto own = [&](const char* key, std::string title, const char* likelihood, const char* impact) {
    risks.push_back({std::move(title),
                     risk_severity(likelihood, impact),
                     {},
                     likelihood,
                     impact,
                     {"migration lead"},
                     false,
                     key});
  };
  if (transfer / 24 > 1) {
    own("link",
        fmt::format("{:.1f} TB share one link: {:.1f} days of transfer if copied at once; stagger "
                    "the copies or add bandwidth",
                    wave.data_tb, transfer / 24),
        "medium", "medium");
  }
  if (!cycle_members.empty()) {
    own("cycle",
        fmt::format("dependency cycle moves in one window: {}", fmt::join(cycle_members, ", ")),
        "medium", "high");
  }
  if (wave.index == 1 && wave.kind != WaveKind::kPilot && plan.defaults.pilot_size > 0) {
    own("no-pilot",
        "no pilot wave: wave 1 is the first production cutover; rehearse its runbook and "
        "rollback on a staging copy first",
        "medium", "high");
  }
  if (wave.kind == WaveKind::kPilot)
    own("pilot", "pilot: rehearse the runbook and the rollback end to end before wave 2", "low",
        "low");
  // Open risks first, the most severe first; mitigated ones last.
  std::stable_sort(risks.begin(), risks.end(), [](const WaveRisk& a, const WaveRisk& b) {
    return register_rank(a.mitigated, a.severity) < register_rank(b.mitigated, b.severity);
  });
  return risks;
}

// Why a workload cannot be in the pilot, or "" when it can: a pilot
// rehearses the runbook, so it must be a simple move that fits its window, on
// a workload the inventory describes well and someone owns.
std::string not_pilot_because(const Workload& w, const WorkloadPlan& p,
                              const PlanningDefaults& defaults) {
  if (p.strategy != "rehost" && p.strategy != "replatform") return "it is a " + p.strategy;
  if (p.over_downtime_budget) return "its cutover exceeds its downtime budget";
  if (p.cannot_catch_up) return "its data changes faster than the link carries";
  if (p.confidence < defaults.pilot_min_confidence && !w.owner) {
    return fmt::format("confidence {}/5 (a pilot needs {}) and no owner", p.confidence,
                       defaults.pilot_min_confidence);
  }
  if (p.confidence < defaults.pilot_min_confidence) {
    return fmt::format("confidence {}/5 (a pilot needs {})", p.confidence,
                       defaults.pilot_min_confidence);
  }
  if (!w.owner) return "it has no owner";
  return "";
}

// Working days of the copy that must run before the cutover: the longest
// online copy (a dump/restore or an export happens inside the cutover). A copy
// runs around the clock but counts in working days: the weekends are margin.
int sync_days_of(const WorkloadPlan& p) {
  double hours = 0;
  for (const auto& item : p.data_plan) {
    if (!is_online_method(item.method)) continue;
    // A store that never catches up still needs its first full copy.
    hours = std::max(hours, item.can_catch_up ? item.copy_hours : item.transfer_hours);
  }
  return static_cast<int>(std::ceil(hours / 24));
}

void schedule_plan(const Estate& estate, const std::vector<Wave>& waves, Plan& plan) {
  const PlanningDefaults& d = estate.defaults;
  plan.calendar = WorkCalendar(d.start.value_or(next_monday_utc()), d.holidays);
  plan.start = plan.calendar.start();
  plan.start_assumed = !d.start;
  plan.schedule_options = {d.mobilisation_days, d.team_capacity,     d.cutover_days,
                           d.hypercare_days,    d.decommission_days, {}};
  // Freezes in working days: from the first working day at or after `from`
  // to the first one after `to`.
  for (const auto& f : d.change_freezes) {
    plan.schedule_options.freezes.push_back({plan.calendar.index_of(f.from),
                                             plan.calendar.index_of(CalendarDate{f.to.days + 1}),
                                             f.why});
  }
  std::vector<ScheduleWorkload> items;
  std::vector<std::string> unowned;
  for (auto& p : plan.workloads) {
    p.team = p.workload->owner.value_or("unassigned");
    p.sync_days = p.wave > 0 ? sync_days_of(p) : 0;
    if (p.wave > 0 && !p.workload->owner) unowned.push_back(p.workload->name);
    items.push_back({p.workload->name, p.team, p.wave, static_cast<int>(std::ceil(p.effort_days)),
                     p.sync_days});
  }
  if (!unowned.empty()) {
    plan.warnings.push_back(fmt::format(
        "{} moving workload{} without an owner ({}): {} built by one team called 'unassigned' "
        "in the schedule; name an owner for each",
        unowned.size(), unowned.size() == 1 ? "" : "s", some_of(unowned, 5),
        unowned.size() == 1 ? "it is" : "they are"));
  }
  std::vector<ScheduleWave> schedule_waves;
  for (const auto& wave : waves)
    schedule_waves.push_back({wave.index, wave.kind == WaveKind::kPilot, wave.members});
  plan.schedule = schedule_programme(items, schedule_waves, plan.schedule_options);
}

std::vector<std::vector<std::string>> names_of(const std::vector<std::vector<size_t>>& groups,
                                               const std::vector<Workload>& ws) {
  std::vector<std::vector<std::string>> out;
  for (const auto& group : groups) {
    std::vector<std::string> names;
    for (size_t m : group) names.push_back(ws[m].name);
    out.push_back(std::move(names));
  }
  return out;
}

// Assesses every workload. They are independent of each other, so a large
// estate is split between two threads (the half of a 10,000-workload plan's
// time this step takes); the warnings keep the inventory's order.
void assess_all(const std::vector<Workload>& ws, const Graph& g, const std::vector<bool>& in_cycle,
                const RuleSet& rules, const Catalog& catalog, const PlanningDefaults& defaults,
                Plan& plan) {
  const size_t n = ws.size();
  plan.workloads.resize(n);
  std::vector<std::vector<std::string>> warnings(n);
  in_two_halves(n, kWorkloadsWorthAThread, [&](size_t from, size_t to, int) {
    for (size_t i = from; i < to; ++i) {
      plan.workloads[i] = assess_workload(ws[i], context_of(i, ws, g, in_cycle), rules, catalog,
                                          defaults, warnings[i]);
    }
  });
  for (auto& list : warnings) {
    for (auto& w : list) plan.warnings.push_back(std::move(w));
  }
}

}  // namespace

std::string task_name(const Plan& plan, const ScheduleTask& task) {
  switch (task.kind) {
    case TaskKind::kMobilisation:
      return "mobilisation";
    case TaskKind::kBuild:
      return "build " + plan.workloads[task.workload].workload->name;
    case TaskKind::kSync:
      return "copy " + plan.workloads[task.workload].workload->name + "'s data";
    case TaskKind::kFreeze:
      return fmt::format("wave {} waits for the change freeze ({})", task.wave,
                         plan.schedule_options.freezes[static_cast<size_t>(task.freeze)].why);
    case TaskKind::kCutover:
    case TaskKind::kHypercare:
    case TaskKind::kDecommission:
      return fmt::format("{} wave {}", task_kind_name(task.kind), task.wave);
  }
  return task_kind_name(task.kind);
}

CalendarDate date_of(const Plan& plan, int day) { return plan.calendar.date_of(day); }

CalendarDate finish_date(const Plan& plan, const ScheduleTask& task) {
  return date_of(plan, std::max(task.start, task.end - 1));
}

std::string method_label(const std::string& method) {
  if (method == "dump_restore") return "dump/restore";
  if (method == "logical_replication") return "logical replication";
  if (method == "cdc") return "CDC";
  if (method == "physical_cdc") return "physical + CDC";
  if (method == "incremental_sync") return "incremental file sync";
  if (method == "replica_sync") return "replica sync";
  if (method == "key_copy") return "key copy";
  if (method == "snapshot_reindex") return "snapshot + reindex";
  if (method == "export_import") return "export + import";
  return method;  // archive, stays
}

Plan build_plan(const Estate& estate, const RuleSet& rules, const Catalog& catalog,
                const std::vector<std::string>& load_warnings) {
  Plan plan;
  plan.defaults = estate.defaults;
  plan.warnings = load_warnings;
  const auto& ws = estate.workloads;
  const size_t n = ws.size();

  // 1. The dependency graph and its cycles.
  Graph g = build_graph(ws);
  link_shared_hosts(ws, g, plan.warnings);
  std::vector<bool> in_cycle(n, false);
  for (const auto& component : strongly_connected_components(g.nodes)) {
    if (component.size() > 1) {
      for (size_t m : component) in_cycle[m] = true;
    }
  }

  // 2. Every workload on its own: facts, decisions, data, risks.
  assess_all(ws, g, in_cycle, rules, catalog, estate.defaults, plan);
  for (size_t i = 0; i < n; ++i) {
    const WorkloadPlan& p = plan.workloads[i];
    WaveInput& node = g.nodes[i];
    node.moving = p.strategy != "retire" && p.strategy != "retain";
    node.shared_infrastructure = p.shared_infrastructure;
    node.priority = ws[i].data_classification == "tier1";
    node.risk = p.risk_score;
    node.not_pilot_because = not_pilot_because(ws[i], p, estate.defaults);
    node.pilot_candidate = node.not_pilot_because.empty();
    static const std::vector<std::string> kBacking{"database", "cache", "queue", "storage"};
    node.application =
        !ws[i].kind || std::find(kBacking.begin(), kBacking.end(), *ws[i].kind) == kBacking.end();
    node.confidence = p.confidence;
    node.data_tb = node.moving ? p.total_data_gb / 1000 : 0;
    plan.total_data_tb += node.data_tb;
    if (p.over_downtime_budget) {
      for (const auto& item : p.data_plan) {
        if (item.fits_budget) continue;
        plan.warnings.push_back(fmt::format(
            "{}: {} by {} is down {} at its switch, over the {:.0f} min budget: raise the budget, "
            "or make the switch shorter (for files, more delta passes before the last)",
            ws[i].name, item.store, method_label(item.method),
            hours_text(item.downtime_minutes / 60), item.downtime_budget_minutes));
      }
    }
  }
  warn_about_edges_to_workloads_not_moving(ws, plan, g, plan.warnings);
  // A pilot must not call back to something that never moves.
  for (auto& node : g.nodes) {
    for (size_t d : node.hard_deps) {
      if (node.pilot_candidate && !g.nodes[d].moving) {
        node.pilot_candidate = false;
        node.not_pilot_because = fmt::format("it depends on {}, which does not move", ws[d].name);
      }
    }
  }

  // 3. Waves, cycles, critical path.
  WaveOptions options{estate.defaults.max_workloads_per_wave, estate.defaults.max_data_tb_per_wave,
                      estate.defaults.pilot_size, estate.defaults.pilot_max_risk};
  WaveSchedule schedule = schedule_waves(g.nodes, options);
  for (size_t i = 0; i < n; ++i) {
    plan.workloads[i].wave = schedule.wave_of[i];
    plan.workloads[i].cycle = schedule.cycle_of[i];
  }
  plan.cycles = names_of(schedule.cycles, ws);
  plan.warnings.insert(plan.warnings.end(), schedule.warnings.begin(), schedule.warnings.end());

  // 4. The timeline: builds by team, copies, the cutover pipeline.
  schedule_plan(estate, schedule.waves, plan);
  for (auto& wave : schedule.waves) {
    WavePlan wp;
    wp.label = wave_label(wave.kind);
    wp.risks = wave_risks(wave, plan, g);
    wp.wave = std::move(wave);
    plan.waves.push_back(std::move(wp));
  }

  // 5. Gravity needs every workload's traffic, so it comes last.
  for (size_t i = 0; i < n; ++i)
    plan.workloads[i].gravity = gravity_of(i, ws, g, plan.workloads[i], rules);
  return plan;
}

}  // namespace ferry::assess
