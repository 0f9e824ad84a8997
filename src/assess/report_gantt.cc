// The schedule as a Gantt chart: an SVG for the HTML page and a Mermaid
// `gantt` block for the markdown. One row per wave (build, copy, cutover,
// hypercare, decommissioning), critical tasks outlined.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "assess/report.h"
#include "core/text.h"

namespace ferry::assess {

namespace {

// Beyond this many waves a chart stops being readable; the CSV and JSON
// have every task.
constexpr size_t kMaxChartWaves = 60;

// What a wave's row shows, and whether each part is on the critical path.
struct WaveRow {
  bool build_critical = false, sync_critical = false, wait_critical = false,
       cutover_critical = false, hypercare_critical = false, decommission_critical = false;
};

std::vector<WaveRow> wave_rows(const Plan& plan) {
  std::vector<WaveRow> rows(plan.waves.size());
  for (const auto& task : plan.schedule.tasks) {
    if (!task.critical || task.wave <= 0) continue;
    WaveRow& row = rows[static_cast<size_t>(task.wave - 1)];
    switch (task.kind) {
      case TaskKind::kBuild:
        row.build_critical = true;
        break;
      case TaskKind::kSync:
        row.sync_critical = true;
        break;
      case TaskKind::kFreeze:
        row.wait_critical = true;
        break;
      case TaskKind::kCutover:
        row.cutover_critical = true;
        break;
      case TaskKind::kHypercare:
        row.hypercare_critical = true;
        break;
      case TaskKind::kDecommission:
        row.decommission_critical = true;
        break;
      case TaskKind::kMobilisation:
        break;
    }
  }
  return rows;
}

bool mobilisation_critical(const Plan& plan) {
  return !plan.schedule.tasks.empty() && plan.schedule.tasks.front().critical;
}

const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

}  // namespace

std::string gantt_svg(const Plan& plan) {
  const Schedule& s = plan.schedule;
  const size_t shown = std::min(plan.waves.size(), kMaxChartWaves);
  const int width = 1100, label_w = 210, row_h = 26, bar_h = 16, top = 24;
  const double scale = (width - label_w - 20) / std::max(1.0, double(s.end));
  const int height = top + static_cast<int>(shown + 1) * row_h + 30;
  auto x_of = [&](int day) { return label_w + day * scale; };
  std::string out = fmt::format(
      "<svg id=\"gantt\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "role=\"img\" aria-label=\"schedule\">\n",
      width, height);
  // Month ticks: a line where a month's first working day falls.
  const auto month_of = [&](int day) {
    const std::chrono::year_month_day ymd{
        std::chrono::sys_days(std::chrono::days(date_of(plan, day).days))};
    return std::make_pair(static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()));
  };
  const int label_every = std::max(1, static_cast<int>(s.end / 21.7 / 14) + 1);
  int month_index = 0;
  for (int day = 0; day <= s.end; ++day) {
    if (day > 0 && month_of(day) == month_of(day - 1)) continue;
    const auto [year, month] = month_of(day);
    out +=
        fmt::format("<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#eee\"/>",
                    x_of(day), top - 6, height - 24);
    if (month_index++ % label_every == 0) {
      out += fmt::format("<text x=\"{:.1f}\" y=\"{}\" fill=\"#666\">{} {}</text>", x_of(day) + 2,
                         top - 10, kMonths[month - 1], year);
    }
  }
  for (const ScheduleFreeze& z : plan.schedule_options.freezes) {
    out += fmt::format(
        "<rect class=\"freeze-band\" x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" "
        "fill=\"#f3e6f3\"><title>change freeze: {} ({})</title></rect>",
        x_of(z.start), top - 6, std::max(1.5, (z.end - z.start) * scale), height - top - 18,
        html_escape(z.why), span_text(plan, z.start, z.end));
  }
  out += "\n";
  auto bar = [&](const char* kind, int y, int start, int end, const char* color, bool critical,
                 const std::string& title, int height_px) {
    if (end <= start) return;
    out += fmt::format(
        "<rect class=\"{}{}\" x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" rx=\"2\" "
        "fill=\"{}\"{}><title>{}: {} ({} working day{})</title></rect>",
        kind, critical ? " critical" : "", x_of(start), y, std::max(1.5, (end - start) * scale),
        height_px, color, critical ? " stroke=\"#d62728\" stroke-width=\"2\"" : "",
        html_escape(title), span_text(plan, start, end), end - start, end - start == 1 ? "" : "s");
  };
  int y = top;
  out += fmt::format("<text x=\"0\" y=\"{}\">Mobilisation</text>", y + 13);
  bar("mobilisation", y, 0, plan.schedule_options.mobilisation_days, "#bab0ac",
      mobilisation_critical(plan), "mobilisation (landing zone, link, tooling)", bar_h);
  out += "\n";
  const std::vector<WaveRow> rows = wave_rows(plan);
  for (size_t i = 0; i < shown; ++i) {
    y += row_h;
    const WavePlan& wp = plan.waves[i];
    const WaveTimes& t = s.waves[i];
    const WaveRow& row = rows[i];
    out += fmt::format("<text x=\"0\" y=\"{}\">Wave {} {} ({})</text>", y + 13, wp.wave.index,
                       html_escape(wp.label), wp.wave.members.size());
    bar("build", y, t.build_start, t.build_end, "#a0cbe8", row.build_critical,
        fmt::format("wave {} builds", wp.wave.index), bar_h);
    if (t.sync_start >= 0) {
      bar("copy", y + bar_h - 5, t.sync_start, t.sync_end, "#76b7b2", row.sync_critical,
          fmt::format("wave {} data copies", wp.wave.index), 5);
    }
    if (t.wait_start >= 0) {
      bar("freeze", y, t.wait_start, t.cutover_start, "#d7b5d8", row.wait_critical,
          fmt::format("wave {} waits for a change freeze", wp.wave.index), bar_h);
    }
    bar("cutover", y, t.cutover_start, t.cutover_end, "#4e79a7", row.cutover_critical,
        fmt::format("wave {} cutover", wp.wave.index), bar_h);
    bar("hypercare", y, t.cutover_end, t.hypercare_end, "#f28e2b", row.hypercare_critical,
        fmt::format("wave {} hypercare (source read-only)", wp.wave.index), bar_h);
    bar("decommission", y, t.hypercare_end, t.decommission_end, "#9c9c9c",
        row.decommission_critical, fmt::format("wave {} decommissioning", wp.wave.index), bar_h);
    out += "\n";
  }
  out += "</svg>\n";
  out +=
      "<p class=\"legend\"><span style=\"color:#5a9bd4\">&#9632; build</span>"
      "<span style=\"color:#76b7b2\">&#9644; data copy</span>"
      "<span style=\"color:#4e79a7\">&#9632; cutover</span>"
      "<span style=\"color:#f28e2b\">&#9632; hypercare (source read-only)</span>"
      "<span style=\"color:#9c9c9c\">&#9632; decommissioning</span>"
      "<span style=\"color:#b58bb6\">&#9632; waiting for / during a change freeze</span>"
      "<span style=\"color:#d62728\">&#9633; critical path</span></p>\n";
  if (shown < plan.waves.size()) {
    out += fmt::format(
        "<p>The chart shows the first {} of {} waves; the CSV (<code>--format csv</code>) and "
        "JSON have every task.</p>\n",
        shown, plan.waves.size());
  }
  return out;
}

std::string gantt_mermaid(const Plan& plan) {
  const Schedule& s = plan.schedule;
  std::string out =
      "```mermaid\ngantt\n    title Migration schedule (working days)\n    dateFormat "
      "YYYY-MM-DD\n    excludes weekends";
  // Holidays are not working days either: the chart's days count as ferry's.
  for (const CalendarDate& h : plan.calendar.holidays()) out += ", " + iso_text(h);
  out += "\n";
  auto task = [&](const std::string& name, bool critical, const std::string& id, int start,
                  int end) {
    if (end <= start) return;
    out += fmt::format("    {} :{}{}, {}, {}d\n", name, critical ? "crit, " : "", id,
                       date_text(plan, start), end - start);
  };
  out += "    section Mobilisation\n";
  task("Landing zone, link, tooling", mobilisation_critical(plan), "mobilisation", 0,
       plan.schedule_options.mobilisation_days);
  if (!plan.schedule_options.freezes.empty()) {
    out += "    section Change freezes\n";
    for (size_t f = 0; f < plan.schedule_options.freezes.size(); ++f) {
      const ScheduleFreeze& z = plan.schedule_options.freezes[f];
      // Mermaid reads a colon as the start of the task's data.
      std::string why = z.why;
      for (char& c : why) c = (c == ':' || c == ';' || c == '#') ? ' ' : c;
      out += fmt::format("    {} :freeze{}, {}, {}d\n", why, f, date_text(plan, z.start),
                         std::max(1, z.end - z.start));
    }
  }
  const std::vector<WaveRow> rows = wave_rows(plan);
  const size_t shown = std::min(plan.waves.size(), kMaxChartWaves);
  for (size_t i = 0; i < shown; ++i) {
    const WavePlan& wp = plan.waves[i];
    const WaveTimes& t = s.waves[i];
    const WaveRow& row = rows[i];
    const int w = wp.wave.index;
    out += fmt::format("    section Wave {} {}\n", w, wp.label);
    task(fmt::format("Build {} workload{}", wp.wave.members.size(),
                     wp.wave.members.size() == 1 ? "" : "s"),
         row.build_critical, fmt::format("w{}build", w), t.build_start, t.build_end);
    if (t.sync_start >= 0)
      task("Copy data", row.sync_critical, fmt::format("w{}copy", w), t.sync_start, t.sync_end);
    if (t.wait_start >= 0) {
      task("Wait for the change freeze", row.wait_critical, fmt::format("w{}freeze", w),
           t.wait_start, t.cutover_start);
    }
    task("Cutover", row.cutover_critical, fmt::format("w{}cutover", w), t.cutover_start,
         t.cutover_end);
    task("Hypercare, source read-only", row.hypercare_critical, fmt::format("w{}hypercare", w),
         t.cutover_end, t.hypercare_end);
    task("Decommission source", row.decommission_critical, fmt::format("w{}decommission", w),
         t.hypercare_end, t.decommission_end);
  }
  out += "```\n";
  if (shown < plan.waves.size()) {
    out += fmt::format(
        "\nThe chart shows the first {} of {} waves; the CSV (`--format csv`) and JSON have "
        "every task.\n",
        shown, plan.waves.size());
  }
  return out;
}

}  // namespace ferry::assess
