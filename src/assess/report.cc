#include "assess/report.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/json_writer.h"
#include "core/text.h"

namespace ferry::assess {

std::optional<ReportFormat> parse_report_format(const std::string& name) {
  // "text" as for every other command; "table" is what it prints.
  if (name == "text" || name == "table") return ReportFormat::kTable;
  if (name == "markdown" || name == "md") return ReportFormat::kMarkdown;
  if (name == "json") return ReportFormat::kJson;
  if (name == "html") return ReportFormat::kHtml;
  if (name == "csv") return ReportFormat::kCsv;
  return std::nullopt;
}

std::string render(const Plan& plan, ReportFormat format) {
  switch (format) {
    case ReportFormat::kTable:
      return render_table(plan);
    case ReportFormat::kMarkdown:
      return render_markdown(plan);
    case ReportFormat::kJson:
      return render_json(plan);
    case ReportFormat::kHtml:
      return render_html(plan);
    case ReportFormat::kCsv:
      return render_csv(plan);
  }
  return "";
}

std::string words(const std::string& id) {
  if (id == "blue_green") return "blue-green";
  std::string out = id;
  for (char& c : out) {
    if (c == '_') c = ' ';
  }
  return out;
}

std::string size_text(double gb) {
  if (gb <= 0) return "-";
  if (gb >= 1000) return fmt::format("{:.1f} TB", gb / 1000);
  return fmt::format("{:.0f} GB", gb);
}

std::string copy_text(const DataPlanItem& item) {
  return item.can_catch_up ? hours_text(item.copy_hours) : "never (changes outpace the link)";
}

}  // namespace ferry::assess

namespace ferry::assess {

int total_build_days(const Plan& plan) {
  int days = 0;
  for (const auto& team : plan.schedule.teams) days += team.build_days;
  return days;
}

std::vector<std::string> input_files(const Plan& plan) {
  std::vector<std::string> files;
  for (const auto& p : plan.workloads) {
    for (const auto& s : p.workload->sources) {
      if (std::find(files.begin(), files.end(), s) == files.end()) files.push_back(s);
    }
  }
  return files;
}

std::string date_text(const Plan& plan, int day) { return iso_text(date_of(plan, day)); }

std::string span_text(const Plan& plan, int start, int end) {
  if (end - start <= 1) return date_text(plan, start);  // a single day
  return fmt::format("{} to {}", date_text(plan, start), date_text(plan, end - 1));
}

std::string programme_text(const Plan& plan) {
  const int days = plan.schedule.end;
  // 21.7 working days make a month (260 a year).
  return fmt::format("{}: {} working days (about {:.0f} months)", span_text(plan, 0, days), days,
                     std::max(1.0, days / 21.7));
}

std::string critical_path_text(const Plan& plan) {
  const Schedule& s = plan.schedule;
  std::vector<std::string> parts;
  for (size_t k = 0; k < s.critical_path.size();) {
    const ScheduleTask& first = s.tasks[s.critical_path[k]];
    size_t run = k + 1;  // a run of cutovers, or of builds one after another
    while (run < s.critical_path.size() && s.tasks[s.critical_path[run]].kind == first.kind &&
           (first.kind == TaskKind::kCutover || first.kind == TaskKind::kBuild))
      ++run;
    const ScheduleTask& last = s.tasks[s.critical_path[run - 1]];
    const int days = last.end - first.start;
    if (run - k == 1) {
      parts.push_back(fmt::format("{} ({} d)", task_name(plan, first), days));
    } else if (first.kind == TaskKind::kCutover) {
      parts.push_back(fmt::format("cutovers of waves {} to {}, one after another ({} d)",
                                  first.wave, last.wave, days));
    } else {
      std::vector<std::string> names;
      for (size_t t = k; t < run && names.size() < 3; ++t)
        names.push_back(plan.workloads[s.tasks[s.critical_path[t]].workload].workload->name);
      parts.push_back(fmt::format("builds {}{} one after another by {} ({} d)", join(names, ", "),
                                  run - k > 3 ? fmt::format(" and {} more", run - k - 3) : "",
                                  plan.workloads[first.workload].team, days));
    }
    k = run;
  }
  return join(parts, " → ");
}

}  // namespace ferry::assess

namespace ferry::assess {

void changes_json(JsonWriter& j, const std::vector<PlanChange>& changes) {
  j.begin_array();
  for (const auto& c : changes) {
    j.begin_object().field("subject", c.subject).field("field", c.field).key("before");
    if (c.before.empty())
      j.null();
    else
      j.value(c.before);
    j.key("after");
    if (c.after.empty())
      j.null();
    else
      j.value(c.after);
    j.end_object();
  }
  j.end_array();
}

}  // namespace ferry::assess
