// A thin RAII layer over SQLite, ferry's embedded journal. Handles close
// themselves; every failure comes back as an Error naming the database file
// and SQLite's message.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/error.h"

struct sqlite3;
struct sqlite3_stmt;

namespace ferry {

class SqliteStatement;

class SqliteDb {
 public:
  // Opens (creating when missing) the database at `path` in WAL mode, so a
  // process killed at any moment leaves the last committed state behind.
  static Result<SqliteDb> open(const std::string& path);

  // Runs one or more statements that return no rows.
  Result<void> exec(std::string_view sql);
  Result<SqliteStatement> prepare(std::string_view sql);
  const std::string& path() const { return path_; }

 private:
  struct Closer {
    void operator()(sqlite3* db) const;
  };
  std::unique_ptr<sqlite3, Closer> db_;
  std::string path_;
  friend class SqliteStatement;
};

// BEGIN IMMEDIATE when made; ROLLBACK when it goes away without commit(),
// so an early return on an error never leaves half of the writes behind.
class SqliteTransaction {
 public:
  static Result<SqliteTransaction> begin(SqliteDb& db);
  SqliteTransaction(SqliteTransaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  SqliteTransaction& operator=(SqliteTransaction&&) = delete;
  ~SqliteTransaction();
  Result<void> commit();

 private:
  explicit SqliteTransaction(SqliteDb* db) : db_(db) {}
  SqliteDb* db_;  // null once committed or rolled back
};

// A prepared statement. Bind parameters by 1-based index, then step() through
// the rows; reset() makes it reusable.
class SqliteStatement {
 public:
  SqliteStatement& bind(int index, int64_t value);
  SqliteStatement& bind(int index, double value);
  SqliteStatement& bind(int index, std::string_view value);
  SqliteStatement& bind_null(int index);
  // True while a row is available; false when done.
  Result<bool> step();
  // Runs to completion (for statements without rows) and resets.
  Result<void> run();
  void reset();

  int64_t int_at(int column) const;
  double double_at(int column) const;
  std::string text_at(int column) const;

 private:
  friend class SqliteDb;
  struct Finalizer {
    void operator()(sqlite3_stmt* s) const;
  };
  SqliteStatement(sqlite3* db, sqlite3_stmt* s, std::string path)
      : db_(db), stmt_(s), path_(std::move(path)) {}
  Error error(std::string_view what) const;
  sqlite3* db_;
  std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
  std::string path_;
};

}  // namespace ferry
