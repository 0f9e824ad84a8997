// What ferry needs to know about a database's tables, columns, keys and
// sequences, read from the system catalogs in a few set-based queries.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"

namespace ferry::pg {

class Connection;

struct Column {
  std::string name;
  std::string type;        // format_type(): "numeric(10,2)", "\"Sales Data\".mood[]"
  bool generated = false;  // GENERATED ALWAYS AS (...) STORED: never copied
  // The binary COPY format of this type carries no database-specific OIDs
  // (composites and arrays of user-defined types do), so binary is safe.
  bool binary_ok = true;
};

struct Table {
  uint32_t oid = 0;
  std::string schema, name;
  bool unlogged = false;
  int64_t bytes = 0;                     // heap + TOAST, from pg_table_size
  int64_t estimated_rows = 0;            // reltuples: planner estimate, -1 never analysed
  int64_t pages = 0;                     // heap blocks, for ctid ranges
  char replica_identity = 'd';           // d default (primary key), n nothing, f full, i index
  std::vector<Column> columns;           // attnum order, dropped columns left out
  std::vector<std::string> primary_key;  // column names in key order; empty: none

  // "schema"."name"
  std::string qualified() const;
  // "schema.name" for humans (unquoted).
  std::string display() const { return schema + "." + name; }
  // Quoted column list of the columns COPY moves (generated ones excluded).
  std::string copy_columns() const;
  bool binary_copy_ok() const;
  // UPDATE and DELETE can be replicated: a primary key (unless identity is
  // NOTHING), or REPLICA IDENTITY FULL or USING INDEX.
  bool has_replica_identity() const;
};

// Every ordinary table and partition in user schemas, extension-owned ones
// excluded (CREATE EXTENSION recreates them).
Result<std::vector<Table>> list_tables(Connection& conn);

struct Sequence {
  std::string schema, name;
  int64_t last_value = 0;
  bool is_called = false;
  int64_t increment = 1;
  std::string display() const { return schema + "." + name; }
  // The next value nextval() would return.
  int64_t next_value() const { return is_called ? last_value + increment : last_value; }
};

Result<std::vector<Sequence>> list_sequences(Connection& conn);
// Sets `sequences` on `conn` to their listed values (setval with is_called),
// in one round trip; returns how many.
Result<size_t> set_sequences(Connection& conn, const std::vector<Sequence>& sequences);

// The database settings that change how text is stored, sorted and shown,
// the same on both sides of a move or a cause of subtle differences.
struct DatabaseSettings {
  std::string encoding, collate, ctype;
  std::string provider;  // "libc", or "ICU <locale>"
  std::string timezone;  // the default, not this session's (ferry's is UTC)
};

Result<DatabaseSettings> database_settings(Connection& conn);

// A ctid condition selecting heap blocks [block_lo, block_hi); block_hi < 0:
// to the end. Since PostgreSQL 14 a TID range scan reads just those blocks.
std::string ctid_range(int64_t block_lo, int64_t block_hi);

// The schema names that ferry treats as user data (everything but the system's).
constexpr const char* kUserSchemaFilter =
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'";

}  // namespace ferry::pg
