// Renderings of a Plan. Each is deterministic (no clock, no randomness) so
// that golden-file tests can compare them byte for byte.
#pragma once

#include <optional>
#include <string>

#include "assess/plan.h"

namespace ferry::assess {

enum class ReportFormat { kTable, kMarkdown, kJson, kHtml };

std::optional<ReportFormat> parse_report_format(const std::string& name);

std::string render_table(const Plan& plan);     // terminal summary
std::string render_markdown(const Plan& plan);  // the plan a team reads
std::string render_json(const Plan& plan);      // for scripts; stable keys
std::string render_html(const Plan& plan);      // one self-contained page with SVG graph

std::string render(const Plan& plan, ReportFormat format);

// Shared wording for reports.
// A rules option id in words: "blue_green" -> "blue-green", "all_at_once" -> "all at once".
std::string words(const std::string& id);
std::string size_text(double gb);  // "-", "800 GB", "16.0 TB"
// How long a store takes to copy; "never" when changes outpace the link.
std::string copy_text(const DataPlanItem& item);

}  // namespace ferry::assess
