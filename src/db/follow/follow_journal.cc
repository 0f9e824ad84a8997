#include "db/follow/follow_journal.h"

#include <filesystem>

#include "core/text.h"

namespace ferry::db {

namespace {

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS watch_baseline (
  direction TEXT NOT NULL, table_name TEXT NOT NULL, changes INTEGER NOT NULL,
  PRIMARY KEY (direction, table_name));
CREATE TABLE IF NOT EXISTS diverged (
  direction TEXT NOT NULL, table_name TEXT NOT NULL, detected_at TEXT NOT NULL,
  detail TEXT NOT NULL, PRIMARY KEY (direction, table_name));
CREATE TABLE IF NOT EXISTS resync (
  id INTEGER PRIMARY KEY, tables TEXT NOT NULL, state TEXT NOT NULL,
  horizon TEXT NOT NULL DEFAULT '', rows INTEGER NOT NULL DEFAULT 0,
  seconds REAL NOT NULL DEFAULT 0, detail TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS resync_horizon (table_name TEXT PRIMARY KEY, lsn TEXT NOT NULL);
)";

constexpr const char* kResyncColumns = "id, tables, state, horizon, rows, seconds, detail";

constexpr std::pair<ResyncState, const char*> kResyncStates[] = {
    {ResyncState::kRequested, "requested"},
    {ResyncState::kCopying, "copying"},
    {ResyncState::kDone, "done"},
    {ResyncState::kFailed, "failed"},
};

ResyncState parse_resync_state(const std::string& name) {
  for (const auto& [state, n] : kResyncStates)
    if (name == n) return state;
  return ResyncState::kFailed;  // never written by ferry: not to be copied again
}

ResyncRecord read_resync(const SqliteStatement& st) {
  ResyncRecord r;
  r.id = st.int_at(0);
  r.tables = split_trimmed(st.text_at(1), ",");
  r.state = parse_resync_state(st.text_at(2));
  r.horizon = st.text_at(3);
  r.rows = st.int_at(4);
  r.seconds = st.double_at(5);
  r.detail = st.text_at(6);
  return r;
}

}  // namespace

const char* resync_state_name(ResyncState state) {
  for (const auto& [s, name] : kResyncStates)
    if (s == state) return name;
  return "failed";
}

std::string FollowJournal::path(const std::string& dir) {
  return (std::filesystem::path(dir) / "follow.db").string();
}

Result<FollowJournal> FollowJournal::open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(ErrorCode::kIo, "--dir " + dir + ": " + ec.message());
  auto db = SqliteDb::open(path(dir));
  if (!db) return tl::unexpected(db.error());
  if (auto ok = db->exec(kSchema); !ok) return tl::unexpected(ok.error());
  FollowJournal j;
  j.db_ = std::make_unique<SqliteDb>(std::move(*db));
  return j;
}

Result<void> FollowJournal::remove(const std::string& dir) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code ec;
    std::filesystem::remove(path(dir) + suffix, ec);
    if (ec) return fail(ErrorCode::kIo, "removing " + path(dir) + suffix + ": " + ec.message());
  }
  return {};
}

Result<std::map<std::string, int64_t>> FollowJournal::baselines(const std::string& direction) {
  std::lock_guard lock(*mutex_);
  auto st = db_->prepare("SELECT table_name, changes FROM watch_baseline WHERE direction = ?");
  if (!st) return tl::unexpected(st.error());
  st->bind(1, direction);
  std::map<std::string, int64_t> out;
  while (true) {
    auto row = st->step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return out;
    out[st->text_at(0)] = st->int_at(1);
  }
}

Result<void> FollowJournal::set_baseline(const std::string& direction, const std::string& table,
                                         int64_t changes) {
  std::lock_guard lock(*mutex_);
  auto st = db_->prepare(
      "INSERT OR REPLACE INTO watch_baseline (direction, table_name, changes) VALUES (?, ?, ?)");
  if (!st) return tl::unexpected(st.error());
  return st->bind(1, direction).bind(2, table).bind(3, changes).run();
}

Result<void> FollowJournal::reset_direction(const std::string& direction) {
  std::lock_guard lock(*mutex_);
  for (const char* sql : {"DELETE FROM watch_baseline WHERE direction = ?",
                          "DELETE FROM diverged WHERE direction = ?"}) {
    auto st = db_->prepare(sql);
    if (!st) return tl::unexpected(st.error());
    if (auto ok = st->bind(1, direction).run(); !ok) return ok;
  }
  return {};
}

Result<std::vector<DivergedTable>> FollowJournal::diverged(const std::string& direction) {
  std::lock_guard lock(*mutex_);
  auto st = db_->prepare(
      "SELECT table_name, detected_at, detail FROM diverged WHERE direction = ? ORDER BY 1");
  if (!st) return tl::unexpected(st.error());
  st->bind(1, direction);
  std::vector<DivergedTable> out;
  while (true) {
    auto row = st->step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return out;
    out.push_back({st->text_at(0), st->text_at(1), st->text_at(2)});
  }
}

Result<void> FollowJournal::mark_diverged(const std::string& direction, const DivergedTable& t) {
  std::lock_guard lock(*mutex_);
  auto st = db_->prepare(
      "INSERT OR REPLACE INTO diverged (direction, table_name, detected_at, detail) "
      "VALUES (?, ?, ?, ?)");
  if (!st) return tl::unexpected(st.error());
  return st->bind(1, direction).bind(2, t.table).bind(3, t.detected_at).bind(4, t.detail).run();
}

Result<void> FollowJournal::clear_diverged(const std::string& direction, const std::string& table) {
  std::lock_guard lock(*mutex_);
  auto st = db_->prepare("DELETE FROM diverged WHERE direction = ? AND table_name = ?");
  if (!st) return tl::unexpected(st.error());
  return st->bind(1, direction).bind(2, table).run();
}

Result<int64_t> FollowJournal::request_resync(const std::vector<std::string>& tables) {
  std::lock_guard lock(*mutex_);
  auto st = db_->prepare("INSERT INTO resync (tables, state) VALUES (?, 'requested')");
  if (!st) return tl::unexpected(st.error());
  if (auto ok = st->bind(1, join(tables, ",")).run(); !ok) return tl::unexpected(ok.error());
  // This connection's own insert, whoever else asks at the same time.
  auto id = db_->prepare("SELECT last_insert_rowid()");
  if (!id) return tl::unexpected(id.error());
  if (auto row = id->step(); !row) return tl::unexpected(row.error());
  return id->int_at(0);
}

Result<std::optional<ResyncRecord>> FollowJournal::resync(int64_t id) {
  std::lock_guard lock(*mutex_);
  auto st = db_->prepare(std::string("SELECT ") + kResyncColumns + " FROM resync WHERE id = ?");
  if (!st) return tl::unexpected(st.error());
  st->bind(1, id);
  auto row = st->step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) return std::optional<ResyncRecord>();
  return std::optional<ResyncRecord>(read_resync(*st));
}

Result<std::optional<ResyncRecord>> FollowJournal::next_resync() {
  std::lock_guard lock(*mutex_);
  auto st = db_->prepare(std::string("SELECT ") + kResyncColumns +
                         " FROM resync WHERE state IN ('requested', 'copying') ORDER BY id "
                         "LIMIT 1");
  if (!st) return tl::unexpected(st.error());
  auto row = st->step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) return std::optional<ResyncRecord>();
  return std::optional<ResyncRecord>(read_resync(*st));
}

Result<void> FollowJournal::update_resync(const ResyncRecord& r) {
  std::lock_guard lock(*mutex_);
  auto st = db_->prepare(
      "UPDATE resync SET state = ?, horizon = ?, rows = ?, seconds = ?, detail = ? WHERE id = ?");
  if (!st) return tl::unexpected(st.error());
  return st->bind(1, resync_state_name(r.state))
      .bind(2, r.horizon)
      .bind(3, r.rows)
      .bind(4, r.seconds)
      .bind(5, r.detail)
      .bind(6, r.id)
      .run();
}

Result<std::map<std::string, std::string>> FollowJournal::resync_horizons() {
  std::lock_guard lock(*mutex_);
  auto st = db_->prepare("SELECT table_name, lsn FROM resync_horizon");
  if (!st) return tl::unexpected(st.error());
  std::map<std::string, std::string> out;
  while (true) {
    auto row = st->step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return out;
    out[st->text_at(0)] = st->text_at(1);
  }
}

Result<void> FollowJournal::set_resync_horizon(const std::string& table, const std::string& lsn) {
  std::lock_guard lock(*mutex_);
  auto st = db_->prepare("INSERT OR REPLACE INTO resync_horizon (table_name, lsn) VALUES (?, ?)");
  if (!st) return tl::unexpected(st.error());
  return st->bind(1, table).bind(2, lsn).run();
}

}  // namespace ferry::db
