#include "pg/connection.h"

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "core/log.h"

namespace ferry::pg {

namespace {

// libpq's message on one line (a log line is one event): its line breaks
// and the tab before a hint become spaces; the trailing newline goes.
std::string trimmed(const char* s) {
  std::string out;
  for (const char* p = s ? s : ""; *p; ++p) {
    if (*p != '\n' && *p != '\t') {
      out += *p;
    } else if (!out.empty() && out.back() != ' ') {
      out += ' ';
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

constexpr const char* kSessionSettings =
    "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres';"
    "SET extra_float_digits = 3; SET bytea_output = 'hex'; SET client_encoding = 'UTF8';"
    "SET statement_timeout = 0; SET lock_timeout = 0; SET idle_in_transaction_session_timeout = 0";

// Which statement failed, in a line: for a parse error in a script, the
// statement around the reported position; otherwise the first line that is
// not a comment or a session SET (scripts from pg_restore start with those).
std::string statement_hint(const PGresult* r, std::string_view sql) {
  size_t at = 0;
  if (const char* position = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION)) {
    // The position counts characters; walk UTF-8 to find its byte.
    long chars = std::atol(position) - 1;
    while (at < sql.size() && chars > 0) {
      ++at;
      while (at < sql.size() && (static_cast<unsigned char>(sql[at]) & 0xC0) == 0x80) ++at;
      --chars;
    }
    const auto start = sql.rfind(";\n", at);
    at = start == std::string_view::npos ? 0 : start + 2;
  }
  std::string line;
  while (at < sql.size()) {
    const auto end = std::min(sql.find('\n', at), sql.size());
    line = std::string(sql.substr(at, end - at));
    at = end + 1;
    if (!line.empty() && !line.starts_with("--") && !line.starts_with("SET ") &&
        !line.starts_with("SELECT pg_catalog.set_config") && line != "BEGIN;")
      break;
  }
  if (line.size() > 160) line = line.substr(0, 157) + "...";
  return line;
}

}  // namespace

void Rows::Clear::operator()(PGresult* r) const { PQclear(r); }
void Connection::Finish::operator()(PGconn* c) const { PQfinish(c); }
void Connection::CopyChunk::Free::operator()(char* p) const { PQfreemem(p); }

int Rows::size() const { return PQntuples(result_.get()); }
int Rows::width() const { return PQnfields(result_.get()); }
std::string_view Rows::at(int row, int column) const {
  return {PQgetvalue(result_.get(), row, column),
          static_cast<size_t>(PQgetlength(result_.get(), row, column))};
}
bool Rows::is_null(int row, int column) const {
  return PQgetisnull(result_.get(), row, column) != 0;
}
int64_t Rows::int_at(int row, int column) const {
  const auto text = at(row, column);
  int64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}
double Rows::double_at(int row, int column) const {
  return std::strtod(std::string(at(row, column)).c_str(), nullptr);
}
bool Rows::bool_at(int row, int column) const { return at(row, column) == "t"; }
int64_t Rows::affected() const {
  const char* n = PQcmdTuples(result_.get());
  return n && *n ? std::strtoll(n, nullptr, 10) : 0;
}

Result<Connection> Connection::open(const ConnInfo& info, const OpenOptions& options) {
  // The user's string comes first; ferry's keywords override only what it must.
  std::vector<const char*> keys, values;
  keys.push_back("dbname");
  values.push_back(info.original.c_str());
  keys.push_back("application_name");
  values.push_back(options.application_name.c_str());
  bool has_timeout = false;
  for (const auto& [k, v] : info.options) has_timeout |= k == "connect_timeout";
  if (!has_timeout) {
    keys.push_back("connect_timeout");
    values.push_back("10");
  }
  if (options.replication) {
    keys.push_back("replication");
    values.push_back("database");
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  Connection c;
  c.info_ = info;
  c.conn_.reset(PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1));
  if (!c.conn_) return fail(ErrorCode::kDatabase, "out of memory connecting to " + info.redacted());
  if (PQstatus(c.conn_.get()) != CONNECTION_OK) {
    Error e{ErrorCode::kDatabase, trimmed(PQerrorMessage(c.conn_.get())), {}, {}};
    if (e.message.find("password authentication failed") != std::string::npos)
      e.sqlstate = "28P01";
    else if (e.message.find("the database system is") != std::string::npos)
      e.sqlstate = "57P03";
    else
      e.sqlstate = kConnectionFailure;
    // libpq checks some values (a port that is not a number) only when
    // connecting: those are the user's input, not the server's refusal.
    if (e.message.starts_with("invalid ")) e.code = ErrorCode::kInvalidInput;
    return tl::unexpected(std::move(e).with_context("connecting to " + info.redacted()));
  }
  // Server notices (a ROLLBACK with nothing open, pg_restore's chatter) go
  // to the debug log, not straight to stderr.
  PQsetNoticeProcessor(
      c.conn_.get(),
      [](void*, const char* message) { log_debug(std::string("server: ") + trimmed(message)); },
      nullptr);
  if (!options.replication) {
    if (auto ok = c.exec(kSessionSettings); !ok) return tl::unexpected(ok.error());
  }
  return c;
}

Error Connection::connection_error(std::string_view what) const {
  Error e{ErrorCode::kDatabase, trimmed(PQerrorMessage(conn_.get())), {}, {}};
  // libpq gives no SQLSTATE when the socket is gone; name the class so
  // callers can tell a lost connection from a refused statement.
  if (PQstatus(conn_.get()) == CONNECTION_BAD) e.sqlstate = kConnectionFailure;
  return std::move(e).with_context(std::string(what) + " on " + info_.redacted());
}

Error Connection::error_from(const PGresult* r, std::string_view sql) const {
  if (!r) return connection_error("running a statement");
  Error e{ErrorCode::kDatabase, trimmed(PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)), {}, {}};
  if (e.message.empty()) e.message = trimmed(PQresultErrorMessage(r));
  if (e.message.empty()) e.message = trimmed(PQerrorMessage(conn_.get()));
  if (const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE)) e.sqlstate = state;
  if (e.sqlstate.empty() && PQstatus(conn_.get()) == CONNECTION_BAD)
    e.sqlstate = kConnectionFailure;
  if (const char* detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL))
    e.message += std::string(" (") + detail + ")";
  if (const char* hint = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT))
    e.message += std::string(" hint: ") + hint;
  if (!e.sqlstate.empty()) e.message += " [SQLSTATE " + e.sqlstate + "]";
  return std::move(e).with_context(info_.redacted() + ": " + statement_hint(r, sql));
}

Result<Rows> Connection::check(PGresult* raw, std::string_view sql) {
  Rows rows(raw);
  const auto status = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK || status == PGRES_COPY_OUT ||
      status == PGRES_COPY_IN || status == PGRES_COPY_BOTH)
    return rows;
  return tl::unexpected(error_from(raw, sql));
}

Result<Rows> Connection::query(std::string_view sql) {
  const std::string text(sql);
  return check(PQexec(conn_.get(), text.c_str()), sql);
}

Result<Rows> Connection::query(std::string_view sql, const std::vector<std::string>& params) {
  const std::string text(sql);
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  return check(PQexecParams(conn_.get(), text.c_str(), static_cast<int>(values.size()), nullptr,
                            values.data(), nullptr, nullptr, 0),
               sql);
}

Result<void> Connection::exec(std::string_view sql) {
  auto r = query(sql);
  if (!r) return tl::unexpected(r.error());
  return {};
}

Result<void> Connection::send(std::string_view sql) {
  const std::string text(sql);
  if (!PQsendQuery(conn_.get(), text.c_str())) return tl::unexpected(connection_error("sending"));
  pending_ = text;
  return {};
}

Result<Rows> Connection::receive() {
  // A multi-statement string yields several results: the last one counts,
  // and the first failure wins.
  std::optional<Result<Rows>> last;
  while (PGresult* r = PQgetResult(conn_.get())) {
    auto checked = check(r, pending_);
    if (!last || *last) last = std::move(checked);
  }
  if (!last) return tl::unexpected(connection_error("receiving"));
  return std::move(*last);
}

Result<std::vector<int64_t>> Connection::run_batch(std::string_view sql) {
  if (auto ok = send(sql); !ok) return tl::unexpected(ok.error());
  std::vector<int64_t> affected;
  std::optional<Error> failed;
  while (PGresult* r = PQgetResult(conn_.get())) {
    auto checked = check(r, pending_);
    if (!checked && !failed) failed = std::move(checked.error());
    if (checked) affected.push_back(checked->affected());
  }
  if (failed) return tl::unexpected(std::move(*failed));
  if (affected.empty()) return tl::unexpected(connection_error("receiving"));
  return affected;
}

Result<void> Connection::start_copy_out(std::string_view sql) {
  auto r = query(sql);
  if (!r) return tl::unexpected(r.error());
  if (PQresultStatus(r->result_.get()) != PGRES_COPY_OUT)
    return fail(ErrorCode::kInternal, "not a COPY TO STDOUT statement: " + std::string(sql));
  return {};
}

Result<Connection::CopyChunk> Connection::read_copy() {
  char* buffer = nullptr;
  const int n = PQgetCopyData(conn_.get(), &buffer, 0);
  CopyChunk chunk;
  if (n > 0) {
    chunk.data.reset(buffer);
    chunk.size = static_cast<size_t>(n);
    return chunk;
  }
  if (n == -2) return tl::unexpected(connection_error("reading COPY data"));
  // -1: the COPY is over; its final status says whether it succeeded.
  auto done = receive();
  if (!done) return tl::unexpected(done.error());
  return chunk;
}

Result<void> Connection::start_copy_in(std::string_view sql) {
  auto r = query(sql);
  if (!r) return tl::unexpected(r.error());
  if (PQresultStatus(r->result_.get()) != PGRES_COPY_IN)
    return fail(ErrorCode::kInternal, "not a COPY FROM STDIN statement: " + std::string(sql));
  return {};
}

Result<void> Connection::write_copy(const char* data, size_t size) {
  if (PQputCopyData(conn_.get(), data, static_cast<int>(size)) != 1)
    return tl::unexpected(connection_error("writing COPY data"));
  return {};
}

Result<int64_t> Connection::end_copy_in() {
  if (PQputCopyEnd(conn_.get(), nullptr) != 1)
    return tl::unexpected(connection_error("ending COPY"));
  auto done = receive();
  if (!done) return tl::unexpected(done.error());
  return done->affected();
}

void Connection::abort_copy_in(const std::string& reason) {
  PQputCopyEnd(conn_.get(), reason.c_str());
  while (PGresult* r = PQgetResult(conn_.get())) PQclear(r);
}

Result<void> Connection::start_copy_both(std::string_view sql) {
  auto r = query(sql);
  if (!r) return tl::unexpected(r.error());
  if (PQresultStatus(r->result_.get()) != PGRES_COPY_BOTH)
    return fail(ErrorCode::kInternal, "not a replication command: " + std::string(sql));
  return {};
}

Result<std::optional<Connection::CopyChunk>> Connection::try_read_copy() {
  char* buffer = nullptr;
  const int n = PQgetCopyData(conn_.get(), &buffer, /*async=*/1);
  if (n == 0) return std::optional<CopyChunk>();
  if (n > 0) {
    CopyChunk chunk;
    chunk.data.reset(buffer);
    chunk.size = static_cast<size_t>(n);
    return std::optional<CopyChunk>(std::move(chunk));
  }
  if (n == -2) return tl::unexpected(connection_error("reading the replication stream"));
  // -1: the server ended the stream; its final result says why.
  auto done = receive();
  if (!done) return tl::unexpected(done.error());
  return fail(ErrorCode::kDatabase,
              "the server ended the replication stream on " + info_.redacted());
}

Result<void> Connection::wait_readable(int timeout_ms) {
  pollfd fd{PQsocket(conn_.get()), POLLIN, 0};
  if (fd.fd < 0) return tl::unexpected(connection_error("waiting for data"));
  const int ready = poll(&fd, 1, timeout_ms);
  if (ready < 0 && errno != EINTR)
    return fail(ErrorCode::kIo, std::string("poll: ") + std::strerror(errno));
  if (ready > 0 && !PQconsumeInput(conn_.get()))
    return tl::unexpected(connection_error("reading the replication stream"));
  return {};
}

Result<void> Connection::flush() {
  if (PQflush(conn_.get()) != 0) return tl::unexpected(connection_error("sending"));
  return {};
}

int Connection::server_version() const { return PQserverVersion(conn_.get()); }

std::string quote_ident(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string quote_literal(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string qualified_name(std::string_view schema, std::string_view name) {
  return quote_ident(schema) + "." + quote_ident(name);
}

}  // namespace ferry::pg
