#include <fmt/format.h>

#include <algorithm>

#include "assess/plan_diff.h"
#include "assess/report.h"
#include "core/text.h"

namespace ferry::assess {

std::string render_table(const Plan& plan) {
  std::string out = fmt::format("ferry assess: {} workloads, {} wave{}, {:.1f} TB of data\n",
                                plan.workloads.size(), plan.waves.size(),
                                plan.waves.size() == 1 ? "" : "s", plan.total_data_tb);
  out += fmt::format("schedule: {}{}\n\n", programme_text(plan),
                     plan.start_assumed ? " (start assumed: next Monday; set --start)" : "");
  if (!plan.what_if_settings.empty()) {
    out += fmt::format("what if {}: {} change{} from the inventory's own settings\n",
                       join(plan.what_if_settings, " "), plan.what_if_changes.size(),
                       plan.what_if_changes.size() == 1 ? "" : "s");
    constexpr size_t kShown = 20;
    for (size_t i = 0; i < plan.what_if_changes.size() && i < kShown; ++i)
      out += "  " + change_text(plan.what_if_changes[i]) + "\n";
    if (plan.what_if_changes.size() > kShown) {
      out += fmt::format("  ... and {} more (--format json lists them all)\n",
                         plan.what_if_changes.size() - kShown);
    }
    out += "\n";
  }
  size_t name_width = 8;
  for (const auto& p : plan.workloads) name_width = std::max(name_width, p.workload->name.size());
  name_width = std::min<size_t>(name_width, 40);
  out +=
      fmt::format("{:<{}}  {:<10}  {:>4}  {:>4}  {:<22}  {:>8}  {:<21}  {:>9}  {:>9}  {:<7}  {}\n",
                  "WORKLOAD", name_width, "STRATEGY", "CONF", "WAVE", "PATTERN", "DATA", "METHOD",
                  "COPY", "DOWNTIME", "GRAVITY", "TEAM");
  // In the order they move; what stays behind last.
  std::vector<const WorkloadPlan*> rows;
  for (const auto& p : plan.workloads) rows.push_back(&p);
  std::stable_sort(rows.begin(), rows.end(), [](const WorkloadPlan* a, const WorkloadPlan* b) {
    auto order = [](const WorkloadPlan* p) { return p->wave > 0 ? p->wave : 1 << 30; };
    return order(a) < order(b);
  });
  bool any_over_budget = false;
  for (const WorkloadPlan* row : rows) {
    const WorkloadPlan& p = *row;
    double downtime = 0;
    const DataPlanItem* slowest = nullptr;  // the store that takes longest to copy
    std::string method = "-";
    for (const auto& d : p.data_plan) {
      if (!slowest || !d.can_catch_up ||
          (slowest->can_catch_up && d.copy_hours > slowest->copy_hours))
        slowest = &d;
      downtime = std::max(downtime, d.downtime_minutes);
    }
    if (p.data_plan.size() == 1)
      method = method_label(p.data_plan.front().method);
    else if (p.data_plan.size() > 1)
      method = fmt::format("{} stores", p.data_plan.size());
    // Archived or staying data has no copy and no switch.
    const bool moves = p.wave > 0 && !p.data_plan.empty();
    any_over_budget = any_over_budget || p.over_downtime_budget;
    out += fmt::format(
        "{:<{}}  {:<10}  {:>4}  {:>4}  {:<22}  {:>8}  {:<21}  {:>9}  {:>9}  {:<7}  {}\n",
        p.workload->name.substr(0, name_width), name_width, p.strategy,
        fmt::format("{}/5", p.confidence), p.wave > 0 ? std::to_string(p.wave) : "-",
        words(p.pattern), size_text(p.total_data_gb), method,
        !moves ? "-" : (slowest->can_catch_up ? hours_text(slowest->copy_hours) : "never"),
        !moves ? "-" : hours_text(downtime / 60) + (p.over_downtime_budget ? "!" : ""),
        p.gravity.level, p.wave > 0 ? p.team : "-");
  }
  if (any_over_budget) out += "(! over its downtime budget: see the warnings)\n";
  out += fmt::format("\nWaves{:<24}{:<25}  {:<10}  {:>8}\n", "", "CUTOVER", "SOURCE OFF", "DATA");
  for (size_t i = 0; i < plan.waves.size(); ++i) {
    const auto& wp = plan.waves[i];
    const WaveTimes& t = plan.schedule.waves[i];
    std::vector<std::string> names;
    for (size_t m : wp.wave.members) names.push_back(plan.workloads[m].workload->name);
    out += fmt::format("  {:>2}  {:<21}  {:<25}  {:<10}  {:>8}  {}\n", wp.wave.index, wp.label,
                       span_text(plan, t.cutover_start, t.cutover_end),
                       date_text(plan, t.decommission_end - 1), size_text(wp.wave.data_tb * 1000),
                       join(names, ", "));
  }
  std::vector<std::string> staying;
  for (const auto& p : plan.workloads) {
    if (p.wave == 0) staying.push_back(p.workload->name + " (" + p.strategy + ")");
  }
  if (!staying.empty()) out += fmt::format("  not moving: {}\n", join(staying, ", "));
  if (!plan.schedule.critical_path.empty())
    out += fmt::format("\nCritical path: {}\n", critical_path_text(plan));
  if (!plan.warnings.empty()) {
    out += fmt::format("\nWarnings ({})\n", plan.warnings.size());
    for (const auto& w : plan.warnings) out += "  - " + w + "\n";
  }
  return out;
}

}  // namespace ferry::assess
