// `ferry db verify`: proves that two databases hold the same data, or names
// every difference. Rows are compared by checksums computed inside each
// database (both servers at once); only ranges whose checksums differ are
// narrowed down and fetched, so equal tables cost one scan per side and a
// changed row costs little more. Also sequences, schema and settings.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "pg/conninfo.h"

namespace ferry::db {

struct VerifyOptions {
  pg::ConnInfo source, target;
  // schema.table names or patterns with * (e.g. "public.*", "sales.order*");
  // empty: every table.
  std::vector<std::string> tables;
  int jobs = 4;
  int64_t rows_per_bucket = 10000;  // first-pass checksum granularity
  size_t max_rows_reported = 50;    // per table; counts stay exact
  bool rows = true, sequences = true, schema = true, settings = true;

  // Whether `name` ("schema.table", or "schema.table.column" and the like for
  // what belongs to a table) is among --tables.
  bool selects(const std::string& name) const;
};

struct RowDifference {
  enum class Kind { kMissing, kExtra, kChanged };
  Kind kind = Kind::kChanged;
  std::string key;         // "id=42", "(tenant, id)=(7,abc)", or the row itself without a key
  std::string source_row;  // the row as text; empty when absent
  std::string target_row;
  int64_t source_count = 1, target_count = 1;  // tables without a key: copies of the row
};

struct TableVerdict {
  std::string table;   // schema.name
  std::string method;  // "key ranges", "key hash buckets", "row multiset"
  int64_t source_rows = 0, target_rows = 0;
  int64_t missing = 0, extra = 0, changed = 0;  // rows (with multiplicity for multisets)
  std::vector<RowDifference> differences;       // at most max_rows_reported
  std::string problem;  // set when the table could not be compared (missing, error)
  double seconds = 0;
  bool equal() const { return problem.empty() && missing == 0 && extra == 0 && changed == 0; }
};

struct SequenceVerdict {
  std::string sequence;
  int64_t source_next = 0, target_next = 0;
  bool missing_on_target = false;
  bool ok() const { return !missing_on_target && target_next >= source_next; }
};

struct CatalogDifference {
  std::string kind;  // table, column, index, constraint, trigger, sequence, view, setting
  std::string name;
  std::string source, target;  // definitions; empty when absent on that side
};

struct VerifyReport {
  std::vector<TableVerdict> tables;
  std::vector<SequenceVerdict> sequences;
  std::vector<CatalogDifference> schema;
  std::vector<CatalogDifference> settings;
  double seconds = 0;
  bool ok() const;
};

Result<VerifyReport> run_verify(const VerifyOptions& options);

std::string render_verify_text(const VerifyReport& report);
std::string render_verify_json(const VerifyReport& report);

}  // namespace ferry::db
