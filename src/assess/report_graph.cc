// The dependency graph for the HTML page: a column per wave (tinted by the
// wave's kind), a box per workload (coloured by its strategy), and edges
// routed orthogonally through the gaps between columns and the channels
// between rows, so that no edge crosses a box. The page scales it to its
// width; the wheel zooms and a drag pans (a few lines of script).
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

constexpr int kBoxW = 150, kBoxH = 26, kGap = 64, kChannel = 18, kTop = 44, kLeft = 56;
constexpr int kColW = kBoxW + kGap, kRowH = kBoxH + kChannel;

const char* band_color(const std::string& label, int column) {
  if (label == "pilot") return "#e8f4e4";
  if (label == "shared infrastructure") return "#fdf0e1";
  if (label == "not moving") return "#f0f0f0";
  return column % 2 == 0 ? "#eaf1f8" : "#f4f7fb";
}

const char* label_color(const std::string& label) {
  if (label == "pilot") return "#3d7a32";
  if (label == "shared infrastructure") return "#b0600e";
  if (label == "not moving") return "#666";
  return "#2f5d8a";
}

// Spreads the lines that share a gap or a channel a few pixels apart.
class Lanes {
 public:
  explicit Lanes(int spread, int step) : spread_(spread), step_(step) {}
  int next(int key) {
    const int k = used_[key]++;
    return ((k % spread_) - spread_ / 2) * step_;
  }

 private:
  int spread_, step_;
  std::map<int, int> used_;
};

// The drawing's geometry: where each workload's box is.
struct Layout {
  std::vector<int> column, row;
  int columns = 0;
  int max_rows = 0;
  int left_of_column(int c) const { return kLeft + c * kColW; }
  double x(size_t i) const { return left_of_column(column[i]); }
  double y(size_t i) const { return kTop + row[i] * kRowH; }
  double mid_y(size_t i) const { return y(i) + kBoxH / 2.0; }
  // The vertical lane left of column c, and the horizontal channel above row r.
  double gap_x(int c) const { return left_of_column(c) - kGap / 2.0; }
  double channel_y(int r) const { return kTop + r * kRowH - kChannel / 2.0; }
};

Layout lay_out(const Plan& plan) {
  Layout l;
  const size_t n = plan.workloads.size();
  l.columns = static_cast<int>(plan.waves.size()) + 1;
  l.column.resize(n);
  l.row.resize(n);
  std::vector<int> rows(l.columns, 0);
  for (size_t i = 0; i < n; ++i) {
    const int c = plan.workloads[i].wave > 0 ? plan.workloads[i].wave - 1 : l.columns - 1;
    l.column[i] = c;
    l.row[i] = rows[c]++;
  }
  l.max_rows = *std::max_element(rows.begin(), rows.end());
  return l;
}

// The points of an edge from workload i to what it depends on, j: out of
// i's side into the gap beside its column, along the channel next to j's row
// when it must cross columns, down the gap beside j's column, into j.
std::vector<std::pair<double, double>> route(const Layout& l, size_t i, size_t j, Lanes& gaps,
                                             Lanes& channels) {
  const int ci = l.column[i], cj = l.column[j];
  std::vector<std::pair<double, double>> points;
  if (ci == cj) {  // same wave: out of the left side and back in
    const double gx = l.gap_x(ci) + gaps.next(ci) / 2.0;
    return {{l.x(i), l.mid_y(i)}, {gx, l.mid_y(i)}, {gx, l.mid_y(j)}, {l.x(j), l.mid_y(j)}};
  }
  const bool leftwards = cj < ci;  // the usual case: dependencies move first
  const double start_x = leftwards ? l.x(i) : l.x(i) + kBoxW;
  const double end_x = leftwards ? l.x(j) + kBoxW : l.x(j);
  const int start_gap = leftwards ? ci : ci + 1;
  const int end_gap = leftwards ? cj + 1 : cj;
  const double gx1 = l.gap_x(start_gap) + gaps.next(start_gap);
  if (start_gap == end_gap) {  // neighbouring columns share the gap between them
    return {{start_x, l.mid_y(i)}, {gx1, l.mid_y(i)}, {gx1, l.mid_y(j)}, {end_x, l.mid_y(j)}};
  }
  const double gx2 = l.gap_x(end_gap) + gaps.next(end_gap);
  // The channel on the side of j's row that faces i's row.
  const int channel_row = l.row[j] + (l.row[i] > l.row[j] ? 1 : 0);
  const double cy = l.channel_y(channel_row) + channels.next(channel_row) / 2.0;
  return {{start_x, l.mid_y(i)}, {gx1, l.mid_y(i)},  {gx1, cy}, {gx2, cy},
          {gx2, l.mid_y(j)},     {end_x, l.mid_y(j)}};
}

constexpr const char* kPanZoom = R"(<script>
(function () {
  var svg = document.getElementById('dependency-graph');
  if (!svg) return;
  var full = svg.viewBox.baseVal, box = {x: full.x, y: full.y, w: full.width, h: full.height};
  var home = {x: box.x, y: box.y, w: box.w, h: box.h};
  function show() { svg.setAttribute('viewBox', box.x + ' ' + box.y + ' ' + box.w + ' ' + box.h); }
  function zoom(f, cx, cy) {
    var w = Math.min(home.w * 2, Math.max(home.w / 8, box.w * f)), k = w / box.w;
    box.x = cx - (cx - box.x) * k; box.y = cy - (cy - box.y) * k; box.w = w; box.h = box.h * k; show();
  }
  function point(e) {
    var r = svg.getBoundingClientRect();
    return {x: box.x + (e.clientX - r.left) / r.width * box.w, y: box.y + (e.clientY - r.top) / r.height * box.h};
  }
  svg.addEventListener('wheel', function (e) {
    e.preventDefault(); var p = point(e); zoom(e.deltaY > 0 ? 1.15 : 1 / 1.15, p.x, p.y);
  }, {passive: false});
  var drag = null;
  svg.addEventListener('mousedown', function (e) { drag = {x: e.clientX, y: e.clientY}; });
  window.addEventListener('mouseup', function () { drag = null; });
  window.addEventListener('mousemove', function (e) {
    if (!drag) return;
    var r = svg.getBoundingClientRect();
    box.x -= (e.clientX - drag.x) / r.width * box.w; box.y -= (e.clientY - drag.y) / r.height * box.h;
    drag = {x: e.clientX, y: e.clientY}; show();
  });
  document.querySelectorAll('[data-zoom]').forEach(function (b) {
    b.addEventListener('click', function () {
      var z = b.getAttribute('data-zoom');
      if (z === 'fit') { box = {x: home.x, y: home.y, w: home.w, h: home.h}; show(); }
      else zoom(z === 'in' ? 1 / 1.3 : 1.3, box.x + box.w / 2, box.y + box.h / 2);
    });
  });
  // Hovering a workload lights up its edges.
  svg.querySelectorAll('.node').forEach(function (n) {
    var name = n.getAttribute('data-name');
    function mark(on) {
      svg.querySelectorAll('.edge').forEach(function (e) {
        if (e.getAttribute('data-from') === name || e.getAttribute('data-to') === name)
          e.classList.toggle('lit', on);
      });
    }
    n.addEventListener('mouseenter', function () { mark(true); });
    n.addEventListener('mouseleave', function () { mark(false); });
  });
  svg.setAttribute('data-ready', 'yes');
})();
</script>
)";

}  // namespace

std::string strategy_color(const std::string& s) {
  if (s == "rehost") return "#4e79a7";
  if (s == "replatform") return "#59a14f";
  if (s == "refactor") return "#e15759";
  if (s == "repurchase") return "#b07aa1";
  if (s == "retire") return "#9c9c9c";
  if (s == "retain") return "#f28e2b";
  return "#777";
}

std::string graph_svg(const Plan& plan) {
  const size_t n = plan.workloads.size();
  if (n > kMaxGraphNodes) {
    return fmt::format(
        "<p>The estate has {} workloads; the graph is drawn for at most {}. The tables below "
        "hold the full plan.</p>\n",
        n, kMaxGraphNodes);
  }
  const Layout l = lay_out(plan);
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < n; ++i) index[plan.workloads[i].workload->name] = i;
  const int width = kLeft + l.columns * kColW;
  const int height = kTop + l.max_rows * kRowH + kChannel;
  std::string out =
      "<div class=\"graph-tools\"><button data-zoom=\"in\">+</button><button "
      "data-zoom=\"out\">&minus;</button><button data-zoom=\"fit\">fit</button> <small>wheel "
      "to zoom, drag to pan, hover a workload to light its dependencies</small></div>\n";
  out += fmt::format(
      "<svg id=\"dependency-graph\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" "
      "width=\"100%\" preserveAspectRatio=\"xMinYMin meet\" style=\"max-height:80vh\">\n",
      width, height);
  out +=
      "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" "
      "markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" "
      "fill=\"#888\"/></marker></defs>\n";
  // Wave bands behind everything, each with its label.
  for (int c = 0; c < l.columns; ++c) {
    const std::string label = c + 1 < l.columns ? plan.waves[c].label : "not moving";
    const std::string title =
        c + 1 < l.columns ? fmt::format("Wave {}: {}", c + 1, label) : "not moving";
    out += fmt::format(
        "<rect class=\"band\" x=\"{}\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"{}\"/>"
        "<text x=\"{}\" y=\"24\" font-weight=\"bold\" fill=\"{}\">{}</text>\n",
        l.left_of_column(c) - kGap / 4, kBoxW + kGap / 2, height, band_color(label, c),
        l.left_of_column(c), label_color(label), html_escape(title));
  }
  // Edges before boxes: an arrow points from a workload to what it depends on.
  Lanes gaps(7, 4), channels(5, 3);
  for (size_t i = 0; i < n; ++i) {
    const Workload& w = *plan.workloads[i].workload;
    auto edge = [&](const std::string& dep, bool soft) {
      const size_t j = index.at(dep);
      const bool cyclic =
          plan.workloads[i].cycle >= 0 && plan.workloads[i].cycle == plan.workloads[j].cycle;
      std::string d;
      for (const auto& [x, y] : route(l, i, j, gaps, channels))
        d += fmt::format("{}{:.0f},{:.0f}", d.empty() ? "M" : " L", x, y);
      out += fmt::format(
          "<path class=\"edge{}\" data-from=\"{}\" data-to=\"{}\" d=\"{}\" fill=\"none\" "
          "stroke=\"{}\" stroke-width=\"{}\" stroke-linejoin=\"round\"{} "
          "marker-end=\"url(#arrow)\"/>\n",
          cyclic ? " cyclic" : "", html_escape(w.name), html_escape(dep), d,
          cyclic ? "#d62728" : "#8a8a8a", cyclic ? 2 : 1.2,
          soft ? " stroke-dasharray=\"4 3\"" : "");
    };
    for (const auto& d : w.depends_on) edge(d.name, false);
    for (const auto& d : w.depends_on_soft) edge(d.name, true);
  }
  for (size_t i = 0; i < n; ++i) {
    const auto& p = plan.workloads[i];
    out += fmt::format(
        "<g class=\"node\" data-name=\"{}\"><title>{}: {} (confidence {}/5)</title>"
        "<rect x=\"{:.0f}\" y=\"{:.0f}\" width=\"{}\" height=\"{}\" rx=\"5\" fill=\"{}\"/>"
        "<text x=\"{:.0f}\" y=\"{:.0f}\" fill=\"#fff\">{}</text></g>\n",
        html_escape(p.workload->name), html_escape(p.workload->name), html_escape(p.strategy),
        p.confidence, l.x(i), l.y(i), kBoxW, kBoxH, strategy_color(p.strategy), l.x(i) + 8,
        l.y(i) + 17, html_escape(p.workload->name.substr(0, 21)));
  }
  out += "</svg>\n";
  out += kPanZoom;
  return out;
}

}  // namespace ferry::assess
