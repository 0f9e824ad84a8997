// A source transaction as follow applies it: its Begin and Commit, and its
// row changes already resolved to the target table they touch. Relations are
// shared, immutable snapshots: a Relation message that changes a table's
// columns makes a new one, and transactions still queued keep the columns
// they were decoded with.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pg/pgoutput.h"

namespace ferry::db {

struct TargetRelation {
  uint32_t id = 0;                   // the source's relation OID, as in the stream
  std::string display;               // schema.name, unquoted, for messages
  std::string qualified;             // "schema"."name"
  std::vector<std::string> columns;  // quoted
  std::vector<std::string> names;    // as in the catalog
  std::vector<uint32_t> types;       // the source's type OIDs
  std::vector<bool> key;             // part of the replica identity
  // REPLICA IDENTITY FULL without a key: rows are matched whole, and changes
  // to the table are ordered as a whole (identical rows cannot be told apart).
  bool keyless = false;
  // No replica identity at all (the insert-only publication): only inserts
  // and truncates arrive, and inserts commute, so they need no order among
  // themselves, only against a TRUNCATE.
  bool insert_only = false;
};

struct Change {
  enum class Kind { kInsert, kUpdate, kDelete, kTruncate };
  Kind kind = Kind::kInsert;
  std::shared_ptr<const TargetRelation> relation;  // every kind but truncate
  pg::Tuple new_tuple;
  // The old key (when an update changed it, or a delete) or the whole old row
  // (REPLICA IDENTITY FULL).
  std::optional<pg::Tuple> old_key, old_row;
  // Truncate: the tables, and its options.
  std::vector<std::shared_ptr<const TargetRelation>> truncated;
  bool cascade = false, restart_identity = false;
  // Some of the tables the source emptied are left out here (a copy of them
  // is newer, or a resync holds them back): the rest are emptied with
  // DELETE, which neither cascades into the left-out ones nor is refused for
  // their foreign keys (the apply session has key checks off).
  bool partial = false;
};

struct SourceTransaction {
  int64_t seq = 0;  // position in source commit order, from 1
  pg::BeginMessage begin;
  pg::CommitMessage commit;
  std::vector<Change> changes;
  size_t bytes = 0;  // of the decoded values, to bound what is held in memory
};

}  // namespace ferry::db
