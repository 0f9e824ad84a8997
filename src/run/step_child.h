// A step's child process run to its end while the engine keeps an eye on
// the run: its output kept in the database's work directory (NAME.out for
// what it prints, NAME.log for its log, appended across attempts), and a
// person's pause or abort stopping it when the step allows.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/child_process.h"
#include "run/plan.h"
#include "run/step_runner.h"

namespace ferry::run {

struct StepChildResult {
  int exit_status = -1;
  bool stopped = false;  // ended by a pause or an abort
  std::string out;       // what it printed (stdout)
  std::string log_tail;  // the last lines of its log, for a failure's reason
};

// `ferry --log-format text ARGS...` for `db`, with its connection strings in
// the environment (FERRY_SOURCE, FERRY_TARGET), never on the command line.
ChildSpec ferry_child(const std::string& ferry_binary, const std::vector<std::string>& args,
                      const PlanDatabase& db, const std::string& dir, const std::string& name,
                      ChildLifetime lifetime);

// Starts `spec` and waits for its
// end. With `stop`, a person's pause or abort ends it with SIGTERM (what it
// did is resumed or undone by the next attempt); without, it runs to its end
// whatever is asked meanwhile (a cutover).
// `progress`, when given, is called every `progress_ms` while it runs (a
// step reporting how far its child has got).
Result<StepChildResult> run_step_child(const ChildSpec& spec, StopCheck* stop, int64_t poll_ms,
                                       const std::function<void()>& progress = nullptr,
                                       int64_t progress_ms = 10'000);

// The last `lines` lines of a file.
std::string file_tail(const std::string& path, size_t lines);

}  // namespace ferry::run
