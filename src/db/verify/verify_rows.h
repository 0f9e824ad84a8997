// Row verification of many tables over `jobs` pairs of connections: every
// table's first checksum pass is cut into ctid slices scanned in parallel,
// both servers at once; when a table's slices are in, its differing buckets
// are narrowed down and their rows fetched and compared.
#pragma once

#include <vector>

#include "core/error.h"
#include "db/verify/verify.h"

namespace ferry::pg {
class Connection;
}

namespace ferry::db {

Result<std::vector<TableVerdict>> verify_rows(const VerifyOptions& options, pg::Connection& source,
                                              pg::Connection& target);

}  // namespace ferry::db
