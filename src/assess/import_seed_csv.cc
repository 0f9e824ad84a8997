#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "assess/importers.h"
#include "assess/traffic.h"
#include "core/csv.h"
#include "core/text.h"

namespace ferry::assess {

namespace {

const std::array<const char*, 7> kColumns{"Application", "Technology", "Dependencies", "Traffic",
                                          "Data Store",  "Critical",   "Owner"};

bool is_none(const std::string& token) {
  const std::string v = normalize_name(token);
  return v.empty() || v == "none" || v == "na";
}

// Tokens of the Dependencies and Data Store columns are resolved after all
// files are loaded (see Dependency::loose).
void add_tokens(Workload& w, const std::string& cell, const SourceLocation& where) {
  for (const auto& token : split_trimmed(cell, "/;|,+")) {
    if (is_none(token)) continue;
    auto same = [&](const Dependency& d) { return d.name == token; };
    if (std::none_of(w.depends_on.begin(), w.depends_on.end(), same))
      w.depends_on.push_back({token, where, true});
  }
}

}  // namespace

std::vector<Workload> import_seed_csv(const CsvTable& table, const std::string& path,
                                      Diagnostics& diags) {
  std::vector<Workload> out;
  std::array<size_t, kColumns.size()> col{};
  bool columns_ok = true;
  for (size_t i = 0; i < kColumns.size(); ++i) {
    auto c = table.column(kColumns[i]);
    if (!c) {
      diags.error({path, 1, 0},
                  fmt::format("missing column '{}'; the inventory spreadsheet header is: {}",
                              kColumns[i], fmt::join(kColumns, ",")));
      columns_ok = false;
    } else {
      col[i] = *c;
    }
  }
  if (!columns_ok) return out;
  if (table.rows.empty()) diags.error({path, 0, 0}, "the file has a header but no applications");

  for (const auto& row : table.rows) {
    auto cell = [&](size_t i) { return row.cell(col[i]); };
    SourceLocation where{path, row.line, 0};
    Workload w;
    w.where = where;
    w.name = cell(0);
    if (auto problem = name_problem(w.name); !problem.empty()) {
      diags.error(where, "Application: " + problem);
      continue;
    }
    if (auto tech = cell(1); !tech.empty()) w.technology = tech;
    add_tokens(w, cell(2), where);
    if (auto traffic_text = cell(3); !traffic_text.empty()) {
      if (auto traffic = parse_traffic(traffic_text)) {
        w.requests_per_day = traffic->requests_per_day;
        w.active_users = traffic->active_users;
        if (traffic->scheduled) w.kind = "batch";
      } else {
        diags.warning(where,
                      fmt::format("Traffic: '{}' not understood (expected e.g. '10k req/day', "
                                  "'100 users' or 'hourly'); ignored",
                                  traffic_text));
      }
    }
    add_tokens(w, cell(4), where);
    if (auto critical = cell(5); !critical.empty()) {
      w.criticality = criticality_from_text(critical);
      if (!w.criticality) {
        diags.error(where,
                    fmt::format("Critical: unknown value '{}'{}; expected low, medium, high, "
                                "critical, yes or no",
                                critical, did_you_mean_hint(to_lower(critical), kCriticalities)));
      }
    }
    if (auto owner = cell(6); !owner.empty()) w.owner = owner;
    w.sources.push_back(path);
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace ferry::assess
