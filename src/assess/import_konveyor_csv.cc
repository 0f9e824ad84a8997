#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include "assess/importers.h"
#include "core/csv.h"
#include "core/text.h"

namespace ferry::assess {

namespace {

// Konveyor's hub reads the import by position; header names changed between
// releases ("Tag Type N" vs "Tag Category N"; Owner/Contributors added), so
// columns are found by name with the documented positions as fallback.
struct Columns {
  size_t record_type = 0, name = 1, description = 2, comments = 3, business_service = 4,
         dependency = 5, direction = 6;
  std::optional<size_t> owner;
  size_t first_tag = 15;  // first "Tag Category", then "Tag", alternating
};

Columns find_columns(const CsvTable& t) {
  Columns c;
  auto pick = [&](std::string_view name, size_t& into) {
    if (auto i = t.column(name)) into = *i;
  };
  if (auto i = t.column("Record Type 1"))
    c.record_type = *i;
  else if (auto j = t.column("Record Type"))
    c.record_type = *j;
  pick("Application Name", c.name);
  pick("Description", c.description);
  pick("Comments", c.comments);
  pick("Business Service", c.business_service);
  pick("Dependency", c.dependency);
  pick("Dependency Direction", c.direction);
  c.owner = t.column("Owner");
  if (auto contributors = t.column("Contributors"))
    c.first_tag = *contributors + 1;
  else if (c.owner)
    c.first_tag = *c.owner + 1;
  for (size_t i = 0; i < t.header.size(); ++i) {
    const std::string h = normalize_name(t.header[i]);
    if (h.starts_with("tagcategory") || h.starts_with("tagtype")) {
      c.first_tag = i;
      break;
    }
  }
  return c;
}

std::string person_name(const std::string& cell) {
  // "Maria Lopez <maria.lopez@acme.example>" -> "Maria Lopez"
  return std::string(trim(std::string_view(cell).substr(0, cell.find('<'))));
}

}  // namespace

std::vector<Workload> import_konveyor_csv(const CsvTable& table, const std::string& path,
                                          Diagnostics& diags) {
  std::vector<Workload> out;
  const Columns col = find_columns(table);
  std::unordered_map<std::string, size_t> by_name;
  std::vector<const CsvRow*> dependency_rows;

  for (const auto& row : table.rows) {
    auto cell = [&](size_t i) { return row.cell(i); };
    const SourceLocation where{path, row.line, 0};
    const std::string type = cell(col.record_type);
    if (type == "2") {
      dependency_rows.push_back(&row);
      continue;
    }
    if (type != "1") {
      diags.error(
          where,
          fmt::format("Record Type: '{}' is neither 1 (application) nor 2 (dependency)", type));
      continue;
    }
    Workload w;
    w.where = where;
    w.name = cell(col.name);
    if (w.name.empty()) {
      diags.error(where, "Application Name: required on record type 1");
      continue;
    }
    if (auto problem = name_problem(w.name); !problem.empty()) {
      diags.error(where, "Application Name: " + problem);
      continue;
    }
    if (auto d = cell(col.description); !d.empty()) w.description = d;
    if (col.owner) {
      if (auto owner = person_name(cell(*col.owner)); !owner.empty()) w.owner = owner;
    }
    if (auto service = cell(col.business_service); !service.empty()) {
      w.tags.push_back("Business Service/" + service);
    }
    std::vector<std::string> technology;
    for (size_t i = col.first_tag; i + 1 < row.cells.size(); i += 2) {
      const std::string category = cell(i), tag = cell(i + 1);
      if (tag.empty()) continue;
      w.tags.push_back(category.empty() ? tag : category + "/" + tag);
      const std::string c = normalize_name(category);
      if (c == "language" || c == "runtime" || c == "framework") technology.push_back(tag);
    }
    if (!technology.empty()) w.technology = join(technology, ", ");
    w.sources.push_back(path);
    if (by_name.count(w.name)) {
      diags.error(where, fmt::format("duplicate application '{}' (first at {})", w.name,
                                     out[by_name[w.name]].where.to_string()));
      continue;
    }
    by_name.emplace(w.name, out.size());
    out.push_back(std::move(w));
  }

  // Type 2 rows: "southbound" means the application depends on the dependency;
  // "northbound" means the dependency depends on (calls into) the application.
  for (const CsvRow* row : dependency_rows) {
    auto cell = [&](size_t i) { return row->cell(i); };
    const SourceLocation where{path, row->line, 0};
    const std::string app = cell(col.name), dependency = cell(col.dependency);
    const std::string direction = to_lower(cell(col.direction));
    if (app.empty() || dependency.empty()) {
      diags.error(where, "record type 2 needs both Application Name and Dependency");
      continue;
    }
    static const std::vector<std::string> kDirections{"northbound", "southbound"};
    if (direction != "northbound" && direction != "southbound") {
      diags.error(
          where,
          fmt::format(
              "Dependency Direction: unknown value '{}'{}; expected northbound or southbound",
              cell(col.direction), did_you_mean_hint(direction, kDirections)));
      continue;
    }
    const std::string& dependent = direction == "southbound" ? app : dependency;
    const std::string& depended_on = direction == "southbound" ? dependency : app;
    auto it = by_name.find(dependent);
    if (it == by_name.end()) {
      diags.error(where,
                  fmt::format("application '{}' has no record type 1 row in this file", dependent));
      continue;
    }
    auto& deps = out[it->second].depends_on;
    if (std::none_of(deps.begin(), deps.end(),
                     [&](const Dependency& d) { return d.name == depended_on; })) {
      deps.push_back({depended_on, where, false});
    }
  }
  if (out.empty() && !diags.has_errors())
    diags.error({path, 0, 0}, "no applications (record type 1 rows)");
  return out;
}

}  // namespace ferry::assess
