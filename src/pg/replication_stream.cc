#include "pg/replication_stream.h"

#include <fmt/format.h>

#include <chrono>

#include "pg/connection.h"

namespace ferry::pg {

namespace {

uint64_t read_u64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void write_u64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

}  // namespace

ReplicationStream::ReplicationStream(ReplicationStream&&) noexcept = default;
ReplicationStream& ReplicationStream::operator=(ReplicationStream&&) noexcept = default;
ReplicationStream::~ReplicationStream() = default;

Result<ReplicationStream> ReplicationStream::start(const ConnInfo& source, const std::string& slot,
                                                   const std::string& publications, Lsn start) {
  auto conn = Connection::open(source, {"ferry follow", /*replication=*/true});
  if (!conn) return tl::unexpected(conn.error());
  const std::string sql = fmt::format(
      "START_REPLICATION SLOT {} LOGICAL {} (proto_version '1', publication_names {}, "
      "messages 'true')",
      quote_ident(slot), lsn_text(start), quote_literal(publications));
  if (auto ok = conn->start_copy_both(sql); !ok)
    return tl::unexpected(std::move(ok.error()).with_context("starting replication from " + slot));
  ReplicationStream s;
  s.conn_ = std::make_unique<Connection>(std::move(*conn));
  s.confirmed_ = start;
  return s;
}

Result<std::optional<ReplicationFrame>> ReplicationStream::next(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    auto got = conn_->try_read_copy();
    if (!got) return tl::unexpected(got.error());
    if (*got) {
      const char* p = (*got)->data.get();
      const size_t n = (*got)->size;
      if (n >= 25 && p[0] == 'w') {  // XLogData: start, end, send time, payload
        ReplicationFrame f;
        f.start = read_u64(p + 1);
        f.server_end = read_u64(p + 9);
        server_end_ = std::max(server_end_, f.server_end);
        f.payload.assign(p + 25, n - 25);
        return std::optional<ReplicationFrame>(std::move(f));
      }
      if (n >= 18 && p[0] == 'k') {  // keepalive: end, send time, reply requested
        server_end_ = std::max(server_end_, read_u64(p + 1));
        if (p[17] != 0) {
          if (auto ok = send_status(false); !ok) return tl::unexpected(ok.error());
        }
        continue;
      }
      return fail(ErrorCode::kDatabase,
                  fmt::format("unexpected replication message '{}' ({} bytes)", p[0], n));
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) return std::optional<ReplicationFrame>();
    if (auto ok = conn_->wait_readable(static_cast<int>(left)); !ok)
      return tl::unexpected(ok.error());
  }
}

Result<void> ReplicationStream::confirm(Lsn lsn) {
  confirmed_ = std::max(confirmed_, lsn);
  return send_status(false);
}

Result<void> ReplicationStream::send_status(bool reply_requested) {
  // Standby status update: written, flushed, applied, clock, reply requested.
  std::string msg = "r";
  for (int i = 0; i < 3; ++i) write_u64(msg, confirmed_);
  write_u64(msg, static_cast<uint64_t>(micros_since_2000()));
  msg.push_back(reply_requested ? 1 : 0);
  if (auto ok = conn_->write_copy(msg.data(), msg.size()); !ok) return ok;
  return conn_->flush();
}

}  // namespace ferry::pg
