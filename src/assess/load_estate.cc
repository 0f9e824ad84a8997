#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include "assess/importers.h"
#include "assess/tags.h"
#include "core/csv.h"
#include "core/files.h"
#include "core/text.h"

namespace ferry::assess {

namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && to_lower(s.substr(s.size() - suffix.size())) == suffix;
}

// CSV flavours are told apart by their header row.
std::optional<InventoryFormat> detect_csv(const CsvTable& table, const std::string& path,
                                          Diagnostics& diags) {
  if (table.header.empty()) {
    diags.error({path, 0, 0}, "the file is empty; expected a CSV header row");
    return std::nullopt;
  }
  if (table.column("Record Type 1") || table.column("Record Type"))
    return InventoryFormat::kKonveyorCsv;
  if (table.column("ExternalId") || table.column("Applications"))
    return InventoryFormat::kAwsDiscoveryCsv;
  if (table.column("Application")) return InventoryFormat::kSeedCsv;
  diags.error(
      {path, 1, 0},
      fmt::format("unrecognised CSV header '{}'; ferry reads: the inventory CSV "
                  "(Application,Technology,Dependencies,Traffic,Data Store,Critical,Owner), "
                  "Konveyor's application import (Record Type 1,...) and the AWS Migration "
                  "Hub import (ExternalId,...,Applications,...)",
                  join(table.header, ",")));
  return std::nullopt;
}

template <typename T>
void merge_value(std::optional<T>& into, const std::optional<T>& from, const char* field,
                 const Workload& target, const std::string& from_path, Diagnostics& warnings) {
  if (!from) return;
  if (into && !(*into == *from)) {
    warnings.warning({from_path, 0, 0},
                     fmt::format("{}.{}: this file's value replaces the one from {}", target.name,
                                 field, target.sources.front()));
  }
  into = from;
}

template <typename T, typename Key>
void unite(std::vector<T>& into, const std::vector<T>& from, Key key) {
  for (const auto& item : from) {
    auto same = [&](const T& existing) { return key(existing) == key(item); };
    if (auto it = std::find_if(into.begin(), into.end(), same); it != into.end()) {
      *it = item;
    } else {
      into.push_back(item);
    }
  }
}

void merge_workload(Workload& into, const Workload& from, Diagnostics& warnings) {
  const std::string& p = from.sources.front();
#define FERRY_MERGE(field) merge_value(into.field, from.field, #field, into, p, warnings)
  FERRY_MERGE(description);
  FERRY_MERGE(kind);
  FERRY_MERGE(technology);
  FERRY_MERGE(owner);
  FERRY_MERGE(criticality);
  FERRY_MERGE(data_classification);
  FERRY_MERGE(containerized);
  FERRY_MERGE(stateful);
  FERRY_MERGE(actively_developed);
  FERRY_MERGE(needs_rearchitecture);
  FERRY_MERGE(remaining_lifespan_years);
  FERRY_MERGE(active_users);
  FERRY_MERGE(requests_per_day);
  FERRY_MERGE(redundant_with);
  FERRY_MERGE(saas_alternative);
  FERRY_MERGE(contractual_lock_in);
  FERRY_MERGE(commercial_off_the_shelf);
  FERRY_MERGE(shared_infrastructure);
  FERRY_MERGE(downtime_budget_minutes);
  FERRY_MERGE(wave_hint);
#undef FERRY_MERGE
  unite(into.cloud_services, from.cloud_services, normalize_name);
  unite(into.tags, from.tags, [](const std::string& s) { return s; });
  // Data stores merge field by field, like workloads: a later file that only
  // names a store must not erase its size or engine.
  for (const auto& store : from.data) {
    auto same = [&](const DataStore& d) { return d.name == store.name; };
    auto it = std::find_if(into.data.begin(), into.data.end(), same);
    if (it == into.data.end()) {
      into.data.push_back(store);
      continue;
    }
    const std::string field = "data " + store.name;
    merge_value(it->engine, store.engine, (field + ".engine").c_str(), into, p, warnings);
    merge_value(it->size_gb, store.size_gb, (field + ".size_gb").c_str(), into, p, warnings);
    merge_value(it->change_rate_gb_per_day, store.change_rate_gb_per_day,
                (field + ".change_rate_gb_per_day").c_str(), into, p, warnings);
  }
  unite(into.depends_on, from.depends_on, [](const Dependency& d) { return d.name; });
  unite(into.depends_on_soft, from.depends_on_soft, [](const Dependency& d) { return d.name; });
  unite(into.servers, from.servers, [](const Server& s) { return s.host + "/" + s.ip; });
  into.sources.push_back(p);
}

std::vector<Workload> import_file(const std::string& path, const std::string& text,
                                  PlanningDefaults& defaults, Diagnostics& diags) {
  if (trim(text).empty()) {
    diags.error({path, 0, 0}, "the file is empty");
    return {};
  }
  if (ends_with(path, ".csv")) {
    auto table = parse_csv(text, path);
    if (!table) {
      diags.add_errors(table.error());
      return {};
    }
    auto format = detect_csv(*table, path, diags);
    if (!format) return {};
    // A row with fewer cells than the header lost its last columns (a
    // stray quote, a spreadsheet that trimmed empty cells): read as empty,
    // and said so, since a lost Dependencies or Critical changes the plan.
    for (const CsvRow& row : table->rows) {
      if (row.cells.size() >= table->header.size()) continue;
      std::vector<std::string> missing(table->header.begin() + static_cast<long>(row.cells.size()),
                                       table->header.end());
      diags.warning({path, row.line, 0},
                    fmt::format("the row has {} of the header's {} cells; {} read as empty",
                                row.cells.size(), table->header.size(), join(missing, ", ")));
    }
    switch (*format) {
      case InventoryFormat::kSeedCsv:
        return import_seed_csv(*table, path, diags);
      case InventoryFormat::kKonveyorCsv:
        return import_konveyor_csv(*table, path, diags);
      case InventoryFormat::kAwsDiscoveryCsv:
        return import_aws_discovery_csv(*table, path, diags);
    }
  }
  if (ends_with(path, ".yaml") || ends_with(path, ".yml") || ends_with(path, ".json")) {
    return import_native_yaml(text, path, defaults, diags);
  }
  diags.error({path, 0, 0}, "unknown inventory file type; expected .yaml, .yml, .json or .csv");
  return {};
}

// Resolves names now that every file is merged. A loose spreadsheet token
// becomes an edge to the workload it names (ignoring case and punctuation), a
// data store of unknown size when it is a database engine the workload does
// not already have, or else a cloud service; anything else unknown is an error.
// redundant_with chains that come back to where they started would retire
// every member: one of them has to stay. Each workload names at most one
// other, so one walk over the estate finds every circle (reported once, from
// its alphabetically first member).
void report_redundancy_circles(const std::vector<Workload>& workloads,
                               const std::unordered_map<std::string, size_t>& index,
                               Diagnostics& diags) {
  enum class Mark { kNew, kOnPath, kDone };
  std::vector<Mark> marks(workloads.size(), Mark::kNew);
  for (size_t start = 0; start < workloads.size(); ++start) {
    std::vector<size_t> path;
    size_t at = start;
    bool closed = false;  // the walk came back to a workload on this path
    while (marks[at] == Mark::kNew) {
      marks[at] = Mark::kOnPath;
      path.push_back(at);
      const auto& next = workloads[at].redundant_with;
      auto it = next && !next->empty() ? index.find(*next) : index.end();
      if (it == index.end()) break;
      at = it->second;
      closed = marks[at] == Mark::kOnPath;
    }
    if (closed) {
      // The circle is the tail of the path from `at`; rotate it to its first name.
      std::vector<std::string> circle;
      for (auto it = std::find(path.begin(), path.end(), at); it != path.end(); ++it) {
        circle.push_back(workloads[*it].name);
      }
      if (circle.size() > 1) {  // naming oneself is reported on its own
        std::rotate(circle.begin(), std::min_element(circle.begin(), circle.end()), circle.end());
        diags.error(workloads[index.at(circle.front())].where,
                    fmt::format("redundant_with goes round in a circle ({} -> {}): one of them "
                                "must stay to replace the others",
                                join(circle, " -> "), circle.front()));
      }
    }
    for (size_t i : path) marks[i] = Mark::kDone;
  }
}

void check_references(std::vector<Workload>& workloads, Diagnostics& diags) {
  std::unordered_map<std::string, size_t> index;               // name -> position
  std::unordered_map<std::string, std::string> by_normalized;  // "webapi" -> "Web-API"
  std::vector<std::string> all_names;
  for (size_t i = 0; i < workloads.size(); ++i) {
    index.emplace(workloads[i].name, i);
    by_normalized.emplace(normalize_name(workloads[i].name), workloads[i].name);
    all_names.push_back(workloads[i].name);
  }
  auto check_list = [&](Workload& w, std::vector<Dependency>& deps, const char* field) {
    std::vector<Dependency> kept;
    auto keep = [&](Dependency d) {
      auto same = [&](const Dependency& k) { return k.name == d.name; };
      if (std::none_of(kept.begin(), kept.end(), same)) kept.push_back(std::move(d));
    };
    for (auto& d : deps) {
      if (d.loose && !index.count(d.name)) {
        if (auto it = by_normalized.find(normalize_name(d.name)); it != by_normalized.end())
          d.name = it->second;
      }
      if (d.name == w.name) {
        diags.error(d.where,
                    fmt::format("{}.{}: a workload cannot depend on itself", w.name, field));
      } else if (index.count(d.name)) {
        keep(std::move(d));
      } else if (!d.loose) {
        diags.error(d.where, fmt::format("{}.{}: unknown workload '{}'{}", w.name, field, d.name,
                                         did_you_mean_hint(d.name, all_names)));
      } else if (auto mention = engine_mentioned(d.name)) {
        auto has_engine = [&](const DataStore& s) { return s.engine == mention->engine; };
        if (std::none_of(w.data.begin(), w.data.end(), has_engine)) {
          w.data.push_back({w.name + "-" + mention->engine, mention->engine, std::nullopt,
                            std::nullopt, std::nullopt, d.where});
        }
        if (mention->is_service) unite(w.cloud_services, {d.name}, normalize_name);
      } else {
        // Close to a workload's name, it is more likely a typo than a
        // cloud service nobody has heard of: kept as a service, and said.
        if (auto near = did_you_mean(d.name, all_names)) {
          diags.warning(d.where,
                        fmt::format("{}.{}: '{}' names no workload and is taken as a cloud "
                                    "service; did you mean the workload '{}'?",
                                    w.name, field, d.name, *near));
        }
        unite(w.cloud_services, {d.name}, normalize_name);
      }
    }
    deps = std::move(kept);
  };
  report_redundancy_circles(workloads, index, diags);
  for (auto& w : workloads) {
    check_list(w, w.depends_on, "depends_on");
    check_list(w, w.depends_on_soft, "depends_on_soft");
    // A soft edge to something that is also a hard dependency adds nothing.
    std::erase_if(w.depends_on_soft, [&](const Dependency& soft) {
      return std::any_of(w.depends_on.begin(), w.depends_on.end(),
                         [&](const Dependency& hard) { return hard.name == soft.name; });
    });
    if (w.redundant_with && !w.redundant_with->empty()) {
      const std::string& other = *w.redundant_with;
      if (other == w.name) {
        diags.error(w.where, fmt::format("{}.redundant_with: names the workload itself", w.name));
      } else if (!index.count(other)) {
        diags.error(w.where, fmt::format("{}.redundant_with: unknown workload '{}'{}", w.name,
                                         other, did_you_mean_hint(other, all_names)));
      }
    }
    std::unordered_map<std::string, const DataStore*> stores;
    for (const auto& d : w.data) {
      if (auto [it, inserted] = stores.emplace(d.name, &d); !inserted) {
        diags.error(d.where, fmt::format("{}.data: duplicate data store '{}' (first at {})", w.name,
                                         d.name, it->second->where.to_string()));
      }
    }
  }
}

}  // namespace

Result<Estate> load_estate(const std::vector<std::string>& paths, Diagnostics& warnings) {
  Diagnostics diags;
  Estate estate;
  bool unreadable = false;  // a file could not be read at all: an I/O failure, exit 4
  std::unordered_map<std::string, size_t> index;
  for (const auto& path : paths) {
    auto text = read_text_file(path);
    if (!text) {
      diags.error({path, 0, 0}, text.error().message);
      unreadable = true;
      continue;
    }
    std::unordered_map<std::string, SourceLocation> in_this_file;
    for (auto& w : import_file(path, *text, estate.defaults, diags)) {
      if (auto [it, inserted] = in_this_file.emplace(w.name, w.where); !inserted) {
        diags.error(w.where, fmt::format("duplicate workload name '{}' (first defined at {})",
                                         w.name, it->second.to_string()));
        continue;
      }
      if (auto it = index.find(w.name); it != index.end()) {
        merge_workload(estate.workloads[it->second], w, warnings);
      } else {
        index.emplace(w.name, estate.workloads.size());
        estate.workloads.push_back(std::move(w));
      }
    }
  }
  // Tags read once every file is merged, so a field any file gives wins.
  for (auto& w : estate.workloads) apply_tags(w, warnings);
  check_references(estate.workloads, diags);
  // Files merge by exact name; names that differ only in case or punctuation
  // are most likely the same workload spelled twice.
  std::unordered_map<std::string, const Workload*> spellings;
  for (const auto& w : estate.workloads) {
    auto [it, inserted] = spellings.emplace(normalize_name(w.name), &w);
    if (!inserted) {
      warnings.warning(
          w.where, fmt::format("'{}' and '{}' (at {}) differ only in case or punctuation; they are "
                               "planned as two workloads",
                               w.name, it->second->name, it->second->where.to_string()));
    }
  }
  // Keep warnings from importers (e.g. traffic not understood) for the plan.
  for (const auto& d : diags.all()) {
    if (d.severity == Severity::kWarning) warnings.warning(d.where, d.message);
  }
  if (diags.has_errors()) {
    // Report in reading order: by file as given, then by line.
    std::vector<Diagnostic> errors;
    for (const auto& d : diags.all()) {
      if (d.severity == Severity::kError) errors.push_back(d);
    }
    auto file_rank = [&](const std::string& file) {
      return std::find(paths.begin(), paths.end(), file) - paths.begin();
    };
    std::stable_sort(errors.begin(), errors.end(), [&](const Diagnostic& a, const Diagnostic& b) {
      return std::make_pair(file_rank(a.where.file), a.where.line) <
             std::make_pair(file_rank(b.where.file), b.where.line);
    });
    Diagnostics errors_only;
    for (const auto& d : errors) errors_only.error(d.where, d.message);
    Error error = errors_only.to_error(paths.size() == 1 ? paths.front() : "the inventory");
    if (unreadable) error.code = ErrorCode::kIo;
    return tl::unexpected(std::move(error));
  }
  return estate;
}

}  // namespace ferry::assess
