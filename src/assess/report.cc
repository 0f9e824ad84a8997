#include "assess/report.h"

#include <fmt/format.h>

namespace ferry::assess {

std::optional<ReportFormat> parse_report_format(const std::string& name) {
  // "text" as for every other command; "table" is what it prints.
  if (name == "text" || name == "table") return ReportFormat::kTable;
  if (name == "markdown" || name == "md") return ReportFormat::kMarkdown;
  if (name == "json") return ReportFormat::kJson;
  if (name == "html") return ReportFormat::kHtml;
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
