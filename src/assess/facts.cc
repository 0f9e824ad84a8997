#include "assess/facts.h"

#include <fmt/format.h>

#include <cmath>
#include <string_view>
#include <unordered_map>

namespace ferry::assess {

const std::vector<FactInfo>& fact_registry() {
  static const std::vector<FactInfo> kFacts{
      {"kind", FactType::kText,
       "service, frontend, batch, database, cache, queue, storage or cots"},
      {"criticality", FactType::kText, "low, medium, high or critical"},
      {"data_classification", FactType::kText, "tier1 (sensitive), tier2, tier3 or public"},
      {"containerized", FactType::kBool, "already runs in containers"},
      {"stateful", FactType::kBool, "keeps state on its own hosts"},
      {"actively_developed", FactType::kBool, "a team still changes it"},
      {"needs_rearchitecture", FactType::kBool, "its architecture must change anyway"},
      {"remaining_lifespan_years", FactType::kNumber, "years it is expected to stay in service"},
      {"active_users", FactType::kNumber, "people using it"},
      {"requests_per_day", FactType::kNumber, "requests or runs per day"},
      {"redundant_with", FactType::kText, "workload that makes it redundant, or empty"},
      {"saas_alternative", FactType::kText, "a product that could replace it, or empty"},
      {"contractual_lock_in", FactType::kBool, "a contract keeps it where it is"},
      {"commercial_off_the_shelf", FactType::kBool, "bought, not built"},
      {"shared_infrastructure", FactType::kBool, "DNS, identity, monitoring... used by many"},
      {"downtime_budget_minutes", FactType::kNumber, "longest write outage the business accepts"},
      {"cloud_service_count", FactType::kNumber, "cloud services it uses"},
      {"proprietary_service_count", FactType::kNumber, "services with no compatible open API"},
      {"proprietary_level", FactType::kText, "none, light or heavy use of proprietary services"},
      {"unmapped_service_count", FactType::kNumber, "services the catalog does not know"},
      {"max_service_complexity", FactType::kText, "none, low, medium or high"},
      {"runs_on_managed_service", FactType::kBool,
       "it uses cloud services and none that only hosts it (it is a managed service itself)"},
      {"managed_services", FactType::kText,
       "its services and what they become: \"Route 53 -> PowerDNS\""},
      {"data_store_count", FactType::kNumber, "data stores it owns"},
      {"total_data_gb", FactType::kNumber, "size of all its data stores"},
      {"has_database", FactType::kBool, "owns a database (not a file store)"},
      {"has_relational_database", FactType::kBool,
       "owns a SQL database (sequences, collations, encodings)"},
      {"has_file_store", FactType::kBool, "owns a file or object store"},
      {"needs_online_sync", FactType::kBool,
       "a database would not fit the downtime budget with a dump and restore"},
      {"appliance_recommended", FactType::kBool,
       "a data store's network copy takes longer than appliance_threshold_days"},
      {"appliance_planned", FactType::kBool,
       "a data store's bulk copy ships on an appliance (it ends sooner that way)"},
      {"dependents", FactType::kNumber, "workloads that depend on it (hard or soft)"},
      {"dependencies", FactType::kNumber, "workloads it hard-depends on"},
      {"in_cycle", FactType::kBool, "part of a hard dependency cycle"},
      {"cannot_catch_up", FactType::kBool, "a data store changes faster than the link can carry"},
      {"over_downtime_budget", FactType::kBool,
       "a data store's cutover takes longer than the downtime budget allows"},
      {"confidence", FactType::kNumber, "the plan's confidence in this workload, 1 to 5"},
      {"strategy", FactType::kText,
       "the 6R strategy chosen (for the decisions and risks after it)"},
      {"moving", FactType::kBool, "the strategy moves it (not retire or retain)"},
      {"no_replication_out", FactType::kBool,
       "a service it uses lets no replica outside it attach (no REPLICAOF or SYNC)"},
      {"no_replication_out_services", FactType::kText, "the services that forbid it"},
      {"hashes_not_exportable", FactType::kBool,
       "a service it uses cannot export its users' password hashes"},
      {"hashes_not_exportable_services", FactType::kText, "the services that cannot"},
      {"keys_not_exportable", FactType::kBool, "a service it uses never lets its keys leave"},
      {"keys_not_exportable_services", FactType::kText, "the services that keep them"},
      {"no_superuser", FactType::kBool,
       "a managed database it uses gives no superuser (no ALTER SYSTEM, limited roles)"},
      {"no_superuser_services", FactType::kText, "the services that give none"},
  };
  return kFacts;
}

const FactInfo* find_fact(const std::string& name) {
  static const std::unordered_map<std::string_view, const FactInfo*> kByName = [] {
    std::unordered_map<std::string_view, const FactInfo*> m;
    for (const auto& f : fact_registry()) m.emplace(f.name, &f);
    return m;
  }();
  auto it = kByName.find(name);
  return it == kByName.end() ? nullptr : it->second;
}

size_t fact_index(const FactInfo& info) {
  return static_cast<size_t>(&info - fact_registry().data());
}

Facts::Facts() : slots_(fact_registry().size()) {}

void Facts::set(const std::string& name, FactValue value, bool assumed) {
  slots_[fact_index(*find_fact(name))] = Fact{std::move(value), assumed};
}

const Fact* Facts::get(const std::string& name) const {
  const FactInfo* info = find_fact(name);
  return info ? get(fact_index(*info)) : nullptr;
}

std::string format_fact_value(const FactValue& v) {
  if (const bool* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (const double* d = std::get_if<double>(&v)) {
    if (std::floor(*d) == *d && std::fabs(*d) < 1e15)
      return fmt::format("{}", static_cast<long long>(*d));
    return fmt::format("{:.2f}", *d);
  }
  const auto& s = std::get<std::string>(v);
  return s.empty() ? "none" : s;
}

}  // namespace ferry::assess
