// The publication a logical replication slot streams: every table that can
// be replicated. Tables without replica identity stay out (once published,
// UPDATE and DELETE on them would fail on the server), unlogged tables too
// (they are not in the WAL).
#pragma once

#include <string>
#include <vector>

#include "core/error.h"

namespace ferry::pg {
class Connection;
}

namespace ferry::db {

struct PublicationOutcome {
  bool existed = false;              // used as it was
  std::vector<std::string> skipped;  // tables left out for lack of replica identity
};

Result<PublicationOutcome> create_publication(pg::Connection& conn, const std::string& name);

}  // namespace ferry::db
