// Decoding of the pgoutput plugin's logical replication messages (protocol
// version 1), the changes `ferry db follow` applies: one message per call,
// from the payload of an XLogData frame or a row of
// pg_logical_slot_get_binary_changes(). Input comes from the network, so
// every length is checked: a short or malformed message is an error naming
// the message and the offset, never a read past the end.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.h"

namespace ferry::pg {

using Lsn = uint64_t;

// Now, in the protocol's clock: microseconds since 2000-01-01 (as commit
// times in Begin and Commit messages and standby status updates).
int64_t micros_since_2000();

// "16/B374D848", as PostgreSQL prints an LSN.
std::string lsn_text(Lsn lsn);
std::optional<Lsn> parse_lsn(std::string_view text);

struct BeginMessage {
  Lsn final_lsn = 0;
  int64_t commit_time = 0;  // microseconds since 2000-01-01
  uint32_t xid = 0;
};

struct CommitMessage {
  Lsn commit_lsn = 0, end_lsn = 0;
  int64_t commit_time = 0;
};

struct OriginMessage {
  Lsn origin_lsn = 0;
  std::string name;
};

struct RelationColumn {
  bool key = false;  // part of the replica identity
  std::string name;
  uint32_t type_oid = 0;
  int32_t type_modifier = -1;
};

struct RelationMessage {
  uint32_t relation_id = 0;
  std::string schema, name;  // schema "" means pg_catalog
  char replica_identity = 'd';
  std::vector<RelationColumn> columns;
};

struct TypeMessage {
  uint32_t type_oid = 0;
  std::string schema, name;
};

// One column of a tuple: NULL, an unchanged TOASTed value the update did
// not send, or the value as text.
struct TupleValue {
  enum class Kind { kNull, kUnchangedToast, kText };
  Kind kind = Kind::kNull;
  std::string text;
};
using Tuple = std::vector<TupleValue>;

struct InsertMessage {
  uint32_t relation_id = 0;
  Tuple new_tuple;
};

struct UpdateMessage {
  uint32_t relation_id = 0;
  // The old key ('K', when the key changed) or the whole old row ('O', with
  // REPLICA IDENTITY FULL); neither when the key did not change.
  std::optional<Tuple> old_key, old_row;
  Tuple new_tuple;
};

struct DeleteMessage {
  uint32_t relation_id = 0;
  std::optional<Tuple> old_key, old_row;
};

struct TruncateMessage {
  bool cascade = false, restart_identity = false;
  std::vector<uint32_t> relation_ids;
};

// pg_logical_emit_message() output.
struct LogicalMessage {
  bool transactional = false;
  Lsn lsn = 0;
  std::string prefix, content;
};

using PgOutputMessage =
    std::variant<BeginMessage, CommitMessage, OriginMessage, RelationMessage, TypeMessage,
                 InsertMessage, UpdateMessage, DeleteMessage, TruncateMessage, LogicalMessage>;

Result<PgOutputMessage> decode_pgoutput(std::string_view message);

}  // namespace ferry::pg
