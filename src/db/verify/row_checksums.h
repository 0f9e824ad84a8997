// The SQL side of row verification: how a table's rows are hashed, grouped
// into buckets and fetched, identically on both servers.
//
// A row's hash is hashtextextended() of its text form, ROW(c1, c2, ...)::text,
// with the column list taken from the source and the session settings fixed
// (UTC, ISO dates, exact floats, hex bytea: see pg::Connection), so equal rows
// hash equally on any two servers. Keys are compared as text too, never with
// a collation: two servers sorting text differently still agree on which rows
// match.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace ferry::pg {
class Rows;
}

namespace ferry::db {

// How a table's rows are grouped into checksum buckets.
enum class BucketScheme {
  kKeyRange,  // single integer primary key: bucket = (key - low) / width; narrowed by index ranges
  kKeyHash,   // any other primary key: bucket = hash(key text) & mask
  kRowHash,   // no primary key: bucket = row hash & mask; rows compared as a multiset
};

// Per bucket: row count, the two 32-bit halves of the row hashes summed, and
// their XOR. Sums and XOR both change when any row changes, and sums count
// duplicate rows, so multisets are covered too.
struct BucketSum {
  int64_t count = 0, high = 0, low = 0, x = 0;
  void add(const BucketSum& o) {
    count += o.count;
    high += o.high;
    low += o.low;
    x ^= o.x;
  }
  bool operator==(const BucketSum&) const = default;
};

using BucketMap = std::unordered_map<int64_t, BucketSum>;

struct RowSql {
  std::string table;                 // "schema"."name"
  std::vector<std::string> columns;  // quoted, source order, on both sides
  std::vector<std::string> key;      // quoted primary key columns; empty: none
  BucketScheme scheme = BucketScheme::kRowHash;
  int64_t low = 0, width = 1;  // kKeyRange
  int64_t mask = 0;            // kKeyHash, kRowHash

  std::string row_text() const;
  std::string key_text() const;
  // SELECT bucket, count, high, low, xor over a ctid block range (hi < 0: to the end).
  std::string bucket_scan(int64_t block_lo, int64_t block_hi) const;
  // Sub-buckets of width `sub_width` inside the key range [from, to).
  std::string range_scan(int64_t from, int64_t to, int64_t sub_width) const;
  // min and max key in [from, to).
  std::string range_bounds(int64_t from, int64_t to) const;
  // key text and row text of the rows in [from, to).
  std::string range_rows(int64_t from, int64_t to) const;
  // key text and row text (kKeyHash) or row text and count (kRowHash) of the rows in `buckets`.
  std::string bucket_rows(const std::vector<int64_t>& buckets) const;
};

// Reads the (bucket, count, high, low, xor) rows of a scan into `into`, adding.
void add_bucket_rows(const pg::Rows& rows, BucketMap& into);

}  // namespace ferry::db
