// `ferry db check`: everything that could stop or spoil a clone and a follow,
// found before anything is copied, every finding at once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"

namespace ferry::pg {
class Connection;
}

namespace ferry::db {

enum class FindingLevel { kBlocker, kWarning, kInfo };

struct Finding {
  FindingLevel level = FindingLevel::kInfo;
  std::string area;     // "versions", "replication", "privileges", "tables", ...
  std::string message;  // what was found
  std::string fix;      // what to do about it; empty when nothing is needed
};

struct PreflightOptions {
  bool need_slot = true;         // clone creates a slot for `ferry db follow`
  bool truncate_target = false;  // non-empty target tables may be emptied
  bool no_owner = false;         // objects will be owned by the target user
  int jobs = 4;                  // for the copy time estimate
  std::string slot_name;         // must not exist yet (unless resuming)
  bool resuming = false;
};

struct PreflightReport {
  std::vector<Finding> findings;
  std::string source_version, target_version;
  int64_t source_bytes = 0;        // pg_database_size
  int64_t table_bytes = 0;         // what COPY moves: user tables with TOAST
  double estimated_seconds = 0;    // data copy at the measured per-job rate
  bool target_has_schema = false;  // every source table already exists on the target

  bool has_blockers() const;
};

Result<PreflightReport> run_preflight(pg::Connection& source, pg::Connection& target,
                                      const PreflightOptions& options);

std::string render_preflight_text(const PreflightReport& report);
std::string render_preflight_json(const PreflightReport& report);

}  // namespace ferry::db
