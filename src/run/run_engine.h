// `ferry run`'s engine, as a checklist like db/cutover/cutover.h:
//
//  1. take commands   what people queued in the journal (approve, pause,
//                     resume, abort) is applied, each logged as an event with
//                     who gave it and what came of it
//  2. decide          run_decision.h says what comes next from the
//                     journaled states
//  3. act             a step is journaled as running, run by the StepRunner,
//                     journaled as done or failed; an approval is journaled as
//                     waiting until approved; on the way back each step that
//                     moved something is undone, newest first
//  4. repeat          until every step is done or the way back is walked
//
// Every state is journaled before and after the work it names, so a run
// killed at any point and started again continues where it stopped (a step
// that was running is run again: every step is idempotent). Each decision is
// one event in the journal and one log line.
#pragma once

#include <cstdint>
#include <functional>

#include "core/error.h"
#include "run/run_journal.h"
#include "run/step_runner.h"

namespace ferry::run {

enum class RunEnd {
  kDone,         // every step done
  kRolledBack,   // the way back walked after an abort or a failure
  kIdle,         // waiting for a person (an approval, a pause), with return_when_idle
  kInterrupted,  // the engine was asked to stop (SIGINT, SIGTERM); run it again to go on
};

struct EngineOptions {
  int64_t poll_ms = 1000;  // how often a waiting run looks for commands
  // Return kIdle instead of waiting for a person (tests; `ferry run --no-wait`).
  bool return_when_idle = false;
  // Sleeps between polls; tests replace it.
  std::function<void(int64_t ms)> sleep;
  // Whether the engine is to stop now (a signal): a running step is asked to
  // stop and stays journaled as running, so the next engine runs it again.
  std::function<bool()> interrupted;
};

class RunEngine {
 public:
  RunEngine(const Plan& plan, RunJournal& journal, StepRunner& runner, EngineOptions options = {});

  Result<RunEnd> run();

 private:
  class Commands;

  Result<void> take_commands(RunView& view);
  Result<void> event(const std::string& kind, const std::string& detail);
  Result<void> run_step(RunView& view, size_t index);
  Result<void> undo_step(RunView& view, size_t index, const std::string& why);

  const Plan& plan_;
  RunJournal& journal_;
  StepRunner& runner_;
  EngineOptions options_;
};

}  // namespace ferry::run
