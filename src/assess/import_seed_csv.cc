#include <array>

#include <fmt/format.h>

#include "assess/importers.h"
#include "assess/traffic.h"
#include "core/csv.h"
#include "core/text.h"

namespace ferry::assess {

namespace {

const std::array<const char*, 7> kColumns{"Application", "Technology", "Dependencies", "Traffic",
                                          "Data Store",  "Critical",   "Owner"};

std::optional<std::string> criticality_from(const std::string& cell) {
  const std::string v = to_lower(trim(cell));
  if (v == "yes" || v == "true") return "high";
  if (v == "no" || v == "false") return "low";
  for (const auto& c : kCriticalities) {
    if (v == c) return c;
  }
  return std::nullopt;
}

bool is_none(const std::string& token) {
  const std::string v = normalize_name(token);
  return v.empty() || v == "none" || v == "na" || v == "n/a" || v == "-";
}

// A token from the Dependencies or Data Store column: a database engine
// becomes a data store of unknown size, anything else a dependency that may
// turn out to be a cloud service.
void add_token(Workload& w, const std::string& token, SourceLocation where) {
  if (is_none(token)) return;
  if (std::string engine = canonical_engine(token); !engine.empty()) {
    for (const auto& d : w.data) {
      if (d.engine == engine) return;
    }
    w.data.push_back({w.name + "-" + engine, engine, std::nullopt, std::nullopt, where});
    return;
  }
  for (const auto& d : w.depends_on) {
    if (d.name == token) return;
  }
  w.depends_on.push_back({token, where, true});
}

}  // namespace

std::vector<Workload> import_seed_csv(std::string_view text, const std::string& path,
                                      Diagnostics& diags) {
  std::vector<Workload> out;
  auto table = parse_csv(text, path);
  if (!table) {
    diags.error({path, 0, 0}, table.error().message);
    return out;
  }
  std::array<size_t, kColumns.size()> col{};
  bool columns_ok = true;
  for (size_t i = 0; i < kColumns.size(); ++i) {
    auto c = table->column(kColumns[i]);
    if (!c) {
      diags.error({path, 1, 0}, fmt::format("missing column '{}'; the seed inventory header is: {}",
                                            kColumns[i], fmt::join(kColumns, ",")));
      columns_ok = false;
    } else {
      col[i] = *c;
    }
  }
  if (!columns_ok) return out;
  if (table->rows.empty()) diags.error({path, 0, 0}, "the file has a header but no applications");

  for (const auto& row : table->rows) {
    auto cell = [&](size_t i) -> std::string {
      return col[i] < row.cells.size() ? std::string(trim(row.cells[col[i]])) : std::string();
    };
    SourceLocation where{path, row.line, 0};
    Workload w;
    w.where = where;
    w.name = cell(0);
    if (w.name.empty()) {
      diags.error(where, "Application: empty name");
      continue;
    }
    if (auto tech = cell(1); !tech.empty()) w.technology = tech;
    for (const auto& token : split_trimmed(cell(2), "/;|,+")) add_token(w, token, where);
    if (auto traffic_text = cell(3); !traffic_text.empty()) {
      if (auto traffic = parse_traffic(traffic_text)) {
        w.requests_per_day = traffic->requests_per_day;
        w.active_users = traffic->active_users;
        if (traffic->scheduled) w.kind = "batch";
      } else {
        diags.warning(where, fmt::format("Traffic: '{}' not understood (expected e.g. '10k req/day', "
                                         "'100 users' or 'hourly'); ignored",
                                         traffic_text));
      }
    }
    for (const auto& token : split_trimmed(cell(4), "/;|,+")) {
      if (is_none(token)) continue;
      if (std::string engine = canonical_engine(token); !engine.empty()) {
        add_token(w, token, where);
      } else {
        w.cloud_services.push_back(token);
      }
    }
    if (auto critical = cell(5); !critical.empty()) {
      w.criticality = criticality_from(critical);
      if (!w.criticality) {
        diags.error(where, fmt::format("Critical: unknown value '{}'{}; expected low, medium, high, "
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
