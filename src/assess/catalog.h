// The service catalog: proprietary cloud services and their open or sovereign
// equivalents, with the migration complexity ferry rates them at. Shipped as
// data/catalog.yaml (built into the binary), replaceable with --catalog.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.h"

namespace ferry::assess {

extern const std::vector<std::string> kComplexities;  // low, medium, high
// What a source service forbids that changes how a workload moves; rules see
// each as a fact (true when a service the workload uses has it) and
// `<constraint>_services` (which ones). In docs/assess.md, "Source platform facts".
extern const std::vector<std::string> kConstraints;  // no_replication_out, ...

struct CatalogEntry {
  std::string name;
  std::string provider;  // aws, azure, gcp, saas
  std::vector<std::string> aliases;
  std::string category;
  std::string to;
  std::string complexity;    // low | medium | high
  bool proprietary = false;  // no compatible open API: application code must change
  std::string notes;
  std::vector<std::string> constraints;  // from kConstraints
};

class Catalog {
 public:
  // Validates every entry (unknown keys, enums, names unique after
  // normalisation); `file` names the source in messages.
  static Result<Catalog> parse(const std::string& text, const std::string& file);

  // Matches "RDS PostgreSQL", "rds-postgresql", an alias...; nullptr if unknown.
  const CatalogEntry* find(std::string_view service) const;
  const std::vector<CatalogEntry>& entries() const { return entries_; }

 private:
  std::vector<CatalogEntry> entries_;
  std::unordered_map<std::string, size_t> by_name_;  // normalised name or alias -> entry
};

// The built-in data/catalog.yaml.
std::string_view builtin_catalog_text();

}  // namespace ferry::assess
