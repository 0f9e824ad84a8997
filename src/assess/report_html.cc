#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "assess/report.h"
#include "core/text.h"

namespace ferry::assess {

namespace {

// Beyond this many workloads the drawing stops being readable; the page keeps
// the tables and says so.
constexpr size_t kMaxGraphNodes = 400;

const char* strategy_color(const std::string& s) {
  if (s == "rehost") return "#4e79a7";
  if (s == "replatform") return "#59a14f";
  if (s == "refactor") return "#e15759";
  if (s == "repurchase") return "#b07aa1";
  if (s == "retire") return "#9c9c9c";
  if (s == "retain") return "#f28e2b";
  return "#777";
}

constexpr const char* kStyle = R"(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1280px;color:#222;padding:0 16px}
h1{margin-bottom:4px}h2{margin-top:36px;border-bottom:1px solid #ddd;padding-bottom:4px}
.summary{display:flex;gap:16px;flex-wrap:wrap;margin:16px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:140px}
.card b{display:block;font-size:22px}
table{border-collapse:collapse;width:100%;margin:8px 0}
th,td{border:1px solid #e2e2e2;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f6f6}
.s{display:inline-block;padding:1px 7px;border-radius:9px;color:#fff;font-size:12px}
.legend span{margin-right:14px}
svg text{font:12px system-ui,sans-serif}
details{margin:4px 0 10px}summary{cursor:pointer}
.warn{color:#a33}
.scroll{overflow-x:auto;border:1px solid #eee}
td.d{white-space:nowrap}
)";

std::string badge(const std::string& strategy) {
  return fmt::format("<span class=\"s\" style=\"background:{}\">{}</span>",
                     strategy_color(strategy), html_escape(strategy));
}

void graph_svg(const Plan& plan, std::string& out) {
  const size_t n = plan.workloads.size();
  if (n > kMaxGraphNodes) {
    out += fmt::format(
        "<p>The estate has {} workloads; the graph is drawn for at most {}. The tables below "
        "hold the full plan.</p>\n",
        n, kMaxGraphNodes);
    return;
  }
  // Columns: one per wave, then one for workloads that do not move.
  const int columns = static_cast<int>(plan.waves.size()) + 1;
  std::vector<int> column_of(n), row_of(n);
  std::vector<int> rows(columns, 0);
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < n; ++i) {
    const int c = plan.workloads[i].wave > 0 ? plan.workloads[i].wave - 1 : columns - 1;
    column_of[i] = c;
    row_of[i] = rows[c]++;
    index[plan.workloads[i].workload->name] = i;
  }
  const int box_w = 150, box_h = 26, col_w = 200, row_h = 40, top = 40, left = 20;
  const int height = top + (*std::max_element(rows.begin(), rows.end())) * row_h + 20;
  const int width = left + columns * col_w;
  auto x_of = [&](size_t i) { return left + column_of[i] * col_w; };
  auto y_of = [&](size_t i) { return top + row_of[i] * row_h; };
  out += fmt::format(
      "<div class=\"scroll\"><svg id=\"dependency-graph\" xmlns=\"http://www.w3.org/2000/svg\" "
      "width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\">\n",
      width, height, width, height);
  out +=
      "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" "
      "markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" "
      "fill=\"#888\"/>"
      "</marker></defs>\n";
  for (int c = 0; c < columns; ++c) {
    const std::string label =
        c + 1 < columns ? fmt::format("Wave {}: {}", c + 1, plan.waves[c].label) : "not moving";
    out += fmt::format("<text x=\"{}\" y=\"20\" font-weight=\"bold\">{}</text>\n", left + c * col_w,
                       html_escape(label));
  }
  // Edges first so boxes sit on top. An arrow points from a workload to what it depends on.
  for (size_t i = 0; i < n; ++i) {
    const Workload& w = *plan.workloads[i].workload;
    auto edge = [&](const std::string& dep, bool soft) {
      const size_t j = index.at(dep);
      const bool cyclic =
          plan.workloads[i].cycle >= 0 && plan.workloads[i].cycle == plan.workloads[j].cycle;
      double x1 = x_of(i), y1 = y_of(i) + box_h / 2.0;
      double x2 = x_of(j) + box_w, y2 = y_of(j) + box_h / 2.0;
      double bend = std::max(40.0, (x1 - x2) / 2);
      if (column_of[i] == column_of[j]) {  // same wave: loop out to the left
        x2 = x_of(j);
        bend = -60;
      } else if (column_of[i] < column_of[j]) {  // dependency later (only for workloads not moving)
        x1 = x_of(i) + box_w;
        x2 = x_of(j);
        bend = -std::max(40.0, (x2 - x1) / 2);
      }
      out += fmt::format(
          "<path class=\"edge\" d=\"M{:.0f},{:.0f} C{:.0f},{:.0f} {:.0f},{:.0f} {:.0f},{:.0f}\" "
          "fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"{} marker-end=\"url(#arrow)\"/>\n",
          x1, y1, x1 - bend, y1, x2 + bend, y2, x2, y2, cyclic ? "#d62728" : "#999", cyclic ? 2 : 1,
          soft ? " stroke-dasharray=\"4 3\"" : "");
    };
    for (const auto& d : w.depends_on) edge(d.name, false);
    for (const auto& d : w.depends_on_soft) edge(d.name, true);
  }
  for (size_t i = 0; i < n; ++i) {
    const auto& p = plan.workloads[i];
    out += fmt::format(
        "<g class=\"node\" data-name=\"{}\"><title>{}: {} (confidence {}/5)</title>"
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"5\" fill=\"{}\"/>"
        "<text x=\"{}\" y=\"{}\" fill=\"#fff\">{}</text></g>\n",
        html_escape(p.workload->name), html_escape(p.workload->name), html_escape(p.strategy),
        p.confidence, x_of(i), y_of(i), box_w, box_h, strategy_color(p.strategy), x_of(i) + 8,
        y_of(i) + 17, html_escape(p.workload->name.substr(0, 21)));
  }
  out += "</svg></div>\n<p class=\"legend\">";
  for (const char* s : {"rehost", "replatform", "refactor", "repurchase", "retire", "retain"}) {
    out += fmt::format("<span>{}</span>", badge(s));
  }
  out +=
      "<span>solid arrow: hard dependency</span><span>dashed: soft</span>"
      "<span style=\"color:#d62728\">red: dependency cycle</span></p>\n";
}

void workload_sections(const Plan& plan, std::string& out) {
  for (const auto& p : plan.workloads) {
    const Workload& w = *p.workload;
    out += fmt::format("<details id=\"w-{}\"><summary><b>{}</b> {} confidence {}/5, {}</summary>\n",
                       html_escape(w.name), html_escape(w.name), badge(p.strategy), p.confidence,
                       p.wave > 0 ? fmt::format("wave {}", p.wave) : "not moving");
    out += "<ul>";
    for (const auto& r : p.reasons) out += "<li>" + html_escape(r) + "</li>";
    out += "</ul>";
    for (const auto& [name, result] : p.decisions) {
      out += fmt::format(
          "<p><b>{}</b> = {}</p><table><tr><th>Rule</th><th>Votes</th><th>Inputs read</th></tr>",
          html_escape(name), html_escape(result.choice));
      for (const auto& vote : result.fired) {
        std::vector<std::string> votes, inputs;
        for (const auto& [option, weight] : vote.rule->votes)
          votes.push_back(fmt::format("{} {:+g}", option, weight));
        for (const auto& in : vote.inputs)
          inputs.push_back(std::string(in.fact) + "=" + in.value +
                           (in.assumed ? " (assumed)" : ""));
        out += fmt::format("<tr><td>{}<br><small>{}</small></td><td>{}</td><td>{}</td></tr>",
                           html_escape(vote.rule->id), html_escape(vote.because),
                           html_escape(join(votes, ", ")), html_escape(join(inputs, ", ")));
      }
      out += "</table>\n";
    }
    if (!p.data_plan.empty()) {
      out +=
          "<table><tr><th>Store</th><th>Method</th><th>Copy</th><th>Downtime</th><th>Why</th></tr>";
      for (const auto& d : p.data_plan) {
        out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                           html_escape(d.store), html_escape(method_label(d.method)),
                           html_escape(copy_text(d)), hours_text(d.downtime_minutes / 60),
                           html_escape(d.why));
      }
      out += "</table>";
    }
    if (!p.risks.empty()) {
      out +=
          "<table><tr><th>Severity</th><th>Likelihood x impact</th><th>Risk</th><th>Owner</th>"
          "<th>Mitigation</th></tr>";
      for (const auto& r : p.risks) {
        out += fmt::format("<tr><td>{}</td><td>{} x {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                           html_escape(r.severity), r.likelihood, r.impact, html_escape(r.title),
                           html_escape(r.owner),
                           r.mitigated ? "<b>mitigated</b>: " + html_escape(r.mitigated_by)
                                       : html_escape(r.mitigation));
      }
      out += "</table>";
    }
    out += "</details>\n";
  }
}

}  // namespace

std::string render_html(const Plan& plan) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>ferry assess: migration plan</title><style>";
  out += kStyle;
  out +=
      "</style></head><body>\n<h1>Migration plan</h1>\n<p>Generated by <code>ferry assess</code>. "
      "Every "
      "decision shows the rules that made it and the inputs they read.</p>\n";
  std::map<std::string, int> by_strategy;
  for (const auto& p : plan.workloads) ++by_strategy[p.strategy];
  out += "<div class=\"summary\">";
  out += fmt::format("<div class=\"card\"><b>{}</b>workloads</div>", plan.workloads.size());
  out += fmt::format("<div class=\"card\"><b>{}</b>waves</div>", plan.waves.size());
  out += fmt::format("<div class=\"card\"><b>{:.1f} TB</b>data</div>", plan.total_data_tb);
  out += fmt::format("<div class=\"card\"><b>{}</b>start{}</div>", date_text(plan, 0),
                     plan.start_assumed ? " (assumed)" : "");
  out += fmt::format("<div class=\"card\"><b>{}</b>sources decommissioned</div>",
                     date_text(plan, std::max(0, plan.schedule.end - 1)));
  out += fmt::format("<div class=\"card\"><b>{}</b>working days</div>", plan.schedule.end);
  for (const auto& [strategy, count] : by_strategy) {
    out += fmt::format("<div class=\"card\"><b>{}</b>{}</div>", count, badge(strategy));
  }
  out += "</div>\n";
  if (!plan.what_if_settings.empty()) {
    out += fmt::format(
        "<h2>What if</h2>\n<p>This plan was made with <code>{}</code>. Compared with the "
        "inventory's own settings:</p>\n<table><tr><th>Subject</th><th>Change</th><th>Before</th>"
        "<th>After</th></tr>\n",
        html_escape(join(plan.what_if_settings, " ")));
    for (const auto& c : plan.what_if_changes) {
      out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                         html_escape(c.subject), html_escape(c.field), html_escape(c.before),
                         html_escape(c.after));
    }
    out += "</table>\n";
  }
  out += "<h2>Dependency graph</h2>\n";
  graph_svg(plan, out);
  out += "<h2>Schedule</h2>\n";
  out += fmt::format("<p>{}. <b>Critical path:</b> {}</p>\n", html_escape(programme_text(plan)),
                     html_escape(critical_path_text(plan)));
  out += gantt_svg(plan);
  out +=
      "<table><tr><th>Wave</th><th>Group</th><th>Cutover</th><th>Source off</th><th>Data</th>"
      "<th>Workloads</th><th>Top risks</th></tr>\n";
  for (size_t i = 0; i < plan.waves.size(); ++i) {
    const WavePlan& wp = plan.waves[i];
    const WaveTimes& t = plan.schedule.waves[i];
    std::vector<std::string> names, risks;
    for (size_t m : wp.wave.members) {
      const std::string& name = plan.workloads[m].workload->name;
      names.push_back(
          fmt::format("<a href=\"#w-{}\">{}</a>", html_escape(name), html_escape(name)));
    }
    // Its three most severe open risks (mitigated ones sort last).
    for (size_t r = 0; r < wp.risks.size() && risks.size() < 3; ++r) {
      if (!wp.risks[r].mitigated)
        risks.push_back(
            fmt::format("<b>{}</b> {}", wp.risks[r].severity, html_escape(wp.risks[r].title)));
    }
    out += fmt::format(
        "<tr><td>{}</td><td>{}</td><td class=\"d\">{}</td><td "
        "class=\"d\">{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td></tr>\n",
        wp.wave.index, html_escape(wp.label), span_text(plan, t.cutover_start, t.cutover_end),
        date_text(plan, t.decommission_end - 1), size_text(wp.wave.data_tb * 1000),
        join(names, ", "), join(risks, "<br>"));
  }
  out += "</table>\n";
  out += "<h2>Workloads and their decisions</h2>\n";
  workload_sections(plan, out);
  out += "<h2>Warnings</h2>\n<ul>";
  if (plan.warnings.empty()) out += "<li>None.</li>";
  for (const auto& w : plan.warnings) out += "<li class=\"warn\">" + html_escape(w) + "</li>";
  out += "</ul>\n</body></html>\n";
  return out;
}

}  // namespace ferry::assess
