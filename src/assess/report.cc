#include "assess/report.h"

#include <fmt/format.h>

namespace ferry::assess {

std::optional<ReportFormat> parse_report_format(const std::string& name) {
  if (name == "table") return ReportFormat::kTable;
  if (name == "markdown" || name == "md") return ReportFormat::kMarkdown;
  if (name == "json") return ReportFormat::kJson;
  if (name == "html") return ReportFormat::kHtml;
  return std::nullopt;
}

std::string render(const Plan& plan, ReportFormat format) {
  switch (format) {
    case ReportFormat::kTable: return render_table(plan);
    case ReportFormat::kMarkdown: return render_markdown(plan);
    case ReportFormat::kJson: return render_json(plan);
    case ReportFormat::kHtml: return render_html(plan);
  }
  return "";
}

std::string duration_text(double hours) {
  if (hours < 1) return fmt::format("{:.0f} min", hours * 60);
  if (hours < 48) return fmt::format("{:.1f} h", hours);
  return fmt::format("{:.1f} days", hours / 24);
}

}  // namespace ferry::assess
