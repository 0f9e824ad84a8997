// `ferry run report`: the migration report a team sends after the move
// (seed 004's progress report, seed 002's success metrics), from the run's
// journal alone: the outcome and its key numbers (write-unavailable time,
// requests held and how long they waited, rows copied and verified, the
// requests and errors the route served), the timeline of steps, each
// route's traffic per pool before, during and after the move (requests,
// error rate, p99), and every decision with its numbers (verdicts,
// failures, the way back, who approved or aborted what).
//
// As markdown (for a ticket or a wiki), self-contained HTML (one file, no
// external resources) or JSON:
//
//   {name, plan, state, why, started_at, ended_at, seconds,
//    summary: {requests, errors, error_rate, write_unavailable_seconds,
//              rows_copied, held: {held, released, timed_out, client_gone,
//              p50_ms, p99_ms, max_ms, held_for_ms}, verifications: [...]},
//    steps: [{index, kind, target, state, started_at, ended_at, seconds, detail}],
//    traffic: [{route, phases: [{phase, pools: [{pool, requests, errors,
//              error_rate, p99_ms}]}]}],
//    decisions: [{at, kind, detail}]}
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "run/plan.h"
#include "run/run_journal.h"

namespace ferry::run {

struct ReportPool {
  std::string pool;
  int64_t requests = 0, errors = 0;
  double error_rate = 0;  // percent
  double p99_ms = 0;
};

struct ReportPhase {
  std::string phase;  // before (run start to the first traffic move), during, after
  std::vector<ReportPool> pools;
};

struct ReportRoute {
  std::string route;
  std::vector<ReportPhase> phases;
};

struct RunReport {
  std::string name, plan_file, state, why;
  double started_at = 0, ended_at = 0;
  std::vector<StepRecord> steps;
  std::vector<RunEventRecord> decisions;  // the events that decided or changed something
  // Key numbers.
  int64_t requests = 0, errors = 0;               // every route of the plan, start to last step
  std::vector<double> write_unavailable_seconds;  // each cutover and rollback
  int64_t rows_copied = 0;
  std::map<std::string, int64_t> held;     // the cutovers' holds, added up (max for the waits)
  std::vector<std::string> verifications;  // one line per verify
  std::vector<ReportRoute> traffic;
};

Result<RunReport> gather_report(const Plan& plan, const RunJournal& journal);

std::string render_report_markdown(const RunReport& report);
std::string render_report_html(const RunReport& report);
std::string render_report_json(const RunReport& report);

// `key=value key2="quoted value"` as a run's events and kept values write
// them.
std::map<std::string, std::string> parse_fields(std::string_view text);

}  // namespace ferry::run
