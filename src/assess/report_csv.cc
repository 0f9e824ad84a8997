// The schedule as CSV for a team's tracker (Jira, MS Project, a
// spreadsheet): one row per wave, then one per task under its wave, with
// dates, working days, predecessors and the critical path.
#include <fmt/format.h>

#include "assess/report.h"
#include "core/csv.h"
#include "core/text.h"

namespace ferry::assess {

std::string render_csv(const Plan& plan) {
  const Schedule& s = plan.schedule;
  std::string out = csv_line({"ID", "Task", "Kind", "Parent", "Wave", "Workload", "Team", "Start",
                              "Finish", "Working days", "Predecessors", "Critical"});
  auto critical = [](bool c) { return std::string(c ? "yes" : "no"); };
  for (size_t i = 0; i < plan.waves.size(); ++i) {
    const WavePlan& wp = plan.waves[i];
    const WaveTimes& t = s.waves[i];
    bool on_path = false;
    for (const auto& task : s.tasks)
      on_path = on_path || (task.wave == wp.wave.index && task.critical);
    out += csv_line({fmt::format("W{}", wp.wave.index),
                     fmt::format("Wave {}: {} ({} workload{})", wp.wave.index, wp.label,
                                 wp.wave.members.size(), wp.wave.members.size() == 1 ? "" : "s"),
                     "wave", "", std::to_string(wp.wave.index), "", "",
                     date_text(plan, std::min(t.build_start, t.cutover_start)),
                     date_text(plan, t.decommission_end - 1),
                     std::to_string(t.decommission_end - std::min(t.build_start, t.cutover_start)),
                     "", critical(on_path)});
  }
  for (size_t id = 0; id < s.tasks.size(); ++id) {
    const ScheduleTask& task = s.tasks[id];
    std::vector<std::string> after;
    for (int a : task.after) after.push_back(std::to_string(a + 1));
    out += csv_line({std::to_string(id + 1), task_name(plan, task), task_kind_name(task.kind),
                     task.wave > 0 ? fmt::format("W{}", task.wave) : "",
                     task.wave > 0 ? std::to_string(task.wave) : "",
                     task.workload >= 0 ? plan.workloads[task.workload].workload->name : "",
                     task.workload >= 0 ? plan.workloads[task.workload].team : "",
                     date_text(plan, task.start), iso_text(finish_date(plan, task)),
                     std::to_string(task.end - task.start), join(after, " "),
                     critical(task.critical)});
  }
  return out;
}

}  // namespace ferry::assess
