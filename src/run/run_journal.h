// A run's journal: STATE_DIR/run.sqlite (core/sqlite.h, WAL). Each step's
// state is written when the step starts and when it ends, one transaction
// each, so a run killed at any moment resumes from what the journal says
// (run_decision.h decides what that means). Every event and decision is
// appended with its numbers, and the commands people give (`ferry run
// approve|pause|resume|abort`) are queued here for the engine to take: the
// journal is the only thing the CLI and the engine share.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "run/plan.h"
#include "run/run_decision.h"

namespace ferry {
class SqliteDb;
}

namespace ferry::run {

struct StepRecord {
  size_t index = 0;
  std::string kind, target;  // as the plan had them
  StepState state = StepState::kPending;
  double started_at = 0, ended_at = 0;  // Unix seconds; 0 until then
  std::string detail;                   // what it did, or why it failed
  // How long it ran (until now while it runs); 0 before it starts.
  double seconds() const;
};

struct RunEventRecord {
  int64_t seq = 0;
  double at = 0;
  std::string kind;    // "step_started", "step_failed", "command", "rollback", ...
  std::string detail;  // the numbers behind it
};

struct QueuedCommand {
  int64_t seq = 0;
  RunCommand command = RunCommand::kPause;
  std::string who;  // the OS user (or dashboard user) who gave it
  double at = 0;    // when it was queued (Unix seconds)
};

class RunJournal {
 public:
  // Opens STATE_DIR/run.sqlite, creating the directory and the journal for
  // `plan` when there is none. A journal written for another plan (a step
  // added, removed or changed) is refused, naming the first difference: a
  // run resumes only the plan it started.
  static Result<RunJournal> open(const Plan& plan);
  // An existing journal only (for `ferry run status` and the commands).
  static Result<RunJournal> open_existing(const Plan& plan);
  ~RunJournal();
  RunJournal(RunJournal&&) noexcept;
  RunJournal& operator=(RunJournal&&) noexcept;

  const std::string& path() const;

  // The run as the decision sees it: each step's state and the run's flags.
  Result<RunView> view(const Plan& plan) const;
  // One step's new state (with its time and detail), and the run's flags,
  // in one transaction.
  Result<void> record(const RunView& view, size_t step, const std::string& detail);
  // The run's flags alone (after a command).
  Result<void> record_flags(const RunView& view);
  Result<void> event(const std::string& kind, const std::string& detail);

  Result<void> queue_command(RunCommand command, const std::string& who);
  // Commands not taken yet, oldest first; each is taken (marked) once.
  Result<std::vector<QueuedCommand>> take_commands();
  // The same, left in the queue: what the engine has still to take (status).
  Result<std::vector<QueuedCommand>> queued_commands() const;

  // What a step keeps for itself across restarts (the weights a route had
  // before a cutover moved them, the metrics a watch compares with): one
  // value per key, written at once.
  Result<void> remember(const std::string& key, const std::string& value);
  // "" when nothing was kept under `key`.
  Result<std::string> recall(const std::string& key) const;

  Result<std::vector<StepRecord>> steps() const;
  // The last `limit` events, oldest first.
  Result<std::vector<RunEventRecord>> events(size_t limit) const;

 private:
  explicit RunJournal(std::unique_ptr<SqliteDb> db);
  static Result<RunJournal> open_at(const Plan& plan, bool create);

  std::unique_ptr<SqliteDb> db_;
};

}  // namespace ferry::run
