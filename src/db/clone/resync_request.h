// `ferry db clone --resync --tables T`: asks the running follow to copy
// tables again (table_resync.h) and reports until it has. Before asking, it
// checks the tables and the follow, and says which tables will have every
// change carried from the new copy on (replica identity set since the
// clone: follow moves them to the main publication) and which stay
// insert-only.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/follow/follow_journal.h"
#include "pg/conninfo.h"

namespace ferry::db {

struct ResyncRequestOptions {
  pg::ConnInfo source, target;
  std::string dir = "ferry-clone";
  std::string publication = "ferry";
  std::vector<std::string> tables;  // schema.name, or name for public.name
};

struct ResyncReport {
  ResyncRecord record;                         // as follow finished it
  std::vector<std::string> now_fully_carried;  // to be moved to the main publication
  std::vector<std::string> still_insert_only;  // no replica identity yet
  bool ok() const { return record.state == ResyncState::kDone; }
};

Result<ResyncReport> run_resync_request(const ResyncRequestOptions& options,
                                        const std::atomic<bool>& stop);

std::string render_resync_text(const ResyncReport& report);
std::string render_resync_json(const ResyncReport& report);

}  // namespace ferry::db
