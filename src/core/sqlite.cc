#include "core/sqlite.h"

#include <sqlite3.h>

namespace ferry {

namespace {

Error sqlite_error(sqlite3* db, const std::string& path, std::string_view what) {
  return Error{ErrorCode::kIo,
               std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "out of memory"),
               {},
               {path}};
}

}  // namespace

void SqliteDb::Closer::operator()(sqlite3* db) const { sqlite3_close_v2(db); }
void SqliteStatement::Finalizer::operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }

Result<SqliteDb> SqliteDb::open(const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  SqliteDb db;
  db.db_.reset(raw);
  db.path_ = path;
  if (rc != SQLITE_OK) return tl::unexpected(sqlite_error(raw, path, "opening journal"));
  sqlite3_busy_timeout(raw, 5000);
  // WAL + NORMAL: a killed process loses nothing that was committed; only a
  // power cut could lose the last transactions, and the journal is
  // re-checked against the target on resume anyway.
  if (auto ok = db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"); !ok)
    return tl::unexpected(ok.error());
  return db;
}

Result<void> SqliteDb::exec(std::string_view sql) {
  char* message = nullptr;
  const std::string text(sql);
  if (sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string m = message ? message : "unknown error";
    sqlite3_free(message);
    return tl::unexpected(Error{ErrorCode::kIo, m, {}, {path_}});
  }
  return {};
}

Result<SqliteStatement> SqliteDb::prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &s, nullptr) !=
      SQLITE_OK)
    return tl::unexpected(sqlite_error(db_.get(), path_, "preparing journal statement"));
  return SqliteStatement(db_.get(), s, path_);
}

Result<SqliteTransaction> SqliteTransaction::begin(SqliteDb& db) {
  if (auto ok = db.exec("BEGIN IMMEDIATE"); !ok) return tl::unexpected(ok.error());
  return SqliteTransaction(&db);
}

SqliteTransaction::~SqliteTransaction() {
  if (db_) (void)db_->exec("ROLLBACK");
}

Result<void> SqliteTransaction::commit() {
  SqliteDb* db = std::exchange(db_, nullptr);
  auto ok = db->exec("COMMIT");
  // A failed COMMIT leaves the transaction open: end it, so the next one can begin.
  if (!ok) (void)db->exec("ROLLBACK");
  return ok;
}

SqliteStatement& SqliteStatement::bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_.get(), index, value);
  return *this;
}
SqliteStatement& SqliteStatement::bind(int index, double value) {
  sqlite3_bind_double(stmt_.get(), index, value);
  return *this;
}
SqliteStatement& SqliteStatement::bind(int index, std::string_view value) {
  sqlite3_bind_text(stmt_.get(), index, value.data(), static_cast<int>(value.size()),
                    SQLITE_TRANSIENT);
  return *this;
}
SqliteStatement& SqliteStatement::bind_null(int index) {
  sqlite3_bind_null(stmt_.get(), index);
  return *this;
}

Error SqliteStatement::error(std::string_view what) const { return sqlite_error(db_, path_, what); }

Result<bool> SqliteStatement::step() {
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return tl::unexpected(error("writing journal"));
}

Result<void> SqliteStatement::run() {
  auto r = step();
  reset();
  if (!r) return tl::unexpected(r.error());
  return {};
}

void SqliteStatement::reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

int64_t SqliteStatement::int_at(int column) const {
  return sqlite3_column_int64(stmt_.get(), column);
}
double SqliteStatement::double_at(int column) const {
  return sqlite3_column_double(stmt_.get(), column);
}
std::string SqliteStatement::text_at(int column) const {
  const auto* p = sqlite3_column_text(stmt_.get(), column);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<size_t>(sqlite3_column_bytes(stmt_.get(), column)))
           : std::string();
}

}  // namespace ferry
