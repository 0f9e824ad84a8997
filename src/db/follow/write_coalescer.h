// Set-based apply: the row changes of several source transactions applied as
// one target transaction, turned into a few statements instead of one per
// row. Within the target transaction only the order of changes to the same
// table matters (triggers and foreign-key checks are off, as in any
// replication apply), so per table:
//  - consecutive inserts become one multi-row INSERT;
//  - consecutive updates that set the same columns and keep the key become
//    one UPDATE ... FROM (VALUES ...), a row updated several times taking its
//    last values;
//  - consecutive deletes by key become one DELETE ... USING (VALUES ...);
//  - anything else (a key change, a whole-row match on a keyless table,
//    TRUNCATE) stays a statement of its own, in order.
// Updated and deleted rows travel as JSON read by json_populate_recordset
// into the table's own row type, so no type names are needed. Each statement says how many
// rows it must change; a shortfall means a row is missing on the target, and
// the caller applies the changes again one by one to name it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "db/follow/source_transaction.h"

namespace ferry::db {

class WriteCoalescer {
 public:
  // `single` writes one change as its own statement (the caller's form).
  using Single = std::function<void(const Change&)>;
  // A coalesced statement and the rows it must change (-1: any number).
  using Statement = std::function<void(std::string sql, int64_t expected_rows)>;

  WriteCoalescer(Single single, Statement statement)
      : single_(std::move(single)), statement_(std::move(statement)) {}

  void add(const Change& c);
  // Writes out everything still pending.
  void finish();

 private:
  enum class RunKind { kNone, kInsert, kUpdate, kDelete };
  struct Run {
    RunKind kind = RunKind::kNone;
    const TargetRelation* relation = nullptr;
    std::string signature;                 // updates: which columns are set
    std::vector<const Change*> changes;    // inserts; updates and deletes: one per key
    std::map<std::string, size_t> by_key;  // key text -> index in changes
  };
  void emit(Run& run);
  void emit_all();

  Single single_;
  Statement statement_;
  std::map<uint32_t, Run> runs_;  // per table
};

}  // namespace ferry::db
