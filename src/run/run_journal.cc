#include "run/run_journal.h"

#include <fmt/format.h>

#include <filesystem>

#include "core/sqlite.h"
#include "core/text.h"

namespace ferry::run {

namespace {

namespace fs = std::filesystem;

constexpr int kSchemaVersion = 1;

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS step (
  idx INTEGER PRIMARY KEY, kind TEXT NOT NULL, target TEXT NOT NULL, described TEXT NOT NULL,
  state TEXT NOT NULL, started_at REAL NOT NULL DEFAULT 0, ended_at REAL NOT NULL DEFAULT 0,
  detail TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS event (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS command (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, command TEXT NOT NULL,
  who TEXT NOT NULL, taken INTEGER NOT NULL DEFAULT 0);
)";

std::string target_of(const PlanStep& s) {
  switch (s.kind) {
    case StepKind::kApprove:
      return s.message;
    case StepKind::kCommand:
      return s.command;
    default:
      return s.database.empty() ? s.route : s.database;
  }
}

std::optional<RunCommand> command_named(const std::string& name) {
  for (RunCommand c :
       {RunCommand::kApprove, RunCommand::kPause, RunCommand::kResume, RunCommand::kAbort}) {
    if (name == run_command_name(c)) return c;
  }
  return std::nullopt;
}

std::optional<StepState> state_named(const std::string& name) {
  for (StepState s : {StepState::kPending, StepState::kRunning, StepState::kWaiting,
                      StepState::kDone, StepState::kFailed, StepState::kUndone}) {
    if (name == step_state_name(s)) return s;
  }
  return std::nullopt;
}

tl::unexpected<Error> journal_error(const std::string& path, const std::string& message) {
  return fail(ErrorCode::kInvalidInput, path + ": " + message);
}

Result<void> set_meta(SqliteDb& db, const std::string& key, const std::string& value) {
  auto st = db.prepare(
      "INSERT INTO meta(key, value) VALUES (?, ?) "
      "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  if (!st) return tl::unexpected(st.error());
  return st->bind(1, key).bind(2, value).run();
}

Result<std::string> get_meta(SqliteDb& db, const std::string& key) {
  auto st = db.prepare("SELECT value FROM meta WHERE key = ?");
  if (!st) return tl::unexpected(st.error());
  st->bind(1, key);
  auto row = st->step();
  if (!row) return tl::unexpected(row.error());
  return *row ? st->text_at(0) : std::string();
}

}  // namespace

RunJournal::RunJournal(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
RunJournal::~RunJournal() = default;
RunJournal::RunJournal(RunJournal&&) noexcept = default;
RunJournal& RunJournal::operator=(RunJournal&&) noexcept = default;

const std::string& RunJournal::path() const { return db_->path(); }

Result<RunJournal> RunJournal::open(const Plan& plan) { return open_at(plan, true); }

Result<RunJournal> RunJournal::open_existing(const Plan& plan) { return open_at(plan, false); }

Result<RunJournal> RunJournal::open_at(const Plan& plan, bool create) {
  const std::string path = (fs::path(plan.state_dir) / "run.sqlite").string();
  std::error_code ec;
  if (!create && !fs::exists(path, ec)) {
    return fail(ErrorCode::kIo, path + ": no run of plan '" + plan.name +
                                    "' has started here (ferry run " + plan.file + " starts one)");
  }
  fs::create_directories(plan.state_dir, ec);
  if (ec) {
    return fail(ErrorCode::kIo,
                "state_dir " + plan.state_dir + ": cannot create it: " + ec.message());
  }
  auto db = SqliteDb::open(path);
  if (!db) return tl::unexpected(db.error());
  auto owned = std::make_unique<SqliteDb>(std::move(*db));
  if (auto ok = owned->exec(kSchema); !ok) return tl::unexpected(ok.error());
  auto tx = SqliteTransaction::begin(*owned);
  if (!tx) return tl::unexpected(tx.error());
  auto name = get_meta(*owned, "plan");
  if (!name) return tl::unexpected(name.error());
  if (name->empty()) {
    // A new journal: the plan's name and steps, each pending.
    if (auto ok = set_meta(*owned, "plan", plan.name); !ok) return tl::unexpected(ok.error());
    if (auto ok = set_meta(*owned, "schema", std::to_string(kSchemaVersion)); !ok) {
      return tl::unexpected(ok.error());
    }
    auto insert = owned->prepare(
        "INSERT INTO step(idx, kind, target, described, state) VALUES (?, ?, ?, ?, 'pending')");
    if (!insert) return tl::unexpected(insert.error());
    for (size_t i = 0; i < plan.steps.size(); ++i) {
      const PlanStep& s = plan.steps[i];
      auto ok = insert->bind(1, static_cast<int64_t>(i))
                    .bind(2, step_kind_name(s.kind))
                    .bind(3, target_of(s))
                    .bind(4, s.describe())
                    .run();
      if (!ok) return tl::unexpected(ok.error());
    }
  } else {
    if (*name != plan.name) {
      return (journal_error(
          path, fmt::format("is the journal of plan '{}', not '{}'; give each plan its own "
                            "state_dir",
                            *name, plan.name)));
    }
    // The same steps, in the same order: a run resumes only the plan it started.
    auto rows = owned->prepare("SELECT idx, described FROM step ORDER BY idx");
    if (!rows) return tl::unexpected(rows.error());
    size_t count = 0;
    while (true) {
      auto row = rows->step();
      if (!row) return tl::unexpected(row.error());
      if (!*row) break;
      const size_t i = static_cast<size_t>(rows->int_at(0));
      const std::string was = rows->text_at(1);
      if (i >= plan.steps.size() || plan.steps[i].describe() != was) {
        return (journal_error(
            path,
            fmt::format("the plan changed since this run started: step {} was \"{}\", now "
                        "\"{}\"; finish or abort the run with the plan it started with, or "
                        "start a new run with another state_dir",
                        i + 1, was, i < plan.steps.size() ? plan.steps[i].describe() : "(none)")));
      }
      ++count;
    }
    if (count != plan.steps.size()) {
      return (journal_error(
          path, fmt::format("the plan changed since this run started: it had {} steps, now {}",
                            count, plan.steps.size())));
    }
  }
  if (auto ok = tx->commit(); !ok) return tl::unexpected(ok.error());
  return RunJournal(std::move(owned));
}

Result<RunView> RunJournal::view(const Plan& plan) const {
  RunView v;
  v.on_failure = plan.on_failure;
  for (const auto& s : plan.steps) v.kinds.push_back(s.kind);
  v.states.assign(plan.steps.size(), StepState::kPending);
  auto records = steps();
  if (!records) return tl::unexpected(records.error());
  for (const auto& r : *records) {
    if (r.index < v.states.size()) v.states[r.index] = r.state;
  }
  auto paused = get_meta(*db_, "paused");
  auto rolling = get_meta(*db_, "rolling_back");
  auto why = get_meta(*db_, "why");
  if (!paused || !rolling || !why) {
    return tl::unexpected(!paused ? paused.error() : !rolling ? rolling.error() : why.error());
  }
  v.paused = *paused == "1";
  v.rolling_back = *rolling == "1";
  v.why = *why;
  return v;
}

Result<void> RunJournal::record_flags(const RunView& view) {
  for (const auto& [key, value] :
       {std::pair<const char*, std::string>{"paused", view.paused ? "1" : "0"},
        {"rolling_back", view.rolling_back ? "1" : "0"},
        {"why", view.why}}) {
    if (auto ok = set_meta(*db_, key, value); !ok) return ok;
  }
  return {};
}

Result<void> RunJournal::record(const RunView& view, size_t step, const std::string& detail) {
  auto tx = SqliteTransaction::begin(*db_);
  if (!tx) return tl::unexpected(tx.error());
  const StepState state = view.states.at(step);
  // The start time is set when a step starts running, the end time when it
  // reaches an end (done, failed, undone).
  const char* sql =
      state == StepState::kRunning || state == StepState::kWaiting
          ? "UPDATE step SET state = ?, detail = ?, started_at = ?, ended_at = 0 WHERE idx = ?"
          : "UPDATE step SET state = ?, detail = ?, ended_at = ? WHERE idx = ?";
  auto st = db_->prepare(sql);
  if (!st) return tl::unexpected(st.error());
  auto ok = st->bind(1, step_state_name(state))
                .bind(2, detail)
                .bind(3, unix_now())
                .bind(4, static_cast<int64_t>(step))
                .run();
  if (!ok) return ok;
  if (auto flags = record_flags(view); !flags) return flags;
  return tx->commit();
}

double StepRecord::seconds() const {
  if (started_at <= 0) return 0;
  const double end = ended_at > 0 ? ended_at : unix_now();
  return std::max(0.0, end - started_at);
}

Result<void> RunJournal::remember(const std::string& key, const std::string& value) {
  return set_meta(*db_, "kept." + key, value);
}

Result<std::string> RunJournal::recall(const std::string& key) const {
  return get_meta(*db_, "kept." + key);
}

Result<void> RunJournal::event(const std::string& kind, const std::string& detail) {
  auto st = db_->prepare("INSERT INTO event(at, kind, detail) VALUES (?, ?, ?)");
  if (!st) return tl::unexpected(st.error());
  return st->bind(1, unix_now()).bind(2, kind).bind(3, detail).run();
}

Result<void> RunJournal::queue_command(RunCommand command, const std::string& who) {
  auto st = db_->prepare("INSERT INTO command(at, command, who) VALUES (?, ?, ?)");
  if (!st) return tl::unexpected(st.error());
  return st->bind(1, unix_now()).bind(2, run_command_name(command)).bind(3, who).run();
}

Result<std::vector<QueuedCommand>> RunJournal::queued_commands() const {
  auto rows =
      db_->prepare("SELECT seq, command, who, at FROM command WHERE taken = 0 ORDER BY seq");
  if (!rows) return tl::unexpected(rows.error());
  std::vector<QueuedCommand> out;
  while (true) {
    auto row = rows->step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) break;
    auto command = command_named(rows->text_at(1));
    if (!command) {
      return (journal_error(path(),
                            "a queued command '" + rows->text_at(1) + "' that ferry never writes"));
    }
    out.push_back({rows->int_at(0), *command, rows->text_at(2), rows->double_at(3)});
  }
  return out;
}

Result<std::vector<QueuedCommand>> RunJournal::take_commands() {
  auto tx = SqliteTransaction::begin(*db_);
  if (!tx) return tl::unexpected(tx.error());
  auto out = queued_commands();
  if (!out) return out;
  if (auto ok = db_->exec("UPDATE command SET taken = 1 WHERE taken = 0"); !ok) {
    return tl::unexpected(ok.error());
  }
  if (auto ok = tx->commit(); !ok) return tl::unexpected(ok.error());
  return out;
}

Result<std::vector<StepRecord>> RunJournal::steps() const {
  auto rows = db_->prepare(
      "SELECT idx, kind, target, state, started_at, ended_at, detail FROM step ORDER BY idx");
  if (!rows) return tl::unexpected(rows.error());
  std::vector<StepRecord> out;
  while (true) {
    auto row = rows->step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) break;
    auto state = state_named(rows->text_at(3));
    if (!state) {
      return tl::unexpected(journal_error(db_->path(), "a step state '" + rows->text_at(3) +
                                                           "' that ferry never "
                                                           "writes"));
    }
    out.push_back({static_cast<size_t>(rows->int_at(0)), rows->text_at(1), rows->text_at(2), *state,
                   rows->double_at(4), rows->double_at(5), rows->text_at(6)});
  }
  return out;
}

Result<std::vector<RunEventRecord>> RunJournal::events(size_t limit) const {
  auto rows = db_->prepare(
      "SELECT seq, at, kind, detail FROM (SELECT * FROM event ORDER BY seq DESC LIMIT ?) "
      "ORDER BY seq");
  if (!rows) return tl::unexpected(rows.error());
  rows->bind(1, static_cast<int64_t>(limit));
  std::vector<RunEventRecord> out;
  while (true) {
    auto row = rows->step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) break;
    out.push_back({rows->int_at(0), rows->double_at(1), rows->text_at(2), rows->text_at(3)});
  }
  return out;
}

}  // namespace ferry::run
