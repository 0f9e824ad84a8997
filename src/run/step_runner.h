// What the engine asks of a step, whatever it is: run it, or undo it on the
// way back. The real runner (each step as a supervised `ferry db` child or a
// call to the proxy's admin API) and the fakes of run_engine_test.cc both
// implement it, so the engine's order, journaling and way back are tested
// without servers.
#pragma once

#include <cstddef>
#include <string>

#include "run/plan.h"

namespace ferry::run {

struct StepOutcome {
  bool ok = false;
  std::string detail;  // what it did, with its numbers; or why it failed
};

// Asked by a long step (a rollout, a watch) between its checks: a person
// has paused or aborted the run, so the step should end now (not ok).
class StopCheck {
 public:
  virtual bool stop_requested() = 0;

 protected:
  ~StopCheck() = default;
};

class StepRunner {
 public:
  virtual ~StepRunner() = default;
  // Runs step `index` to its end. Every step is idempotent: after a crash it
  // is run again, and finds what it had done.
  virtual StepOutcome run(size_t index, const PlanStep& step, StopCheck& stop) = 0;
  // Rolls back what step `index` moved (has_undo() kinds only).
  virtual StepOutcome undo(size_t index, const PlanStep& step) = 0;
};

}  // namespace ferry::run
