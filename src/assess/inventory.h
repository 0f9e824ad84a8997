// The estate model every importer produces and the planner reads. Every
// attribute is optional: an inventory says what it knows, and the planner
// records what it had to assume (and lowers its confidence) for the rest.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/calendar.h"
#include "core/diagnostics.h"

namespace ferry::assess {

// Allowed values, lowercase, in the order they are documented.
extern const std::vector<std::string> kKinds;            // service, frontend, batch, ...
extern const std::vector<std::string> kCriticalities;    // low, medium, high, critical
extern const std::vector<std::string> kClassifications;  // tier1, tier2, tier3, public

// "high", "Critical", "yes" (high), "no" (low)... -> a kCriticalities value;
// nullopt when the text is none of them. Spreadsheets and tags use these.
std::optional<std::string> criticality_from_text(std::string_view text);

// What is wrong with a workload name ("" when nothing): empty, surrounding
// whitespace, control characters. Names are how files merge and refer to
// each other, so they must be plain.
std::string name_problem(std::string_view name);

// Position in kCriticalities (low 0 .. critical 3), -1 when unknown.
int criticality_rank(std::string_view criticality);

// Canonical database engine for a spelling users write ("Postgres", "PG",
// "MongoDB"...), or "" when the word is not a database engine.
std::string canonical_engine(std::string_view word);

// A data engine named inside free text such as a spreadsheet cell:
// "Postgres 13", "Aurora MySQL", "MongoDB Atlas", "S3".
struct EngineMention {
  std::string engine;       // canonical
  bool is_service = false;  // the text also names a managed service ("Aurora MySQL", "S3")
};
std::optional<EngineMention> engine_mentioned(std::string_view text);

struct DataStore {
  std::string name;
  std::optional<std::string> engine;  // postgresql, mysql, redis, nfs, s3, ...
  std::optional<double> size_gb;
  std::optional<double> change_rate_gb_per_day;
  std::optional<double> read_mb_per_s;  // what the source sustains while it serves
  SourceLocation where;
};

struct Dependency {
  std::string name;
  SourceLocation where;
  // Spreadsheet columns mix workload names, database engines and cloud
  // services ("web-api", "PostgreSQL/Redis", "S3/SQS"). Such a name is
  // resolved once every file is loaded: a workload (ignoring case and
  // punctuation), else a data store of that engine, else a cloud service.
  bool loose = false;
};

struct Server {
  std::string host;
  std::string ip;
  std::optional<int> cpus;
  std::optional<double> ram_gb;
  std::string os;
};

struct Workload {
  std::string name;
  SourceLocation where;  // where it was first defined

  std::optional<std::string> description;
  std::optional<std::string> kind;
  std::optional<std::string> technology;
  std::optional<std::string> owner;
  std::optional<std::string> criticality;
  std::optional<std::string> data_classification;
  std::optional<bool> containerized;
  std::optional<bool> stateful;
  std::optional<bool> actively_developed;
  std::optional<bool> needs_rearchitecture;
  std::optional<double> remaining_lifespan_years;
  std::optional<double> active_users;
  std::optional<double> requests_per_day;
  // For the two "none or a name" fields, "" means "known to be none".
  std::optional<std::string> redundant_with;
  std::optional<std::string> saas_alternative;
  std::optional<bool> contractual_lock_in;
  std::optional<bool> commercial_off_the_shelf;
  std::optional<bool> shared_infrastructure;
  std::optional<double> downtime_budget_minutes;
  std::optional<int> wave_hint;  // a wave some other tool already assigned

  std::vector<std::string> cloud_services;
  std::vector<DataStore> data;
  std::vector<Dependency> depends_on;       // hard: must be available where this runs
  std::vector<Dependency> depends_on_soft;  // soft: degrades without it
  std::vector<Server> servers;
  std::vector<std::string> tags;
  std::vector<std::string>
      from_tags;                     // fields its tags filled: "eol -> remaining_lifespan_years 0"
  std::vector<std::string> sources;  // files that described it, in order
};

// A period in which nothing cuts over (year-end, a sales peak).
struct ChangeFreeze {
  CalendarDate from;
  CalendarDate to;  // inclusive
  std::string why;
};

struct PlanningDefaults {
  double bandwidth_gbps = 1.0;
  double link_efficiency = 0.7;
  int max_workloads_per_wave = 8;
  double max_data_tb_per_wave = 50;
  int pilot_size = 3;
  int pilot_max_risk = 3;        // pilot workloads' risk score at most this (see docs/assess.md)
  int pilot_min_confidence = 4;  // a pilot proves little on a workload nobody knows well
  double appliance_threshold_days = 7;
  // A source's sustainable read rate when a store gives none: a copy is as
  // fast as the slower of it and the link (200 MB/s = 1.6 Gbps).
  double source_read_mb_per_s = 200;
  // The schedule (docs/assess.md, "The schedule"); days are working days.
  std::optional<CalendarDate> start;   // unset: the Monday after today
  int mobilisation_days = 20;          // landing zone, link, tooling before any build
  int team_capacity = 2;               // workloads one team builds at once
  int cutover_days = 3;                // each wave's cutover window
  int hypercare_days = 10;             // the source stays read-only for rollback (seed: >= 1 week)
  int decommission_days = 5;           // removing the source after hypercare
  std::vector<CalendarDate> holidays;  // not working days
  std::vector<ChangeFreeze> change_freezes;
};

// The merged estate the planner works on.
struct Estate {
  PlanningDefaults defaults;
  std::vector<Workload> workloads;
};

}  // namespace ferry::assess
