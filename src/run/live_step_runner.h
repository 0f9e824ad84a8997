// The StepRunner `ferry run` uses: each step done for real, by the same
// means a person would use, so what a run does can be read, repeated and
// checked by hand:
//
//   clone    `ferry db clone` as a child (killed with the engine; resumed
//            from its journal with --resume; a finished clone is not redone)
//   follow   `ferry db follow` detached, so it outlives every `ferry run`;
//            done once it has caught up; a follow found dead later (by any
//            step that needs it) is started again, with an event
//   verify   db/verify in this process, settling in-flight rows (live_verify.h)
//   rollout  the proxy's rollout started and watched until promoted; its
//            own analysis decides; undone by its abort (starting weights)
//   cutover  the route's requests held, `ferry db cutover` as a child in
//            its own session (it must live to restore the old side if
//            anything fails, whatever happens to the engine), the route's
//            weights moved to the new pool, the requests released; undone
//            by `ferry db rollback` and the weights the route had before
//   watch    the route's error rate and p99, window by window, against its
//            baseline (seed 000's criteria, proxy/rollout_analysis.h)
//   command  /bin/sh -c, in the plan's directory
//
// Every step finds what an earlier, interrupted attempt did: each keeps
// what it must know across restarts in the run's journal (remember/recall)
// and reads the state of the work itself (the clone's journal, cutover.json,
// the follow's status file, the proxy's rollout state).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "run/run_journal.h"
#include "run/step_runner.h"

namespace ferry::run {

class ProxyAdmin;

struct LiveRunnerOptions {
  std::string ferry_binary;  // this program, for the `ferry db` children
  std::string env_token;     // FERRY_ADMIN_TOKEN as the command read it
  int64_t poll_ms = 500;     // how often a long step looks at its work and for commands
};

class LiveStepRunner final : public StepRunner {
 public:
  LiveStepRunner(const Plan& plan, RunJournal& journal, LiveRunnerOptions options);
  ~LiveStepRunner() override;

  StepOutcome run(size_t index, const PlanStep& step, StopCheck& stop) override;
  StepOutcome undo(size_t index, const PlanStep& step) override;

  // Work directory of a database: STATE_DIR/NAME (the clone's journal, the
  // follows' status files, cutover.json, the children's logs).
  static std::string database_dir(const Plan& plan, const PlanDatabase& db);

 private:
  StepOutcome run_step(size_t index, const PlanStep& step, StopCheck& stop);

  // db_steps.cc
  StepOutcome clone(size_t index, const PlanDatabase& db, StopCheck& stop);
  StepOutcome follow(size_t index, const PlanDatabase& db, StopCheck& stop);
  StepOutcome verify(size_t index, const PlanDatabase& db, StopCheck& stop);
  // Starts the follow (or the reverse one, after a cutover) if it is not
  // running; "" when it runs, else what was done or why it could not be.
  std::string ensure_follow(const PlanDatabase& db, bool reverse);
  // Whether the database's writes are on the target now (cutover.json).
  bool database_switched(const PlanDatabase& db) const;
  // `ferry db cutover` or `rollback` as a child in its own session, waited
  // for; an engine that died while one ran finds it through its pid file
  // and waits for it too.
  StepOutcome switch_database(size_t index, const PlanStep& step, const PlanDatabase& db,
                              bool rollback);

  // traffic_steps.cc
  StepOutcome rollout(size_t index, const PlanStep& step, StopCheck& stop);
  StepOutcome undo_rollout(size_t index, const PlanStep& step);
  StepOutcome cutover(size_t index, const PlanStep& step, StopCheck& stop);
  StepOutcome undo_cutover(size_t index, const PlanStep& step);
  StepOutcome held_switch(size_t index, const PlanStep& step, bool rollback,
                          const std::vector<std::pair<std::string, int64_t>>& weights);
  StepOutcome watch(size_t index, const PlanStep& step, StopCheck& stop);
  StepOutcome command(const PlanStep& step, StopCheck& stop);
  // Keeps each pool's counters of `route` ("": every route of the plan) as
  // traffic.ROUTE.LABEL; `first_only`: a reading already kept stays.
  void note_traffic(const std::string& route, const char* label, bool first_only);

  // One event in the journal and the log.
  void event(const std::string& kind, const std::string& detail);
  std::string key(size_t index, const std::string& name) const;
  void remember(const std::string& key, const std::string& value);
  std::string recall(const std::string& key) const;
  ProxyAdmin* proxy(std::string* error);
  void sleep_poll() const;

  const Plan& plan_;
  RunJournal& journal_;
  LiveRunnerOptions options_;
  std::unique_ptr<ProxyAdmin> proxy_;
  // When this engine last started each follow (work dir and direction): one
  // just started has a while to write its first status.
  std::map<std::string, std::chrono::steady_clock::time_point> follow_started_;
};

}  // namespace ferry::run
