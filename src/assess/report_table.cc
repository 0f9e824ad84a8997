#include <fmt/format.h>

#include <algorithm>

#include "assess/report.h"
#include "core/text.h"

namespace ferry::assess {

namespace {

std::string path_text(const std::vector<std::vector<std::string>>& steps) {
  std::vector<std::string> parts;
  for (const auto& step : steps)
    parts.push_back(step.size() == 1 ? step.front() : fmt::format("{{{}}}", join(step, " + ")));
  return join(parts, " -> ");
}

}  // namespace

std::string render_table(const Plan& plan) {
  std::string out = fmt::format(
      "ferry assess: {} workloads, {} wave{}, {:.1f} TB of data, about {:.0f} days end to end "
      "(critical path {:.0f} days)\n\n",
      plan.workloads.size(), plan.waves.size(), plan.waves.size() == 1 ? "" : "s",
      plan.total_data_tb, plan.total_days, plan.critical_path_days);
  size_t name_width = 8;
  for (const auto& p : plan.workloads) name_width = std::max(name_width, p.workload->name.size());
  name_width = std::min<size_t>(name_width, 40);
  out += fmt::format("{:<{}}  {:<10}  {:>4}  {:>4}  {:<22}  {:>8}  {:<21}  {:>9}  {:>9}  {:<7}\n",
                     "WORKLOAD", name_width, "STRATEGY", "CONF", "WAVE", "PATTERN", "DATA",
                     "METHOD", "COPY", "DOWNTIME", "GRAVITY");
  for (const auto& p : plan.workloads) {
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
    out += fmt::format(
        "{:<{}}  {:<10}  {:>4}  {:>4}  {:<22}  {:>8}  {:<21}  {:>9}  {:>9}  {:<7}\n",
        p.workload->name.substr(0, name_width), name_width, p.strategy,
        fmt::format("{}/5", p.confidence), p.wave > 0 ? std::to_string(p.wave) : "-",
        words(p.pattern), size_text(p.total_data_gb), method,
        slowest ? (slowest->can_catch_up ? hours_text(slowest->copy_hours) : "never") : "-",
        p.data_plan.empty() ? "-" : hours_text(downtime / 60), p.gravity.level);
  }
  out += "\nWaves\n";
  for (const auto& wp : plan.waves) {
    std::vector<std::string> names;
    for (size_t m : wp.wave.members) names.push_back(plan.workloads[m].workload->name);
    out += fmt::format("  {:>2}  {:<21}  day {:>4.0f} +{:>3.0f}  {:>8}  {}\n", wp.wave.index,
                       wp.label, wp.wave.start_day, wp.wave.duration_days,
                       size_text(wp.wave.data_tb * 1000), join(names, ", "));
  }
  std::vector<std::string> staying;
  for (const auto& p : plan.workloads) {
    if (p.wave == 0) staying.push_back(p.workload->name + " (" + p.strategy + ")");
  }
  if (!staying.empty()) out += fmt::format("  not moving: {}\n", join(staying, ", "));
  if (!plan.critical_path.empty()) {
    out += fmt::format("\nCritical path ({:.0f} days): {}\n", plan.critical_path_days,
                       path_text(plan.critical_path));
  }
  if (!plan.warnings.empty()) {
    out += fmt::format("\nWarnings ({})\n", plan.warnings.size());
    for (const auto& w : plan.warnings) out += "  - " + w + "\n";
  }
  return out;
}

}  // namespace ferry::assess
