// A logical replication stream from a pgoutput slot over the walsender
// protocol: START_REPLICATION, XLogData frames whose payloads are pgoutput
// messages, keepalives answered, and standby status updates that tell the
// server how far the receiver has durably applied. The slot's confirmed
// position moves only through confirm(): the caller decides when a change is
// safe on the target, so nothing is released before it is.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/error.h"
#include "pg/conninfo.h"
#include "pg/pgoutput.h"

namespace ferry::pg {

class Connection;

struct ReplicationFrame {
  Lsn start = 0;        // where this message's WAL begins
  Lsn server_end = 0;   // the server's WAL end when it sent it (for lag)
  std::string payload;  // one pgoutput message
};

class ReplicationStream {
 public:
  // Streams `slot` from `start` (0: from the slot's confirmed position) for
  // the given publications (comma-separated names), pgoutput protocol 1 with
  // logical decoding messages.
  static Result<ReplicationStream> start(const ConnInfo& source, const std::string& slot,
                                         const std::string& publications, Lsn start = 0);
  ReplicationStream(ReplicationStream&&) noexcept;
  ReplicationStream& operator=(ReplicationStream&&) noexcept;
  ~ReplicationStream();

  // The next frame, or nullopt when none arrived within `timeout_ms`.
  // Keepalives are answered on the way, with the last confirmed position.
  Result<std::optional<ReplicationFrame>> next(int timeout_ms);
  // Everything up to `lsn` is durably applied: the server may release it.
  Result<void> confirm(Lsn lsn);
  // The server's WAL end as last reported (data frames and keepalives).
  Lsn server_end() const { return server_end_; }

 private:
  ReplicationStream() = default;
  Result<void> send_status(bool reply_requested);
  std::unique_ptr<Connection> conn_;
  Lsn confirmed_ = 0;
  Lsn server_end_ = 0;
};

}  // namespace ferry::pg
