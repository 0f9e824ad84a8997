#include "assess/plan_diff.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "assess/report.h"
#include "core/text.h"

namespace ferry::assess {

namespace {

std::string wave_text(int wave) { return wave > 0 ? std::to_string(wave) : "not moving"; }

// A store's method and copy time, as the plan's tables show them.
std::string store_text(const DataPlanItem& d) {
  return fmt::format("{}, copy {}", method_label(d.method), copy_text(d));
}

// Two copy times in one unit, so that "3.1 days -> 46.3 h" reads as
// "3.1 days -> 1.9 days".
std::pair<std::string, std::string> same_unit(const DataPlanItem& a, const DataPlanItem& b) {
  if (!a.can_catch_up || !b.can_catch_up) return {copy_text(a), copy_text(b)};
  const double longer = std::max(a.copy_hours, b.copy_hours);
  auto in_unit = [&](double hours) {
    if (longer >= 48) return fmt::format("{:.1f} days", hours / 24);
    if (longer >= 1) return fmt::format("{:.1f} h", hours);
    return fmt::format("{:.0f} min", hours * 60);
  };
  return {in_unit(a.copy_hours), in_unit(b.copy_hours)};
}

// "2027-02-01 to 2027-03-01", or "" when it is not built.
std::string build_dates(const Plan& plan, const WorkloadPlan& p) {
  const size_t i = static_cast<size_t>(&p - plan.workloads.data());
  for (const auto& task : plan.schedule.tasks) {
    if (task.kind == TaskKind::kBuild && task.workload == static_cast<int>(i))
      return span_text(plan, task.start, task.end);
  }
  return "";
}

// Each wave by its number: dates, members, its own risks.
void compare_waves(const Plan& before, const Plan& after, std::vector<PlanChange>& out) {
  for (size_t w = 0; w < after.waves.size() && w < before.waves.size(); ++w) {
    const WavePlan& a = before.waves[w];
    const WavePlan& b = after.waves[w];
    const std::string subject = fmt::format("wave {}", b.wave.index);
    auto add = [&](std::string field, std::string x, std::string y) {
      if (x != y) out.push_back({subject, std::move(field), std::move(x), std::move(y)});
    };
    auto members = [](const Plan& plan, const WavePlan& wave) {
      std::vector<std::string> names;
      for (size_t m : wave.wave.members) names.push_back(plan.workloads[m].workload->name);
      std::sort(names.begin(), names.end());
      return join(names, ", ");
    };
    const WaveTimes& ta = before.schedule.waves[w];
    const WaveTimes& tb = after.schedule.waves[w];
    add("kind", a.label, b.label);
    add("cutover", span_text(before, ta.cutover_start, ta.cutover_end),
        span_text(after, tb.cutover_start, tb.cutover_end));
    add("workloads", members(before, a), members(after, b));
    // By key, open and mitigated apart: a risk whose numbers moved is one change.
    auto key = [](const WaveRisk& r) { return (r.mitigated ? "mitigated " : "") + r.key; };
    auto text = [](const WaveRisk& r) { return fmt::format("{} ({})", r.title, r.severity); };
    std::map<std::string, const WaveRisk*> old_risks, new_risks;
    for (const auto& r : a.risks) old_risks.emplace(key(r), &r);
    for (const auto& r : b.risks) new_risks.emplace(key(r), &r);
    for (const auto& r : b.risks) {
      auto it = old_risks.find(key(r));
      add("risk", it == old_risks.end() ? "" : text(*it->second), text(r));
    }
    for (const auto& r : a.risks) {
      if (!new_risks.count(key(r))) add("risk", text(r), "");
    }
  }
}

void compare_workloads(const Plan& before, const WorkloadPlan& a, const Plan& after,
                       const WorkloadPlan& b, std::vector<PlanChange>& out) {
  const std::string& name = b.workload->name;
  auto add = [&](std::string field, std::string x, std::string y) {
    if (x != y) out.push_back({name, std::move(field), std::move(x), std::move(y)});
  };
  add("strategy", a.strategy, b.strategy);
  add("confidence", fmt::format("{}/5", a.confidence), fmt::format("{}/5", b.confidence));
  add("wave", wave_text(a.wave), wave_text(b.wave));
  add("pattern", words(a.pattern), words(b.pattern));
  add("build", fmt::format("{:g} days", a.effort_days), fmt::format("{:g} days", b.effort_days));
  add("team", a.team, b.team);
  add("build dates", build_dates(before, a), build_dates(after, b));
  // Archived or staying on both sides: its copy time is no one's concern.
  if (a.wave > 0 || b.wave > 0) {
    std::unordered_map<std::string, const DataPlanItem*> old_stores;
    for (const auto& d : a.data_plan) old_stores.emplace(d.store, &d);
    for (const auto& d : b.data_plan) {
      auto it = old_stores.find(d.store);
      if (it == old_stores.end()) {
        add("data store " + d.store, "", store_text(d));
        continue;
      }
      add(d.store + " method", method_label(it->second->method), method_label(d.method));
      const auto [before_copy, after_copy] = same_unit(*it->second, d);
      add(d.store + " copy", before_copy, after_copy);
      add(d.store + " downtime", hours_text(it->second->downtime_minutes / 60),
          hours_text(d.downtime_minutes / 60));
      old_stores.erase(it);
    }
    for (const auto& d : a.data_plan) {
      if (old_stores.count(d.store)) add("data store " + d.store, store_text(d), "");
    }
  }
  std::set<std::string> old_risks, new_risks;
  for (const auto& r : a.risks) old_risks.insert(r.id);
  for (const auto& r : b.risks) new_risks.insert(r.id);
  for (const auto& r : b.risks) {
    if (!old_risks.count(r.id)) add("risk", "", fmt::format("{} ({})", r.title, r.severity));
  }
  for (const auto& r : a.risks) {
    if (!new_risks.count(r.id)) add("risk", fmt::format("{} ({})", r.title, r.severity), "");
  }
}

}  // namespace

std::vector<PlanChange> compare_plans(const Plan& before, const Plan& after) {
  std::vector<PlanChange> out;
  auto add = [&](std::string field, std::string x, std::string y) {
    if (x != y) out.push_back({"plan", std::move(field), std::move(x), std::move(y)});
  };
  auto end_text = [](const Plan& p) {
    return fmt::format("{} ({} working days)", date_text(p, std::max(0, p.schedule.end - 1)),
                       p.schedule.end);
  };
  add("start", date_text(before, 0), date_text(after, 0));
  add("end", end_text(before), end_text(after));
  add("waves", std::to_string(before.waves.size()), std::to_string(after.waves.size()));
  add("workloads", std::to_string(before.workloads.size()), std::to_string(after.workloads.size()));
  add("data", fmt::format("{:.1f} TB", before.total_data_tb),
      fmt::format("{:.1f} TB", after.total_data_tb));
  add("critical path", critical_path_text(before), critical_path_text(after));
  compare_waves(before, after, out);

  std::unordered_map<std::string, const WorkloadPlan*> old_by_name;
  for (const auto& p : before.workloads) old_by_name.emplace(p.workload->name, &p);
  for (const auto& p : after.workloads) {
    auto it = old_by_name.find(p.workload->name);
    if (it == old_by_name.end()) {
      out.push_back({p.workload->name, "added", "",
                     fmt::format("{}, wave {}", p.strategy, wave_text(p.wave))});
      continue;
    }
    compare_workloads(before, *it->second, after, p, out);
    old_by_name.erase(it);
  }
  for (const auto& p : before.workloads) {
    if (old_by_name.count(p.workload->name)) {
      out.push_back({p.workload->name, "removed",
                     fmt::format("{}, wave {}", p.strategy, wave_text(p.wave)), ""});
    }
  }
  const std::set<std::string> old_warnings(before.warnings.begin(), before.warnings.end());
  const std::set<std::string> new_warnings(after.warnings.begin(), after.warnings.end());
  for (const auto& w : after.warnings) {
    if (!old_warnings.count(w)) out.push_back({"plan", "warning", "", w});
  }
  for (const auto& w : before.warnings) {
    if (!new_warnings.count(w)) out.push_back({"plan", "warning", w, ""});
  }
  return out;
}

std::string change_text(const PlanChange& c) {
  if (c.field == "added") return fmt::format("{}: added ({})", c.subject, c.after);
  if (c.field == "removed") return fmt::format("{}: removed (was {})", c.subject, c.before);
  if (c.before.empty()) return fmt::format("{}: new {}: {}", c.subject, c.field, c.after);
  if (c.after.empty()) return fmt::format("{}: {} gone: {}", c.subject, c.field, c.before);
  return fmt::format("{}: {} {} -> {}", c.subject, c.field, c.before, c.after);
}

}  // namespace ferry::assess
