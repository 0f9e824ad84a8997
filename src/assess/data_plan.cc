#include "assess/data_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace ferry::assess {

std::string hours_text(double hours) {
  if (hours < 1) return fmt::format("{:.0f} min", hours * 60);
  if (hours < 48) return fmt::format("{:.1f} h", hours);
  return fmt::format("{:.1f} days", hours / 24);
}

double transfer_hours(double gb, double gbps, double efficiency) {
  const double bits = gb * 1e9 * 8;
  return bits / (gbps * 1e9 * efficiency) / 3600.0;
}

namespace {

bool listed(const std::vector<std::string>& list, const std::string& engine) {
  return std::find(list.begin(), list.end(), engine) != list.end();
}

}  // namespace

DataPlanItem plan_data_store(const DataStore& store, double budget_minutes,
                             const PlanningDefaults& d, const RuleSet& rules,
                             double assumed_size_gb,
                             const std::vector<std::pair<std::string, std::string>>& constraints) {
  const DataMethodRules& m = rules.data_methods;
  DataPlanItem item;
  item.store = store.name;
  item.engine = store.engine.value_or("");
  item.size_gb = store.size_gb.value_or(assumed_size_gb);
  item.size_assumed = !store.size_gb;
  item.change_rate_gb_per_day = store.change_rate_gb_per_day.value_or(0);
  item.downtime_budget_minutes = budget_minutes;
  // A copy runs at the slower of the link and what the source can read
  // while it keeps serving.
  const double link_gbps = d.bandwidth_gbps * d.link_efficiency;
  const double read_mb_per_s = store.read_mb_per_s.value_or(d.source_read_mb_per_s);
  const double read_gbps = read_mb_per_s * 8 / 1000;
  const bool read_bound = read_gbps < link_gbps;
  const double rate_gbps = std::min(link_gbps, read_gbps);
  item.transfer_hours = item.size_gb * 8 / rate_gbps / 3600;
  const double link_gb_per_day = rate_gbps / 8 * 86400;
  const std::string transfer =
      read_bound ? fmt::format(
                       "{:.0f} GB at the source's read rate of {:g} MB/s (the link "
                       "carries more) = {}",
                       item.size_gb, read_mb_per_s, hours_text(item.transfer_hours))
                 : fmt::format("{:.0f} GB / ({} Gbps x {}) = {}", item.size_gb, d.bandwidth_gbps,
                               d.link_efficiency, hours_text(item.transfer_hours));
  const bool relational = listed(m.relational_engines, item.engine);
  double index_hours = 0;  // an online bulk copy of a relational store builds its indexes after

  // Every online method has a cutover time: the rules loader requires it.
  auto cutover = [&](const std::string& method) { return m.cutover_minutes.at(method); };
  // Online methods copy while the source keeps changing: the link must carry
  // the backlog and the new changes, so the copy finishes at (link - change rate).
  auto online = [&](const std::string& method, std::string why) {
    item.method = method;
    item.downtime_minutes = cutover(method);
    item.can_catch_up = item.change_rate_gb_per_day < link_gb_per_day;
    item.copy_hours = item.can_catch_up
                          ? item.size_gb / (link_gb_per_day - item.change_rate_gb_per_day) * 24
                          : item.transfer_hours;
    item.why = std::move(why);
    if (item.change_rate_gb_per_day > 0) {
      item.why += fmt::format("; catch-up at {:.0f} GB/day link minus {} GB/day changes",
                              link_gb_per_day, item.change_rate_gb_per_day);
    }
    if (!item.can_catch_up) {
      item.why += "; the change rate exceeds the link: replication can never catch up";
    }
    if (relational && (method == "logical_replication" || method == "cdc") &&
        m.index_build_hours_per_tb > 0) {
      index_hours = item.size_gb / 1000 * m.index_build_hours_per_tb;
      item.copy_hours += index_hours;
      item.why += fmt::format("; then {} to build its indexes ({:g} h per TB)",
                              hours_text(index_hours), m.index_build_hours_per_tb);
    }
  };

  if (listed(m.file_engines, item.engine)) {
    online("incremental_sync",
           fmt::format("files: bulk copy ({}) then incremental passes (rsync/rclone) "
                       "until the last delta fits the window",
                       transfer));
  } else {
    const double size_tb = item.size_gb / 1000;
    std::string method = m.by_size.empty() ? "dump_restore" : m.by_size.back().method;
    for (const auto& tier : m.by_size) {
      if (!tier.up_to_tb || size_tb <= *tier.up_to_tb) {
        method = tier.method;
        break;
      }
    }
    std::string why =
        size_tb >= 1 ? fmt::format("{:.1f} TB", size_tb) : fmt::format("{:.0f} GB", item.size_gb);
    const double dump_minutes = item.transfer_hours * m.dump_restore_factor * 60;
    item.dump_fits_budget = dump_minutes <= budget_minutes;
    const std::string budget = std::isinf(budget_minutes)
                                   ? std::string("no downtime budget")
                                   : fmt::format("the {:.0f} min budget", budget_minutes);
    if (method == "dump_restore") {
      if (item.dump_fits_budget) {
        item.method = method;
        item.copy_hours = item.transfer_hours * m.dump_restore_factor;
        item.downtime_minutes = dump_minutes;
        item.why = fmt::format("{}: dump and restore takes {} x {} = {}, within {}", why, transfer,
                               m.dump_restore_factor, hours_text(dump_minutes / 60), budget);
      } else {
        method = "logical_replication";
        why += fmt::format(": dump and restore would take {} x {} = {}, over {}", transfer,
                           m.dump_restore_factor, hours_text(dump_minutes / 60), budget);
      }
    } else {
      why += fmt::format(" is past the dump-and-restore size; {}", transfer);
    }
    if (item.method.empty()) {
      if (auto own = m.engine_methods.find(item.engine); own != m.engine_methods.end()) {
        const EngineMethod& e = own->second;
        auto blocked = std::find_if(constraints.begin(), constraints.end(),
                                    [&](const auto& c) { return c.first == e.blocked_by; });
        if (!e.blocked_by.empty() && blocked != constraints.end()) {
          method = e.fallback_method;
          why += fmt::format("; {} would replicate itself, but {} forbids it ({}): {}", item.engine,
                             blocked->second, e.blocked_by, e.fallback_how);
        } else {
          method = e.method;
          why += fmt::format("; {} replicates itself: {}", item.engine, e.how);
        }
      } else if (method == "logical_replication" &&
                 !listed(m.logical_replication_engines, item.engine)) {
        method = "cdc";
        why +=
            item.engine.empty()
                ? std::string(
                      "; the engine is not given, so change data capture (it works for any engine)")
                : fmt::format("; {} has no native logical replication, so change data capture",
                              item.engine);
      }
      online(method, why);
    }
  }
  item.fits_budget = item.downtime_minutes <= budget_minutes;
  item.appliance_recommended = item.transfer_hours / 24 > d.appliance_threshold_days;
  if (item.appliance_recommended) {
    item.why += fmt::format(
        "; the network copy takes {:.1f} days, more than {} days: a transfer appliance is "
        "worth weighing for the bulk",
        item.transfer_hours / 24, d.appliance_threshold_days);
    // With the bulk on an appliance, the link only carries the changes made
    // while it travels; worth it when that ends sooner.
    if (m.appliance_days > 0 && is_online_method(item.method) && item.can_catch_up) {
      const double backlog_gb = item.change_rate_gb_per_day * m.appliance_days;
      const double catch_up_hours =
          backlog_gb / (link_gb_per_day - item.change_rate_gb_per_day) * 24;
      const double by_appliance = m.appliance_days * 24 + catch_up_hours + index_hours;
      if (by_appliance < item.copy_hours) {
        item.copy_hours = by_appliance;
        item.appliance_used = true;
        item.why += fmt::format(
            "; planned that way: {:g} days for the appliance, then {} to catch up the {:.0f} GB "
            "changed meanwhile",
            m.appliance_days, hours_text(catch_up_hours), backlog_gb);
      } else {
        item.why += fmt::format(
            "; but {:g} days for the appliance and the catch-up would end later: the copy is "
            "planned over the link",
            m.appliance_days);
      }
    }
  }
  if (item.size_assumed) {
    item.why += fmt::format("; size not given, {:.0f} GB assumed", item.size_gb);
  }
  return item;
}

}  // namespace ferry::assess
