// Copies one table part from source to target: COPY ... TO STDOUT on a source
// connection that sees the clone's snapshot, streamed as it arrives into
// COPY ... FROM STDIN on the target, in one target transaction.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "core/error.h"

namespace ferry::pg {
class Connection;
struct Table;
}  // namespace ferry::pg

namespace ferry::db {

struct PartRecord;

// Live counters a progress display reads while the copy runs.
struct CopyCounters {
  std::atomic<int64_t> bytes{0};
  std::atomic<int64_t> rows{0};
};

struct PartCopyResult {
  int64_t rows = 0;
  int64_t bytes = 0;
};

// SQL for the source side, exposed for tests: binary when every column type
// allows it, text otherwise; ctid ranges for parts of a split table.
std::string copy_out_sql(const pg::Table& table, const PartRecord& part);
std::string copy_in_sql(const pg::Table& table);

// `before_commit` receives the target transaction id after the rows are sent
// and before COMMIT; the clone journals it so that a resumed run can ask the
// target whether this transaction committed. `prelude` runs first in the same
// target transaction (a resync empties the table there).
Result<PartCopyResult> copy_part(
    pg::Connection& source, pg::Connection& target, const pg::Table& table, const PartRecord& part,
    CopyCounters& counters, const std::function<Result<void>(const std::string&)>& before_commit,
    const std::string& prelude = {});

}  // namespace ferry::db
