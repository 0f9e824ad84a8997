// Inventory importers. Each turns one file's text into workloads, reporting
// every problem it finds with file:line; load_estate() picks the importer for
// each file, merges the files by workload name and checks cross-references.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "assess/inventory.h"
#include "core/csv.h"
#include "core/diagnostics.h"
#include "core/error.h"

namespace ferry::assess {

// The CSV flavours, told apart by their header row.
enum class InventoryFormat { kSeedCsv, kKonveyorCsv, kAwsDiscoveryCsv };

// ferry's own YAML (or JSON) model. `defaults` is updated with the file's
// `defaults:` section, so later files override earlier ones key by key.
std::vector<Workload> import_native_yaml(const std::string& text, const std::string& path,
                                         PlanningDefaults& defaults, Diagnostics& diags);
// The CSV importers read a table parse_csv() already made of the file.
// Application,Technology,Dependencies,Traffic,Data Store,Critical,Owner
std::vector<Workload> import_seed_csv(const CsvTable& table, const std::string& path,
                                      Diagnostics& diags);
// Konveyor application import: record type 1 applications, type 2 dependencies.
std::vector<Workload> import_konveyor_csv(const CsvTable& table, const std::string& path,
                                          Diagnostics& diags);
// AWS Application Discovery / Migration Hub import: servers grouped by Applications.
std::vector<Workload> import_aws_discovery_csv(const CsvTable& table, const std::string& path,
                                               Diagnostics& diags);

// Reads every file, merges by workload name (later files fill in and override
// fields; lists are united) and validates references. Fails with every problem
// from every file at once.
Result<Estate> load_estate(const std::vector<std::string>& paths, Diagnostics& warnings);

}  // namespace ferry::assess
