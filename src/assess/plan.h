// The migration plan: for every workload the decisions with their reasoning,
// service mappings, data plan, gravity, risks, checklists and wave; for the
// estate the waves, the critical path and the warnings. Reports render it.
#pragma once

#include <string>
#include <vector>

#include "assess/catalog.h"
#include "assess/data_plan.h"
#include "assess/inventory.h"
#include "assess/rules.h"
#include "assess/schedule.h"
#include "assess/waves.h"

namespace ferry::assess {

struct ServiceMapping {
  std::string from;
  std::string to;          // "" when the catalog does not know the service
  std::string complexity;  // low | medium | high | unknown
  std::string provider;
  std::string category;
  bool proprietary = false;
  std::string notes;
};

struct Gravity {
  double score = 0;   // log10(size_gb x accesses/day x integrations)
  std::string level;  // low | medium | high | extreme
  double size_gb = 0;
  double accesses_per_day = 0;
  int integrations = 0;
  std::string explanation;
};

struct Risk {
  std::string id;
  std::string title;
  std::string likelihood;  // low | medium | high
  std::string impact;      // low | medium | high
  std::string severity;    // the residual one: low once mitigated
  std::string mitigation;
  std::string source;
  std::string owner;  // who answers for it: the rule's role or the workload's owner
  bool mitigated = false;
  std::string mitigated_by;  // how the plan already deals with it
};

struct ChecklistItem {
  std::string section;
  std::string item;
};

struct Assumption {
  std::string fact;
  std::string value;
};

struct WorkloadPlan {
  const Workload* workload = nullptr;
  std::string strategy;
  std::string cutover;
  std::string pattern;
  std::vector<std::string> reasons;  // the fired strategy rules that voted for the choice
  std::vector<std::pair<std::string, DecisionResult>> decisions;  // full trace, in decision order
  int confidence = 1;
  double given_share = 0;  // share of confidence inputs the inventory gave
  std::vector<Assumption> assumptions;
  std::vector<ServiceMapping> service_mappings;
  std::vector<DataPlanItem> data_plan;
  Gravity gravity;
  std::vector<Risk> risks;
  std::vector<ChecklistItem> checklist;
  std::vector<RollbackRule> rollback;
  int wave = 0;       // 1-based; 0 when not moving (retire, retain)
  std::string team;   // its owner, who builds it; "unassigned" without one
  int sync_days = 0;  // its online copy before the cutover, in working days
  int risk_score = 0;
  double total_data_gb = 0;             // all its data stores
  double effort_days = 0;               // the build, in working days
  std::string effort_explanation;       // "18 days (replatform 8 + 2 medium service x 4 + ...)"
  std::vector<std::string> dependents;  // workloads that hard- or soft-depend on it
  int cycle = -1;
  bool over_downtime_budget = false;  // a data store's cutover exceeds the budget
  bool cannot_catch_up = false;       // a data store changes faster than the link carries
  bool shared_infrastructure = false;
};

struct WaveRisk {
  std::string title;
  std::string severity;
  std::vector<std::string> workloads;
  std::string likelihood;
  std::string impact;
  std::vector<std::string> owners;
  bool mitigated = false;
  // Stable across plans while the title's numbers change (for diffs): the
  // member risk's id, "split:<dependency>", "link", "cycle", "no-pilot", "pilot".
  std::string key;
};

struct WavePlan {
  Wave wave;
  std::string label;
  std::vector<WaveRisk> risks;  // member risks grouped, plus wave-level ones
};

// One difference between two plans (see plan_diff.h).
struct PlanChange {
  std::string subject;  // a workload's name, or "plan"
  std::string field;    // "end", "strategy", "wave", "data store catalog-main", "added", ...
  std::string before;   // "" when added
  std::string after;    // "" when removed
};

// A plan of this many workloads is assessed and written on two threads.
constexpr size_t kWorkloadsWorthAThread = 1000;

struct Plan {
  PlanningDefaults defaults;
  std::string rules_source;  // where the rules came from, for the report
  std::string catalog_source;
  std::vector<WorkloadPlan> workloads;  // inventory order
  std::vector<WavePlan> waves;
  std::vector<std::vector<std::string>> cycles;
  double total_data_tb = 0;
  // The timeline: working days from `start`, which the inventory or --start
  // gives, else the Monday after today (start_assumed).
  CalendarDate start;
  WorkCalendar calendar;  // from start, without weekends and defaults.holidays
  bool start_assumed = false;
  ScheduleOptions schedule_options;
  Schedule schedule;
  std::vector<std::string> warnings;
  // A what-if: the settings given on the command line ("--bandwidth 10") and
  // how the plan differs from the one with the inventory's own settings.
  std::vector<std::string> what_if_settings;
  std::vector<PlanChange> what_if_changes;
};

// Plans the estate. Never fails: every problem in the inputs was caught when
// loading; gaps are filled by assumptions and reported.
Plan build_plan(const Estate& estate, const RuleSet& rules, const Catalog& catalog,
                const std::vector<std::string>& load_warnings);

// The timeline in words and dates, for every report.
std::string task_name(const Plan& plan,
                      const ScheduleTask& task);  // "build wiki", "cutover wave 3"
CalendarDate date_of(const Plan& plan, int day);  // working day -> date
CalendarDate finish_date(const Plan& plan, const ScheduleTask& task);  // its last working day

// Lowercase words for a data method ("dump/restore", "logical replication").
std::string method_label(const std::string& method);

}  // namespace ferry::assess
