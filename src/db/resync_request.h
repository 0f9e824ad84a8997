// `ferry db clone --resync --tables T`: asks the running follow to copy
// tables again (table_resync.h) and reports until it has. Before asking, it
// checks the tables and the follow, and moves a table that has replica
// identity now (REPLICA IDENTITY FULL set after the clone) from the
// insert-only publication to the main one, so its updates and deletes are
// carried from the new copy on; the target's table gets the same identity,
// for the reverse stream after a cutover.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/follow_journal.h"
#include "pg/conninfo.h"

namespace ferry::db {

struct ResyncRequestOptions {
  pg::ConnInfo source, target;
  std::string dir = "ferry-clone";
  std::string publication = "ferry";
  std::vector<std::string> tables;  // schema.name, or name for public.name
};

struct ResyncReport {
  ResyncRecord record;                        // as follow finished it
  std::vector<std::string> now_fully_carried;  // moved to the main publication
  std::vector<std::string> still_insert_only;  // no replica identity yet
  bool ok() const { return record.state == "done"; }
};

Result<ResyncReport> run_resync_request(const ResyncRequestOptions& options,
                                        const std::atomic<bool>& stop);

std::string render_resync_text(const ResyncReport& report);
std::string render_resync_json(const ResyncReport& report);

}  // namespace ferry::db
