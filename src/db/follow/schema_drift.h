// DDL on the source while follow runs. Logical replication carries rows, not
// schema changes; what ferry sees is a Relation message describing a table
// whose columns no longer match the target. This compares the two and says
// what to do:
//  - a new column whose existing rows are known (no default, or a constant
//    one PostgreSQL stored for them) is added on the target, with the value
//    those rows hold on the source;
//  - a new table, or a column whose existing rows cannot be known from the
//    catalog, stops follow with the commands that fix it;
//  - a column dropped or retyped on the source is reported; rows still apply.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "pg/pgoutput.h"

namespace ferry::pg {
class Connection;
}

namespace ferry::db {

struct DriftOutcome {
  std::vector<std::string> statements;  // to run on the target before applying on
  std::vector<std::string> warnings;
};

class SchemaDriftCheck {
 public:
  // Both connections stay owned by the caller and must outlive the check.
  SchemaDriftCheck(pg::Connection& source, pg::Connection& target)
      : source_(&source), target_(&target) {}
  // An error (ErrorCode::kInvalidInput) when applying on would be wrong.
  Result<DriftOutcome> check(const pg::RelationMessage& relation);

 private:
  Result<std::string> add_column_statement(const std::string& table, const std::string& column,
                                           std::vector<std::string>& problems);
  pg::Connection* source_;
  pg::Connection* target_;
  std::map<uint32_t, std::string> checked_;  // relation id -> column signature already checked
};

}  // namespace ferry::db
