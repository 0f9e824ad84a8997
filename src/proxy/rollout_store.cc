#include "proxy/rollout_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include "core/text.h"

namespace ferry::proxy {

namespace {

// user_version of the file; another number is a file this ferry cannot read.
constexpr int64_t kSchemaVersion = 1;

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS rollout (
  route TEXT PRIMARY KEY, config TEXT NOT NULL, state TEXT NOT NULL, step INTEGER NOT NULL,
  reason TEXT NOT NULL, starting_weights TEXT NOT NULL, step_elapsed_ms INTEGER NOT NULL,
  since_conclusive_ms INTEGER NOT NULL, saved_unix_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS verdict (
  route TEXT NOT NULL, seq INTEGER NOT NULL, at_unix_ms INTEGER NOT NULL, step INTEGER NOT NULL,
  verdict TEXT NOT NULL, reason TEXT NOT NULL, requests_new INTEGER NOT NULL,
  requests_old INTEGER NOT NULL, error_rate_new REAL NOT NULL, error_rate_old REAL NOT NULL,
  p99_ms_new REAL NOT NULL, p99_ms_old REAL NOT NULL, PRIMARY KEY (route, seq));
)";

tl::unexpected<Error> file_error(const std::string& path, std::string message) {
  return tl::unexpected(Error{ErrorCode::kIo, std::move(message), {}, {path}});
}

// The enum value whose name() is `text`.
template <typename E, size_t N>
std::optional<E> parse_name(const std::string& text, const E (&all)[N], const char* (*name)(E)) {
  for (E e : all)
    if (text == name(e)) return e;
  return std::nullopt;
}

constexpr RolloutPhase kPhases[] = {RolloutPhase::kPending, RolloutPhase::kRunning,
                                    RolloutPhase::kPaused, RolloutPhase::kAborted,
                                    RolloutPhase::kPromoted};
constexpr VerdictKind kKinds[] = {VerdictKind::kPass, VerdictKind::kFail,
                                  VerdictKind::kInconclusive};
constexpr VerdictReason kReasons[] = {VerdictReason::kNone, VerdictReason::kTooFewRequests,
                                      VerdictReason::kErrorRate, VerdictReason::kP99Ratio};

// "legacy=100 modern=0": pool names have no spaces or '=' (proxy_config.cc).
std::string weights_text(const PoolWeights& weights) {
  std::string out;
  for (const auto& [pool, weight] : weights)
    out += fmt::format("{}{}={}", out.empty() ? "" : " ", pool, weight);
  return out;
}

std::optional<PoolWeights> parse_weights(const std::string& text) {
  PoolWeights out;
  for (const std::string& item : split_trimmed(text, " ")) {
    const size_t eq = item.find('=');
    const auto weight = eq == std::string::npos ? std::nullopt : parse_double(item.substr(eq + 1));
    if (!weight || *weight < 0) return std::nullopt;
    out.emplace_back(item.substr(0, eq), static_cast<int>(*weight));
  }
  return out;
}

// Takes the directory's lock, or says who holds it.
Result<UniqueFd> lock_dir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) {
    return fail(ErrorCode::kIo, fmt::format("state_dir {}: {}", dir, std::strerror(errno)));
  }
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    return fail(ErrorCode::kIo,
                errno == EWOULDBLOCK
                    ? fmt::format("state_dir {}: another ferry proxy is using it (it holds the "
                                  "lock on the directory); give each proxy its own state_dir",
                                  dir)
                    : fmt::format("state_dir {}: locking: {}", dir, std::strerror(errno)));
  }
  return fd;
}

}  // namespace

std::string RolloutStore::path(const std::string& dir) {
  return (std::filesystem::path(dir) / "rollouts.sqlite").string();
}

Result<RolloutStore> RolloutStore::open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(ErrorCode::kIo, fmt::format("state_dir {}: {}", dir, ec.message()));
  auto lock = lock_dir(dir);
  if (!lock) return tl::unexpected(lock.error());
  const std::string file = path(dir);
  auto db = SqliteDb::open(file);
  if (!db) return tl::unexpected(db.error());
  auto version = db->prepare("PRAGMA user_version");
  if (!version) return tl::unexpected(version.error());
  if (auto row = version->step(); !row) return tl::unexpected(row.error());
  const int64_t found = version->int_at(0);
  if (found != 0 && found != kSchemaVersion) {
    return file_error(file, fmt::format("a rollout store of version {} (this ferry reads version "
                                        "{}); was it written by a newer ferry?",
                                        found, kSchemaVersion));
  }
  if (auto ok = db->exec(kSchema); !ok) return tl::unexpected(ok.error());
  if (auto ok = db->exec(fmt::format("PRAGMA user_version = {}", kSchemaVersion)); !ok)
    return tl::unexpected(ok.error());
  RolloutStore store;
  store.dir_lock_ = std::move(*lock);
  store.db_ = std::make_unique<SqliteDb>(std::move(*db));
  return store;
}

Result<std::map<std::string, StoredRollout>> RolloutStore::load(int64_t now_unix_ms) {
  std::map<std::string, StoredRollout> out;
  auto rows = db_->prepare(
      "SELECT route, config, state, step, reason, starting_weights, step_elapsed_ms, "
      "since_conclusive_ms, saved_unix_ms FROM rollout ORDER BY route");
  if (!rows) return tl::unexpected(rows.error());
  while (true) {
    auto row = rows->step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) break;
    const std::string route = rows->text_at(0);
    StoredRollout s;
    s.config_text = rows->text_at(1);
    const auto phase = parse_name(rows->text_at(2), kPhases, rollout_phase_name);
    const auto weights = parse_weights(rows->text_at(5));
    if (!phase || !weights) {
      return file_error(path(), fmt::format("the row of route '{}' has state '{}' and starting "
                                            "weights '{}', which ferry never writes",
                                            route, rows->text_at(2), rows->text_at(5)));
    }
    s.record.phase = *phase;
    s.record.step = static_cast<int>(rows->int_at(3));
    s.record.reason = rows->text_at(4);
    s.record.starting_weights = *weights;
    s.record.step_elapsed_ms = rows->int_at(6);
    s.record.since_conclusive_ms = rows->int_at(7);
    s.saved_unix_ms = rows->int_at(8);
    out[route] = std::move(s);
  }
  auto verdicts = db_->prepare(
      "SELECT route, at_unix_ms, step, verdict, reason, requests_new, requests_old, "
      "error_rate_new, error_rate_old, p99_ms_new, p99_ms_old FROM verdict ORDER BY route, seq");
  if (!verdicts) return tl::unexpected(verdicts.error());
  while (true) {
    auto row = verdicts->step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) break;
    auto found = out.find(verdicts->text_at(0));
    const auto kind = parse_name(verdicts->text_at(3), kKinds, verdict_name);
    const auto reason = parse_name(verdicts->text_at(4), kReasons, verdict_reason_name);
    if (found == out.end() || !kind || !reason) {
      return file_error(
          path(), fmt::format("a verdict of route '{}' ('{}', reason '{}') that "
                              "ferry never writes",
                              verdicts->text_at(0), verdicts->text_at(3), verdicts->text_at(4)));
    }
    TimedVerdict v;
    v.at_ms = now_unix_ms - verdicts->int_at(1);
    v.step = static_cast<int>(verdicts->int_at(2));
    v.verdict.kind = *kind;
    v.verdict.reason = *reason;
    v.verdict.requests_new = verdicts->int_at(5);
    v.verdict.requests_old = verdicts->int_at(6);
    v.verdict.error_rate_new = verdicts->double_at(7);
    v.verdict.error_rate_old = verdicts->double_at(8);
    v.verdict.p99_ms_new = verdicts->double_at(9);
    v.verdict.p99_ms_old = verdicts->double_at(10);
    found->second.record.verdicts.push_back(v);
  }
  return out;
}

Result<void> RolloutStore::save(const std::string& route, const std::string& config_text,
                                const RolloutRecord& record, int64_t now_unix_ms) {
  auto tx = SqliteTransaction::begin(*db_);
  if (!tx) return tl::unexpected(tx.error());
  auto row = db_->prepare(
      "INSERT OR REPLACE INTO rollout (route, config, state, step, reason, starting_weights, "
      "step_elapsed_ms, since_conclusive_ms, saved_unix_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!row) return tl::unexpected(row.error());
  auto ok = row->bind(1, route)
                .bind(2, config_text)
                .bind(3, rollout_phase_name(record.phase))
                .bind(4, int64_t{record.step})
                .bind(5, record.reason)
                .bind(6, weights_text(record.starting_weights))
                .bind(7, record.step_elapsed_ms)
                .bind(8, record.since_conclusive_ms)
                .bind(9, now_unix_ms)
                .run();
  if (!ok) return ok;
  auto clear = db_->prepare("DELETE FROM verdict WHERE route = ?");
  if (!clear) return tl::unexpected(clear.error());
  if (auto done = clear->bind(1, route).run(); !done) return done;
  auto add = db_->prepare(
      "INSERT INTO verdict (route, seq, at_unix_ms, step, verdict, reason, requests_new, "
      "requests_old, error_rate_new, error_rate_old, p99_ms_new, p99_ms_old) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!add) return tl::unexpected(add.error());
  int64_t seq = 0;
  for (const TimedVerdict& v : record.verdicts) {
    auto done = add->bind(1, route)
                    .bind(2, seq++)
                    .bind(3, now_unix_ms - v.at_ms)
                    .bind(4, int64_t{v.step})
                    .bind(5, verdict_name(v.verdict.kind))
                    .bind(6, verdict_reason_name(v.verdict.reason))
                    .bind(7, v.verdict.requests_new)
                    .bind(8, v.verdict.requests_old)
                    .bind(9, v.verdict.error_rate_new)
                    .bind(10, v.verdict.error_rate_old)
                    .bind(11, v.verdict.p99_ms_new)
                    .bind(12, v.verdict.p99_ms_old)
                    .run();
    if (!done) return done;
  }
  return tx->commit();
}

Result<void> RolloutStore::remove(const std::string& route) {
  auto tx = SqliteTransaction::begin(*db_);
  if (!tx) return tl::unexpected(tx.error());
  for (const char* sql :
       {"DELETE FROM rollout WHERE route = ?", "DELETE FROM verdict WHERE route = ?"}) {
    auto st = db_->prepare(sql);
    if (!st) return tl::unexpected(st.error());
    if (auto ok = st->bind(1, route).run(); !ok) return ok;
  }
  return tx->commit();
}

}  // namespace ferry::proxy
