// Where rollouts keep their state across restarts: STATE_DIR/rollouts.sqlite
// (the proxy config's `state_dir`), one row per route with a rollout and its
// latest verdicts. The rollout controller writes a route's row after every
// transition and verdict, each write one SQLite transaction (WAL), so a
// proxy killed at any moment leaves the last decision behind.
//
// Times: a record's step_elapsed_ms and since_conclusive_ms are kept as
// they were when written, so the time the proxy was down does not count as
// time the step was analysed; verdicts keep their wall-clock time, so their
// ages after a restart include the downtime.
//
// One proxy per state_dir: the directory is locked (flock) while the store
// is open, and a second proxy is refused rather than overwriting the first
// one's rollouts.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "core/error.h"
#include "core/sqlite.h"
#include "proxy/rollout.h"
#include "proxy/unique_fd.h"

namespace ferry::proxy {

struct StoredRollout {
  std::string config_text;  // rollout_config_text() of the config it ran under
  RolloutRecord record;     // verdict ages as of the load
  int64_t saved_unix_ms = 0;
};

class RolloutStore {
 public:
  static std::string path(const std::string& dir);
  // Creates `dir` when missing, locks it, opens (or creates) the file and
  // checks that it is a rollout store this ferry can read; every error
  // names the file.
  static Result<RolloutStore> open(const std::string& dir);

  // Every stored rollout, by route; `now_unix_ms` turns verdict times into ages.
  Result<std::map<std::string, StoredRollout>> load(int64_t now_unix_ms);
  // Replaces the route's row and verdicts (record.verdicts' ages are as of `now_unix_ms`).
  Result<void> save(const std::string& route, const std::string& config_text,
                    const RolloutRecord& record, int64_t now_unix_ms);
  Result<void> remove(const std::string& route);

  const std::string& path() const { return db_->path(); }

 private:
  RolloutStore() = default;
  // Declared first, so it is released after the database is closed.
  UniqueFd dir_lock_;
  std::unique_ptr<SqliteDb> db_;
};

}  // namespace ferry::proxy
