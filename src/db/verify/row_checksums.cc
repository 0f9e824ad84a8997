#include "db/verify/row_checksums.h"

#include <fmt/format.h>

#include "core/text.h"
#include "pg/catalog.h"
#include "pg/connection.h"

namespace ferry::db {

namespace {

// The scans end their subquery with OFFSET 0: without it the planner folds the
// subquery into the aggregate and computes the row hash once per aggregate
// (three times a row), and sorts instead of hashing the few buckets.
constexpr const char* kAggregates =
    "count(*), coalesce(sum(h >> 32), 0), coalesce(sum(h & 4294967295), 0), "
    "coalesce(bit_xor(h), 0)";

}  // namespace

std::string RowSql::row_text() const { return "ROW(" + join(columns, ", ") + ")::text"; }

std::string RowSql::key_text() const {
  return key.size() == 1 ? key[0] + "::text" : "ROW(" + join(key, ", ") + ")::text";
}

std::string RowSql::bucket_scan(int64_t block_lo, int64_t block_hi) const {
  const std::string hash = "hashtextextended(" + row_text() + ", 0)";
  std::string bucket;
  switch (scheme) {
    case BucketScheme::kKeyRange:
      bucket = fmt::format("({}::bigint - ({})) / {}", key[0], low, width);
      break;
    case BucketScheme::kKeyHash:
      bucket = fmt::format("hashtextextended({}, 1) & {}", key_text(), mask);
      break;
    case BucketScheme::kRowHash:
      bucket = fmt::format("{} & {}", hash, mask);
      break;
  }
  const std::string where =
      block_lo == 0 && block_hi < 0 ? "true" : pg::ctid_range(block_lo, block_hi);
  return fmt::format(
      "SELECT b, {} FROM (SELECT {} AS b, {} AS h FROM ONLY {} WHERE {} OFFSET 0) s GROUP BY b",
      kAggregates, bucket, hash, table, where);
}

std::string RowSql::range_scan(int64_t from, int64_t to, int64_t sub_width) const {
  return fmt::format(
      "SELECT b, {} FROM (SELECT ({}::bigint - ({})) / {} AS b, hashtextextended({}, 0) AS h "
      "FROM ONLY {} WHERE {} >= {} AND {} < {} OFFSET 0) s GROUP BY b",
      kAggregates, key[0], from, sub_width, row_text(), table, key[0], from, key[0], to);
}

std::string RowSql::range_bounds(int64_t from, int64_t to) const {
  return fmt::format("SELECT min({0}), max({0}) FROM ONLY {1} WHERE {0} >= {2} AND {0} < {3}",
                     key[0], table, from, to);
}

std::string RowSql::range_rows(int64_t from, int64_t to) const {
  return fmt::format("SELECT {}, {} FROM ONLY {} WHERE {} >= {} AND {} < {}", key_text(),
                     row_text(), table, key[0], from, key[0], to);
}

std::string RowSql::bucket_rows(const std::vector<int64_t>& buckets) const {
  std::string list;
  for (auto b : buckets) list += (list.empty() ? "" : ",") + std::to_string(b);
  if (scheme == BucketScheme::kRowHash)
    return fmt::format(
        "SELECT r, count(*) FROM (SELECT {} AS r FROM ONLY {}) s "
        "WHERE (hashtextextended(r, 0) & {}) IN ({}) GROUP BY r",
        row_text(), table, mask, list);
  return fmt::format("SELECT {}, {} FROM ONLY {} WHERE (hashtextextended({}, 1) & {}) IN ({})",
                     key_text(), row_text(), table, key_text(), mask, list);
}

void add_bucket_rows(const pg::Rows& rows, BucketMap& into) {
  for (int r = 0; r < rows.size(); ++r) {
    BucketSum s{rows.int_at(r, 1), rows.int_at(r, 2), rows.int_at(r, 3), rows.int_at(r, 4)};
    into[rows.int_at(r, 0)].add(s);
  }
}

}  // namespace ferry::db
