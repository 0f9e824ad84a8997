// Which parts a clone copies: every table whole, except those larger than the
// split size, cut into ranges of heap blocks read by ctid (a TID range scan
// reads exactly those blocks, whatever the table's keys). Largest first, so the
// longest copies start early and the workers finish together.
#pragma once

#include <cstdint>
#include <vector>

#include "core/error.h"
#include "db/clone/clone_journal.h"
#include "pg/catalog.h"

namespace ferry::pg {
class Connection;
}

namespace ferry::db {

std::vector<PartRecord> plan_parts(const std::vector<pg::Table>& tables, int64_t split_bytes,
                                   int max_parts_per_table);

// The split size when the user leaves it to ferry: each job's share of the
// data, at least 1 GB. Only a table bigger than a worker's share is split, so
// one huge table does not leave the other workers idle; smaller tables stay
// whole, because parts of one table loading at once contend on the target
// (measured: a 450 MB table in 5 concurrent parts took 1.5x the time).
int64_t automatic_split_bytes(const std::vector<pg::Table>& tables, int jobs);

// Whether the target transaction `xid` (txid_current(), which counts
// wraparounds) committed. A transaction still in progress (the backend of a
// killed run finishing its COMMIT) is waited for; one too old for the server
// to remember is an error rather than a guess.
Result<bool> transaction_committed(pg::Connection& target, const std::string& xid);

// After an interruption: a part journaled as copying is done when its target
// transaction committed and pending otherwise. When the new run copies at a
// different snapshot than the old one, a table with some parts done and some
// not would mix two instants (rows moved between blocks in between), so it is
// emptied on the target and copied again whole. Returns the tables reset.
Result<std::vector<std::string>> reconcile_parts(CloneJournal& journal, pg::Connection& target,
                                                 const std::string& new_snapshot_lsn,
                                                 bool truncate_allowed);

}  // namespace ferry::db
