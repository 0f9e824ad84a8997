// How each data store moves: the method (the migration velocity table: method
// by size, then the downtime budget), the copy time from bytes / (bandwidth x
// efficiency), and the write downtime to expect.
#pragma once

#include <string>

#include "assess/inventory.h"
#include "assess/rules.h"

namespace ferry::assess {

// Hours to move `gb` gigabytes (10^9 bytes) over `gbps` at `efficiency`.
// 1 TB at 1 Gbps line rate is 8000 s, about 2.2 h.
double transfer_hours(double gb, double gbps, double efficiency);

// "45 min", "3.2 h", "9.4 days".
std::string hours_text(double hours);

struct DataPlanItem {
  std::string store;
  std::string engine;  // "" when unknown
  double size_gb = 0;
  bool size_assumed = false;
  double change_rate_gb_per_day = 0;
  std::string method;  // dump_restore, logical_replication, cdc, physical_cdc, incremental_sync
  double transfer_hours = 0;  // raw bytes over the link, no catch-up
  double copy_hours = 0;      // until the target is ready to cut over
  double downtime_minutes = 0;
  double downtime_budget_minutes = 0;
  bool fits_budget = true;
  bool dump_fits_budget = true;  // a dump and restore would fit the budget (files: not applicable)
  bool can_catch_up = true;      // the link outpaces the change rate
  bool appliance_recommended = false;
  bool appliance_used = false;  // the copy time counts the appliance: it ends sooner that way
  std::string why;              // the method choice in words, with its numbers
};

// `constraints` are those of the source services the workload uses
// (catalog.h): one may forbid an engine's own replication.
DataPlanItem plan_data_store(
    const DataStore& store, double downtime_budget_minutes, const PlanningDefaults& defaults,
    const RuleSet& rules, double assumed_size_gb,
    const std::vector<std::pair<std::string, std::string>>& constraints = {});

}  // namespace ferry::assess
