// Renderings of a Plan. Each is deterministic (no clock, no randomness) so
// that golden-file tests can compare them byte for byte.
#pragma once

#include <optional>
#include <string>

#include "assess/plan.h"

namespace ferry {
class JsonWriter;
}

namespace ferry::assess {

enum class ReportFormat { kTable, kMarkdown, kJson, kHtml, kCsv };

std::optional<ReportFormat> parse_report_format(const std::string& name);

std::string render_table(const Plan& plan);     // terminal summary
std::string render_markdown(const Plan& plan);  // the plan a team reads
std::string render_json(const Plan& plan);      // for scripts; stable keys
std::string render_html(const Plan& plan);      // one self-contained page with SVG graph
std::string render_csv(const Plan& plan);       // the schedule's waves and tasks, for a tracker

std::string render(const Plan& plan, ReportFormat format);

// Shared wording for reports.
// A rules option id in words: "blue_green" -> "blue-green", "all_at_once" -> "all at once".
std::string words(const std::string& id);
std::string size_text(double gb);  // "-", "800 GB", "16.0 TB"
// How long a store takes to copy; "never" when changes outpace the link.
std::string copy_text(const DataPlanItem& item);

// Every team's build days together: the build work to budget for.
int total_build_days(const Plan& plan);

// The inventory files the plan was made from, in the order first read.
std::vector<std::string> input_files(const Plan& plan);

// The timeline in words, the same in every format.
std::string date_text(const Plan& plan, int day);  // a working day's date, "2027-03-01"
// The first and last working day of [start, end): "2027-03-01 to 2027-03-03",
// or the one date of a single day.
std::string span_text(const Plan& plan, int start, int end);
// "2027-01-04 to 2028-02-18: 290 working days (about 13 months)".
std::string programme_text(const Plan& plan);
// The critical path, runs of cutovers or of one team's builds merged:
// "mobilisation (20 d) → build recommendations (81 d) → cutovers of waves 3 to 7, one after
// another (15 d) → ..."
std::string critical_path_text(const Plan& plan);

// Changes between two plans (what-ifs, `ferry assess diff`).
std::string changes_markdown(const std::vector<PlanChange>& changes);      // a table
void changes_json(JsonWriter& j, const std::vector<PlanChange>& changes);  // an array

// The dependency graph as SVG with its pan/zoom script (report_graph.cc), and
// the colour each strategy is drawn in.
std::string graph_svg(const Plan& plan);
std::string strategy_color(const std::string& strategy);

// The schedule as a Gantt chart (report_gantt.cc): an SVG for the HTML page,
// a Mermaid `gantt` block for the markdown.
std::string gantt_svg(const Plan& plan);
std::string gantt_mermaid(const Plan& plan);

}  // namespace ferry::assess
