// The database work inside the cutover steps, each a query or a few:
// what preflight checks, how sessions are ended, the final row comparison,
// and the sequences.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "pg/conninfo.h"

namespace ferry::pg {
class Connection;
}

namespace ferry::db {

// Problems that would stop a later step (prepared transactions on the old
// side; with `reverse`, a new side that cannot host a logical slot).
Result<std::vector<std::string>> preflight_checks(pg::Connection& old_side,
                                                  pg::Connection& new_side, bool reverse);

// Waits up to `grace_seconds` for transactions that hold a transaction id
// (writers) on this database to end, then ends every other client session
// but ferry's own, which read the old default and could still write. Returns
// what happened, for the report.
Result<std::string> end_sessions(pg::Connection& conn, double grace_seconds);

struct VerifyOutcome {
  std::string summary;
  std::vector<std::string> lines;  // one per difference; empty: equal
};

// How the rows are compared once nothing moves: exact row counts of every
// logged table on both sides, checksums of every row (ferry db verify), or
// not at all.
enum class FinalVerify { kCounts, kFull, kNone };

// `tables` adds checksums
// for the tables matching those patterns. `not_compared`: diverged tables the
// user accepted (schema.name), left out and named in the summary.
Result<VerifyOutcome> final_verify(const pg::ConnInfo& old_side, const pg::ConnInfo& new_side,
                                   FinalVerify mode, const std::vector<std::string>& tables,
                                   const std::set<std::string>& not_compared = {});

// Every sequence on the new side takes the old side's value, then is raised
// to the largest value of a column it owns when that is higher.
Result<std::string> copy_sequences(pg::Connection& old_side, pg::Connection& new_side);

}  // namespace ferry::db
