// RAII over libpq. A Connection owns its PGconn, every result owns its
// PGresult, and every failure is an Error carrying the server's SQLSTATE,
// message, detail and hint, with the (password-masked) server as context.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "pg/conninfo.h"

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace ferry::pg {

// The SQLSTATE an Error carries when the connection itself failed (libpq
// reports none): "08006", connection_failure.
inline constexpr const char* kConnectionFailure = "08006";

// The rows (or command status) of one statement.
class Rows {
 public:
  int size() const;
  int width() const;
  // The text of a value; "" for NULL (check is_null when it matters).
  std::string_view at(int row, int column) const;
  bool is_null(int row, int column) const;
  int64_t int_at(int row, int column) const;  // 0 for NULL
  double double_at(int row, int column) const;
  bool bool_at(int row, int column) const;  // PostgreSQL's 't'
  // Rows affected by INSERT/UPDATE/DELETE/COPY, from the command tag.
  int64_t affected() const;

 private:
  friend class Connection;
  struct Clear {
    void operator()(PGresult* r) const;
  };
  explicit Rows(PGresult* r) : result_(r) {}
  std::unique_ptr<PGresult, Clear> result_;
};

struct OpenOptions {
  std::string application_name = "ferry";
  // A walsender connection (replication=database): slots and exported snapshots.
  bool replication = false;
};

class Connection {
 public:
  // Connects and fixes the session settings that make text output identical
  // on every server (UTC, ISO dates, exact floats, hex bytea), so values read
  // from two servers can be compared byte for byte.
  static Result<Connection> open(const ConnInfo& info, const OpenOptions& options = {});

  Result<Rows> query(std::string_view sql);
  // $1, $2 ... as text parameters.
  Result<Rows> query(std::string_view sql, const std::vector<std::string>& params);
  Result<void> exec(std::string_view sql);

  // Asynchronous form, to run the same statement on two servers at once:
  // send() on both, then receive() from both.
  Result<void> send(std::string_view sql);
  Result<Rows> receive();

  // Several statements separated by ";\n" in one round trip (simple query
  // protocol): the rows each affected, in order, or the first failure (the
  // server skips the statements after it).
  Result<std::vector<int64_t>> run_batch(std::string_view sql);
  // COPY ... TO STDOUT. read_copy() returns the next chunk, empty at the end.
  Result<void> start_copy_out(std::string_view sql);
  struct CopyChunk {
    struct Free {
      void operator()(char* p) const;
    };
    std::unique_ptr<char, Free> data;
    size_t size = 0;
  };
  Result<CopyChunk> read_copy();
  // COPY ... FROM STDIN. end_copy_in() returns the rows the server stored.
  Result<void> start_copy_in(std::string_view sql);
  Result<void> write_copy(const char* data, size_t size);
  Result<int64_t> end_copy_in();
  // Abandons a COPY FROM STDIN with an error, so the server rolls it back.
  void abort_copy_in(const std::string& reason);

  // COPY BOTH (replication streams): the next message if one has arrived,
  // nullopt otherwise, without blocking; wait_readable() blocks until data
  // arrives or `timeout_ms` passes. flush() sends what write_copy() queued.
  Result<void> start_copy_both(std::string_view sql);
  Result<std::optional<CopyChunk>> try_read_copy();
  Result<void> wait_readable(int timeout_ms);
  Result<void> flush();

  int server_version() const;  // 150004 for 15.4
  const ConnInfo& info() const { return info_; }

 private:
  struct Finish {
    void operator()(PGconn* c) const;
  };
  Error error_from(const PGresult* r, std::string_view sql) const;
  Error connection_error(std::string_view what) const;
  Result<Rows> check(PGresult* r, std::string_view sql);

  std::unique_ptr<PGconn, Finish> conn_;
  ConnInfo info_;
  std::string pending_;  // the statement send() sent, named if it fails
};

// "name" with embedded quotes doubled: always quoted, so mixed case, spaces,
// dots and unicode survive.
std::string quote_ident(std::string_view name);
// 'text' with embedded quotes doubled (standard_conforming_strings is on).
std::string quote_literal(std::string_view text);
// schema.name, both quoted.
std::string qualified_name(std::string_view schema, std::string_view name);

}  // namespace ferry::pg
