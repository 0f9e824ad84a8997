#include <fmt/format.h>

#include "assess/importers.h"
#include "core/text.h"
#include "core/yaml_reader.h"

namespace ferry::assess {

namespace {

constexpr double kMaxSize = 1e9;  // GB; a petabyte is 1e6, so this only rejects nonsense

// change_freezes: [{from, to, why}]: periods in which nothing cuts over.
void read_freezes(const YamlNode& list, const std::string& path, PlanningDefaults& d,
                  Diagnostics& diags) {
  if (!list.is_sequence()) {
    diags.error(location_of(list, path), "defaults.change_freezes: expected a list");
    return;
  }
  d.change_freezes.clear();
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string field = fmt::format("defaults.change_freezes[{}]", i);
    MappingReader r(list[i], path, field, diags);
    r.require("from");
    r.require("to");
    ChangeFreeze freeze;
    bool ok = true;
    for (const char* key : {"from", "to"}) {
      const auto text = r.text(key);
      if (!text) {
        ok = false;
        continue;
      }
      const auto date = parse_iso_date(*text);
      if (!date) {
        diags.error(r.where(key), fmt::format("{}.{}: '{}' is not a date; expected YYYY-MM-DD",
                                              field, key, *text));
        ok = false;
        continue;
      }
      (std::string_view(key) == "from" ? freeze.from : freeze.to) = *date;
    }
    freeze.why = r.text("why").value_or("change freeze");
    r.finish();
    if (ok && freeze.to.days < freeze.from.days) {
      diags.error(r.where("to"), fmt::format("{}: ends ({}) before it begins ({})", field,
                                             iso_text(freeze.to), iso_text(freeze.from)));
      ok = false;
    }
    if (ok) d.change_freezes.push_back(std::move(freeze));
  }
}

void read_defaults(const YamlNode& node, const std::string& path, PlanningDefaults& d,
                   Diagnostics& diags) {
  MappingReader r(node, path, "defaults", diags);
  if (auto v = r.number("bandwidth_gbps", 0.001, 10000)) d.bandwidth_gbps = *v;
  if (auto v = r.number("link_efficiency", 0.01, 1)) d.link_efficiency = *v;
  if (auto v = r.integer("max_workloads_per_wave", 1, 100000)) d.max_workloads_per_wave = int(*v);
  if (auto v = r.number("max_data_tb_per_wave", 0.001, kMaxSize)) d.max_data_tb_per_wave = *v;
  if (auto v = r.integer("pilot_size", 0, 1000)) d.pilot_size = int(*v);
  if (auto v = r.integer("pilot_max_risk", 0, 100)) d.pilot_max_risk = int(*v);
  if (auto v = r.integer("pilot_min_confidence", 1, 5)) d.pilot_min_confidence = int(*v);
  if (auto v = r.number("appliance_threshold_days", 0.1, 3650)) d.appliance_threshold_days = *v;
  if (auto v = r.number("source_read_mb_per_s", 0.1, 1e6)) d.source_read_mb_per_s = *v;
  if (auto v = r.text("start")) {
    d.start = parse_iso_date(*v);
    if (!d.start) {
      diags.error(r.where("start"),
                  fmt::format("{}: '{}' is not a date; expected YYYY-MM-DD", r.field("start"), *v));
    }
  }
  if (auto v = r.integer("mobilisation_days", 0, 3650)) d.mobilisation_days = int(*v);
  if (auto v = r.integer("team_capacity", 1, 1000)) d.team_capacity = int(*v);
  if (auto v = r.integer("cutover_days", 1, 365)) d.cutover_days = int(*v);
  if (auto v = r.integer("hypercare_days", 0, 365)) d.hypercare_days = int(*v);
  if (auto v = r.integer("decommission_days", 0, 365)) d.decommission_days = int(*v);
  if (auto days = r.text_list("holidays")) {
    d.holidays.clear();
    for (size_t i = 0; i < days->size(); ++i) {
      if (auto date = parse_iso_date((*days)[i])) {
        d.holidays.push_back(*date);
      } else {
        diags.error(r.element_location("holidays", i),
                    fmt::format("defaults.holidays[{}]: '{}' is not a date; expected YYYY-MM-DD", i,
                                (*days)[i]));
      }
    }
  }
  if (const YamlNode* freezes = r.node("change_freezes")) read_freezes(*freezes, path, d, diags);
  r.finish();
}

std::vector<Dependency> read_dependencies(MappingReader& r, std::string_view key) {
  std::vector<Dependency> out;
  auto names = r.text_list(key);
  if (!names) return out;
  for (size_t i = 0; i < names->size(); ++i) {
    out.push_back({(*names)[i], r.element_location(key, i)});
  }
  return out;
}

std::vector<DataStore> read_data(const YamlNode* list, const std::string& path,
                                 const std::string& field, Diagnostics& diags) {
  std::vector<DataStore> out;
  if (!list || list->is_null()) return out;
  if (!list->is_sequence()) {
    diags.error(location_of(*list, path), field + ": expected a list of data stores");
    return out;
  }
  for (size_t i = 0; i < list->size(); ++i) {
    MappingReader r((*list)[i], path, fmt::format("{}[{}]", field, i), diags);
    DataStore store;
    store.where = r.where();
    r.require("name");
    store.name = r.text("name").value_or("");
    store.engine = r.text("engine");
    if (store.engine) {
      // "Postgres", "PG", "Mongo", "Valkey"... read as the engine they name.
      const std::string canonical = canonical_engine(*store.engine);
      *store.engine = canonical.empty() ? to_lower(*store.engine) : canonical;
    }
    store.size_gb = r.number("size_gb", 0, kMaxSize);
    store.change_rate_gb_per_day = r.number("change_rate_gb_per_day", 0, kMaxSize);
    store.read_mb_per_s = r.number("read_mb_per_s", 0.1, 1e6);
    r.finish();
    if (r.valid()) out.push_back(std::move(store));
  }
  return out;
}

Workload read_workload(const YamlNode& node, const std::string& path, size_t index,
                       Diagnostics& diags) {
  const std::string field = fmt::format("workloads[{}]", index);
  MappingReader r(node, path, field, diags);
  Workload w;
  w.where = r.where();
  r.require("name");
  if (auto name = r.text("name")) {
    if (auto problem = name_problem(*name); problem.empty()) {
      w.name = *name;
    } else {
      diags.error(r.where("name"), fmt::format("{}.name: {}", field, problem));
    }
  }
  w.description = r.text("description");
  w.kind = r.choice("kind", kKinds);
  w.technology = r.text("technology");
  w.owner = r.text("owner");
  w.criticality = r.choice("criticality", kCriticalities);
  w.data_classification = r.choice("data_classification", kClassifications);
  w.containerized = r.boolean("containerized");
  w.stateful = r.boolean("stateful");
  w.actively_developed = r.boolean("actively_developed");
  w.needs_rearchitecture = r.boolean("needs_rearchitecture");
  w.remaining_lifespan_years = r.number("remaining_lifespan_years", 0, 100);
  w.active_users = r.number("active_users", 0, 1e12);
  w.requests_per_day = r.number("requests_per_day", 0, 1e15);
  w.redundant_with = r.optional_text("redundant_with");
  w.contractual_lock_in = r.boolean("contractual_lock_in");
  w.commercial_off_the_shelf = r.boolean("commercial_off_the_shelf");
  w.saas_alternative = r.optional_text("saas_alternative");
  w.shared_infrastructure = r.boolean("shared_infrastructure");
  w.downtime_budget_minutes = r.number("downtime_budget_minutes", 0, 1e7);
  if (auto wave = r.integer("wave", 1, 10000)) w.wave_hint = int(*wave);
  w.cloud_services = r.text_list("cloud_services").value_or(std::vector<std::string>{});
  w.tags = r.text_list("tags").value_or(std::vector<std::string>{});
  w.data = read_data(r.node("data"), path, r.field("data"), diags);
  w.depends_on = read_dependencies(r, "depends_on");
  w.depends_on_soft = read_dependencies(r, "depends_on_soft");
  r.finish();
  w.sources.push_back(path);
  return w;
}

}  // namespace

std::vector<Workload> import_native_yaml(const std::string& text, const std::string& path,
                                         PlanningDefaults& defaults, Diagnostics& diags) {
  std::vector<Workload> out;
  auto root = parse_yaml(text, path);
  if (!root) {
    diags.add_errors(root.error());
    return out;
  }
  if (root->is_null()) {
    diags.error({path, 0, 0}, "the file is empty; expected a 'workloads:' list");
    return out;
  }
  MappingReader top(*root, path, "", diags);
  if (!top.valid()) return out;
  if (top.has("defaults")) read_defaults(*top.node("defaults"), path, defaults, diags);
  top.require("workloads");
  const YamlNode* list = top.node("workloads");
  top.finish();
  if (!list || list->is_null()) return out;
  if (!list->is_sequence()) {
    diags.error(location_of(*list, path), "workloads: expected a list of workloads");
    return out;
  }
  if (list->size() == 0) diags.error(location_of(*list, path), "workloads: the list is empty");
  for (size_t i = 0; i < list->size(); ++i) {
    Workload w = read_workload((*list)[i], path, i, diags);
    if (!w.name.empty()) out.push_back(std::move(w));
  }
  return out;
}

}  // namespace ferry::assess
