#include "db/clone/clone_journal.h"

#include <filesystem>

namespace ferry::db {

namespace {

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS setting (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS step (name TEXT PRIMARY KEY, seconds REAL NOT NULL);
CREATE TABLE IF NOT EXISTS part (
  id INTEGER PRIMARY KEY,
  schema_name TEXT NOT NULL, table_name TEXT NOT NULL,
  part_no INTEGER NOT NULL, part_count INTEGER NOT NULL,
  block_lo INTEGER NOT NULL, block_hi INTEGER NOT NULL,
  estimated_bytes INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  target_xid TEXT NOT NULL DEFAULT '', snapshot_lsn TEXT NOT NULL DEFAULT '',
  rows INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,
  seconds REAL NOT NULL DEFAULT 0);
)";

const char* state_name(PartState s) {
  switch (s) {
    case PartState::kPending:
      return "pending";
    case PartState::kCopying:
      return "copying";
    case PartState::kDone:
      return "done";
  }
  return "pending";
}

PartState parse_state(const std::string& s) {
  if (s == "copying") return PartState::kCopying;
  if (s == "done") return PartState::kDone;
  return PartState::kPending;
}

}  // namespace

Result<void> CloneJournal::check_dir(const std::string& dir, bool resume) {
  const std::string path = (std::filesystem::path(dir) / "clone.db").string();
  const bool exists = std::filesystem::exists(path);
  if (resume && !exists)
    return fail(ErrorCode::kInvalidInput,
                "--resume: " + path + " does not exist; there is no clone to resume in " + dir);
  if (!resume && exists)
    return fail(ErrorCode::kInvalidInput,
                path + " holds an earlier clone; pass --resume to finish it, or use another --dir");
  return {};
}

Result<CloneJournal> CloneJournal::open(const std::string& dir, bool resume) {
  namespace fs = std::filesystem;
  if (auto ok = check_dir(dir, resume); !ok) return tl::unexpected(ok.error());
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail(ErrorCode::kIo, "--dir " + dir + ": " + ec.message());
  const std::string path = (fs::path(dir) / "clone.db").string();
  auto db = SqliteDb::open(path);
  if (!db) return tl::unexpected(db.error());
  if (auto ok = db->exec(kSchema); !ok) return tl::unexpected(ok.error());
  CloneJournal j;
  j.db_ = std::make_unique<SqliteDb>(std::move(*db));
  return j;
}

Result<std::optional<std::string>> CloneJournal::get(const std::string& key) {
  std::lock_guard lock(*mutex_);
  auto st = db_->prepare("SELECT value FROM setting WHERE key = ?");
  if (!st) return tl::unexpected(st.error());
  st->bind(1, key);
  auto row = st->step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(st->text_at(0));
}

Result<void> CloneJournal::set(const std::string& key, const std::string& value) {
  std::lock_guard lock(*mutex_);
  auto st = db_->prepare("INSERT OR REPLACE INTO setting (key, value) VALUES (?, ?)");
  if (!st) return tl::unexpected(st.error());
  return st->bind(1, key).bind(2, value).run();
}

Result<bool> CloneJournal::step_done(const std::string& step) {
  std::lock_guard lock(*mutex_);
  auto st = db_->prepare("SELECT 1 FROM step WHERE name = ?");
  if (!st) return tl::unexpected(st.error());
  st->bind(1, step);
  return st->step();
}

Result<void> CloneJournal::mark_step_done(const std::string& step, double seconds) {
  std::lock_guard lock(*mutex_);
  auto st = db_->prepare("INSERT OR REPLACE INTO step (name, seconds) VALUES (?, ?)");
  if (!st) return tl::unexpected(st.error());
  return st->bind(1, step).bind(2, seconds).run();
}

Result<void> CloneJournal::plan(const std::vector<PartRecord>& parts) {
  std::lock_guard lock(*mutex_);
  if (auto ok = db_->exec("BEGIN"); !ok) return ok;
  auto st = db_->prepare(
      "INSERT INTO part (schema_name, table_name, part_no, part_count, block_lo, block_hi, "
      "estimated_bytes) VALUES (?, ?, ?, ?, ?, ?, ?)");
  if (!st) return tl::unexpected(st.error());
  for (const auto& p : parts) {
    auto ok = st->bind(1, p.schema)
                  .bind(2, p.name)
                  .bind(3, int64_t{p.part_no})
                  .bind(4, int64_t{p.part_count})
                  .bind(5, p.block_lo)
                  .bind(6, p.block_hi)
                  .bind(7, p.estimated_bytes)
                  .run();
    if (!ok) {
      (void)db_->exec("ROLLBACK");
      return ok;
    }
  }
  if (auto ok = db_->exec("INSERT OR REPLACE INTO step (name, seconds) VALUES ('planned', 0)");
      !ok) {
    (void)db_->exec("ROLLBACK");
    return ok;
  }
  return db_->exec("COMMIT");
}

Result<std::vector<PartRecord>> CloneJournal::parts() {
  std::lock_guard lock(*mutex_);
  auto st = db_->prepare(
      "SELECT id, schema_name, table_name, part_no, part_count, block_lo, block_hi, "
      "estimated_bytes, state, target_xid, snapshot_lsn, rows, bytes, seconds FROM part "
      "ORDER BY id");
  if (!st) return tl::unexpected(st.error());
  std::vector<PartRecord> out;
  while (true) {
    auto row = st->step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) break;
    PartRecord p;
    p.id = st->int_at(0);
    p.schema = st->text_at(1);
    p.name = st->text_at(2);
    p.part_no = static_cast<int>(st->int_at(3));
    p.part_count = static_cast<int>(st->int_at(4));
    p.block_lo = st->int_at(5);
    p.block_hi = st->int_at(6);
    p.estimated_bytes = st->int_at(7);
    p.state = parse_state(st->text_at(8));
    p.target_xid = st->text_at(9);
    p.snapshot_lsn = st->text_at(10);
    p.rows = st->int_at(11);
    p.bytes = st->int_at(12);
    p.seconds = st->double_at(13);
    out.push_back(std::move(p));
  }
  return out;
}

Result<void> CloneJournal::part_copying(int64_t id, const std::string& xid,
                                        const std::string& lsn) {
  std::lock_guard lock(*mutex_);
  auto st =
      db_->prepare("UPDATE part SET state = ?, target_xid = ?, snapshot_lsn = ? WHERE id = ?");
  if (!st) return tl::unexpected(st.error());
  return st->bind(1, state_name(PartState::kCopying)).bind(2, xid).bind(3, lsn).bind(4, id).run();
}

Result<void> CloneJournal::part_done(int64_t id, int64_t rows, int64_t bytes, double seconds) {
  std::lock_guard lock(*mutex_);
  auto st =
      db_->prepare("UPDATE part SET state = ?, rows = ?, bytes = ?, seconds = ? WHERE id = ?");
  if (!st) return tl::unexpected(st.error());
  return st->bind(1, state_name(PartState::kDone))
      .bind(2, rows)
      .bind(3, bytes)
      .bind(4, seconds)
      .bind(5, id)
      .run();
}

Result<void> CloneJournal::part_pending(int64_t id) {
  std::lock_guard lock(*mutex_);
  auto st = db_->prepare("UPDATE part SET state = ?, target_xid = '' WHERE id = ?");
  if (!st) return tl::unexpected(st.error());
  return st->bind(1, state_name(PartState::kPending)).bind(2, id).run();
}

}  // namespace ferry::db
