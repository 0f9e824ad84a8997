// ferry run PLAN: a migration plan executed (or with --dry-run, read, its
// steps shown and everything they need checked, with nothing changed), and
// the commands that read a run's journal or give it a command.
#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/run_dashboard.h"
#include "core/child_process.h"
#include "core/exit_codes.h"
#include "core/files.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/stop_signal.h"
#include "core/text.h"
#include "run/live_step_runner.h"
#include "run/plan.h"
#include "run/plan_preflight.h"
#include "run/run_engine.h"
#include "run/run_journal.h"
#include "run/run_report.h"
#include "run/run_status.h"

namespace ferry::cli {

namespace {

struct RunOptions {
  std::string plan;
  std::string ui;             // HOST:PORT for the live dashboard while it runs; "" none
  std::string ui_token_file;  // the dashboard's token
  std::string env_token;      // FERRY_ADMIN_TOKEN, read while parsing
  bool dry_run = false;
  std::string format = "text";
};

constexpr const char* kDescription = R"(
A migration plan (docs/run.md) names the databases and the proxy route a
migration moves and the steps that move them: clone, follow, verify,
approve, rollout, cutover, watch, command. Without steps, the strategy's
own (all-at-once or layer-by-layer) are used.

--dry-run reads the plan (every problem at once, with its line), prints the
steps and what each will do, and checks what they need: the state
directory can be written, each database's source and target answer and pass
`ferry db check`, the proxy's admin API answers and has every route the
steps name. Nothing is changed. Connection strings may name environment
variables (${SOURCE_URI}); passwords are never printed.

Without --dry-run the plan runs: the same checks first (nothing starts if
one fails), then each step, journaled in STATE_DIR/run.sqlite before and
after it runs. Stopped (Ctrl-C, SIGTERM, a crash), the same command goes on
where it stopped; a finished clone or cutover is not repeated. A failed step
walks the way back for what has moved (or pauses: on_failure: pause).
`ferry run status|approve|pause|resume|abort PLAN` read the journal or queue
a command for the running engine, from any terminal; `ferry run report PLAN`
writes the migration report (markdown, html or json); `ferry run ui PLAN`
serves its live dashboard, as --ui HOST:PORT does while the run goes on.

Exit status: 0 every check passed (--dry-run) or the run is done, 1 a check
failed, or the run walked its way back, or it was stopped before its end
(run it again to go on), 2 usage, 3 the plan is invalid, 4 the journal or
the proxy's admin API failed, 5 a database failed.

Examples:
  SOURCE_URI=postgres://app@old-db/shop TARGET_URI=postgres://app@new-db/shop \
    ferry run examples/run/shop.yaml --dry-run
  ferry run examples/run/shop.yaml --ui 127.0.0.1:8088   # and from another terminal:
  ferry run status examples/run/shop.yaml
  ferry run approve examples/run/shop.yaml
  ferry run plan.yaml --dry-run -f json | jq '.preflight[] | select(.ok == false)')";

const char* strategy_name(run::Strategy s) {
  return s == run::Strategy::kLayerByLayer ? "layer-by-layer" : "all-at-once";
}

std::string render_text(const run::Plan& plan, const run::PlanPreflight& preflight) {
  std::string out = fmt::format("plan {} ({}): {}, {} steps, on failure: {}\n", plan.name,
                                plan.file, strategy_name(plan.strategy), plan.steps.size(),
                                plan.on_failure == run::OnFailure::kPause ? "pause" : "roll back");
  for (const auto& db : plan.databases) {
    out += fmt::format("  database {}: {} -> {}{}\n", db.name, db.source_shown, db.target_shown,
                       db.route.empty() ? "" : ", route " + db.route);
  }
  out += plan.steps.front().from_strategy ? "steps (the strategy's own):\n" : "steps:\n";
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    out += fmt::format("  {:>2}. {}\n", i + 1, plan.steps[i].describe());
  }
  out += "preflight:\n";
  for (const auto& c : preflight.checks) {
    out += fmt::format("  {:<4}  {}: {}\n", c.ok ? "ok" : "FAIL", c.subject, c.detail);
  }
  out += preflight.ok() ? "every check passed; nothing was changed\n"
                        : "a check failed (FAIL above); nothing was changed\n";
  return out;
}

std::string render_json(const run::Plan& plan, const run::PlanPreflight& preflight) {
  JsonWriter w;
  w.begin_object().field("ok", preflight.ok()).key("plan").begin_object();
  w.field("name", plan.name).field("file", plan.file).field("state_dir", plan.state_dir);
  w.field("strategy", strategy_name(plan.strategy));
  w.field("on_failure", plan.on_failure == run::OnFailure::kPause ? "pause" : "rollback");
  w.key("databases").begin_array();
  for (const auto& db : plan.databases) {
    w.begin_object().field("name", db.name).field("source", db.source_shown);
    w.field("target", db.target_shown).field("jobs", db.jobs).field("route", db.route);
    w.end_object();
  }
  w.end_array().key("steps").begin_array();
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const auto& s = plan.steps[i];
    w.begin_object().field("index", static_cast<int64_t>(i + 1));
    w.field("kind", run::step_kind_name(s.kind)).field("database", s.database);
    w.field("route", s.route).field("description", s.describe());
    w.field("from_strategy", s.from_strategy).end_object();
  }
  w.end_array().end_object().key("preflight").begin_array();
  for (const auto& c : preflight.checks) {
    w.begin_object().field("subject", c.subject).field("ok", c.ok);
    w.field("detail", c.detail).end_object();
  }
  w.end_array().end_object();
  return w.take();
}

// The plan executed: checked as --dry-run checks it (lighter when the run
// has started: the clone has changed what `ferry db check` looks at), then
// driven by the engine until it is done, rolled back, or stopped by a
// signal (run the same command again to go on).
int execute_plan(const RunOptions& o, const run::Plan& plan) {
  const bool resuming =
      std::filesystem::exists(std::filesystem::path(plan.state_dir) / "run.sqlite");
  const run::PlanPreflight preflight = run::run_plan_preflight(plan, o.env_token, resuming);
  if (!preflight.ok()) {
    std::cout << render_text(plan, preflight);
    log_error("ferry run: a check failed (FAIL above); nothing was started or changed");
    return exit_status(ExitCode::kFindings);
  }
  auto journal = run::RunJournal::open(plan);
  if (!journal) return report_error(journal.error());
  std::unique_ptr<run::DashboardServer> dashboard;
  if (!o.ui.empty()) {
    auto started = start_dashboard(plan, o.ui, o.ui_token_file, o.env_token);
    if (!started) return report_error(started.error());
    dashboard = std::move(*started);
  }
  const std::atomic<bool>& stop = install_stop_signals();
  run::LiveStepRunner runner(plan, *journal, {own_executable(), o.env_token, 500});
  run::EngineOptions options;
  options.poll_ms = 500;
  options.interrupted = [&stop] { return stop.load(); };
  options.sleep = [&stop](int64_t ms) {
    for (int64_t slept = 0; slept < ms && !stop.load(); slept += 50) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  };
  log_info(fmt::format(
      "run: plan {} ({} steps){}; journal {}; `ferry run status {}` shows where "
      "it is",
      plan.name, plan.steps.size(), resuming ? ", resuming" : "", journal->path(), o.plan));
  run::RunEngine engine(plan, *journal, runner, options);
  auto end = engine.run();
  if (!end) return report_error(end.error());
  // The run's status as it ended: the same text or JSON as `ferry run status`.
  if (auto text = o.format == "json" ? run::render_status_json(plan, *journal)
                                     : run::render_status_text(plan, *journal)) {
    std::cout << *text;
  }
  switch (*end) {
    case run::RunEnd::kDone:
    case run::RunEnd::kIdle:
      return exit_status(ExitCode::kOk);
    case run::RunEnd::kRolledBack:
      log_error("ferry run: the run walked its way back (the events above say why)");
      return exit_status(ExitCode::kFindings);
    case run::RunEnd::kInterrupted:
      log_warn("ferry run: stopped; run the same command again to go on where it stopped");
      return exit_status(ExitCode::kFindings);
  }
  return exit_status(ExitCode::kInternal);
}

int run_plan(const RunOptions& o) {
  auto plan = run::load_plan(o.plan);
  if (!plan) return report_error(plan.error(), o.format);
  for (const auto& warning : plan->warnings) log_warn(warning);
  if (!o.dry_run) return execute_plan(o, *plan);
  const run::PlanPreflight preflight = run::run_plan_preflight(*plan, o.env_token);
  std::cout << (o.format == "json" ? render_json(*plan, preflight) : render_text(*plan, preflight));
  return exit_status(preflight.ok() ? ExitCode::kOk : ExitCode::kFindings);
}

// `ferry run status|approve|pause|resume|abort PLAN`: the run's journal,
// read or given a command the engine takes at its next check.
struct JournalOptions {
  std::string plan;
  std::string format = "text";
  std::string who;
  std::string out;  // report: the file to write ("" : stdout)
};

int run_report(const run::Plan& plan, const run::RunJournal& journal, const JournalOptions& o) {
  auto report = run::gather_report(plan, journal);
  if (!report) return report_error(report.error());
  const std::string text = o.format == "html"   ? run::render_report_html(*report)
                           : o.format == "json" ? run::render_report_json(*report)
                                                : run::render_report_markdown(*report);
  if (o.out.empty()) {
    std::cout << text;
    return exit_status(ExitCode::kOk);
  }
  if (auto ok = write_file_atomically(o.out, text); !ok) return report_error(ok.error());
  log_info(fmt::format("run: the report of {} is in {}", plan.name, o.out));
  return exit_status(ExitCode::kOk);
}

int run_journal_command(const std::string& verb, const JournalOptions& o) {
  auto plan = run::load_plan(o.plan, run::placeholder_environment);
  if (!plan) return report_error(plan.error(), o.format);
  auto journal = run::RunJournal::open_existing(*plan);
  if (!journal) return report_error(journal.error(), o.format);
  if (verb == "report") return run_report(*plan, *journal, o);
  if (verb == "status") {
    auto text = o.format == "json" ? run::render_status_json(*plan, *journal)
                                   : run::render_status_text(*plan, *journal);
    if (!text) return report_error(text.error(), o.format);
    std::cout << *text;
    return exit_status(ExitCode::kOk);
  }
  const run::RunCommand command = verb == "approve"  ? run::RunCommand::kApprove
                                  : verb == "pause"  ? run::RunCommand::kPause
                                  : verb == "resume" ? run::RunCommand::kResume
                                                     : run::RunCommand::kAbort;
  if (auto ok = journal->queue_command(command, o.who); !ok) return report_error(ok.error());
  log_info(
      fmt::format("run: {} queued for plan {} by {}; the running `ferry run` takes it at its "
                  "next check (ferry run status {} shows what came of it)",
                  verb, plan->name, o.who, o.plan));
  return exit_status(ExitCode::kOk);
}

constexpr const char* kStatusFooter = R"(
Reads the run's journal (STATE_DIR/run.sqlite) only: it needs neither the
databases nor the connection strings' secrets. -f json is a stable contract
(docs/run.md). Exit status: 0, 3 the plan is invalid, 4 no journal.)";

constexpr const char* kReportFooter = R"(
From the run's journal alone, during the run or after it (docs/run.md, "The
report"). Exit status: 0, 3 the plan is invalid, 4 no journal, or --out
cannot be written.)";

constexpr const char* kCommandFooter = R"(
Queues the command in the run's journal, with who gave it (--as, or your OS
user). The running `ferry run PLAN` takes it at its next check (about
every half second; a cutover, and a verify's comparison under way, finish
first), and `ferry run status PLAN` shows what came of it. Without a
running engine it waits in the journal: only an engine carries it out
(docs/run.md, "If the engine cannot run"). Exit status: 0 queued, 3 the plan
is invalid, 4 no journal.)";

std::string current_user() {
  if (const passwd* pw = ::getpwuid(::geteuid())) return pw->pw_name;
  return "uid " + std::to_string(::geteuid());
}

}  // namespace

Runner install_run(CLI::App& sub) {
  auto o = std::make_shared<RunOptions>();
  sub.footer(kDescription);
  CLI::Option* plan = sub.add_option("plan", o->plan, "The migration plan (YAML)");
  sub.add_flag("--dry-run", o->dry_run, "Show the steps and check what they need; change nothing");
  sub.add_option("--ui", o->ui,
                 "Serve the live dashboard on HOST:PORT while the run goes on (like ferry run ui)");
  sub.add_option("--ui-token-file", o->ui_token_file,
                 "A file holding the token the dashboard requires (needed beyond loopback)");
  sub.add_option("-f,--format", o->format,
                 "Output: text (default) or json (the checks; after a run, its status)")
      ->check(CLI::IsMember({"text", "json"}));
  // Read while parsing: main() then removes it from the environment.
  sub.parse_complete_callback([o] {
    if (const char* token = std::getenv("FERRY_ADMIN_TOKEN")) o->env_token = trim(token);
  });
  struct Verb {
    const char* name;
    const char* summary;
    const char* footer;  // the verb's own description and exit statuses
  };
  static constexpr Verb kVerbs[] = {
      {"status", "Where a run is: its state, each step's state and times, the latest events",
       kStatusFooter},
      {"report", "The migration report: outcome, key numbers, timeline, traffic, decisions",
       kReportFooter},
      {"approve", "Approve the step a run waits at (who approved is journaled)", kCommandFooter},
      {"pause", "Pause a run: a long step stops where it is, the others end first", kCommandFooter},
      {"resume", "Let a paused run go on (a stopped or failed step is run again)", kCommandFooter},
      {"abort", "Walk the way back for whatever the run has moved", kCommandFooter},
  };
  std::vector<std::pair<CLI::App*, std::shared_ptr<JournalOptions>>> verbs;
  for (const Verb& v : kVerbs) {
    CLI::App* verb = sub.add_subcommand(v.name, v.summary);
    verb->footer(v.footer);
    auto jo = std::make_shared<JournalOptions>();
    jo->who = current_user();
    verb->add_option("plan", jo->plan, "The plan the run was started with")->required();
    if (std::string(v.name) == "status") {
      verb->add_option("-f,--format", jo->format, "Output: text (default) or json")
          ->check(CLI::IsMember({"text", "json"}));
    } else if (std::string(v.name) == "report") {
      jo->format = "markdown";
      verb->add_option("-f,--format", jo->format, "Output: markdown (default), html or json")
          ->check(CLI::IsMember({"markdown", "html", "json"}));
      verb->add_option("-o,--out", jo->out, "Write it to this file (default: stdout)");
    } else {
      verb->add_option("--as", jo->who, "Who gives the command, for the journal (default: you)");
    }
    verb->excludes(plan);
    verbs.emplace_back(verb, jo);
  }
  CLI::App* ui = sub.add_subcommand("ui",
                                    "Serve a run's live dashboard (steps, lag, traffic, "
                                    "audit log, approve/pause/resume/abort)");
  ui->excludes(plan);
  Runner run_ui = install_run_ui(*ui);
  return [o, verbs, ui, run_ui] {
    if (ui->parsed()) return run_ui();
    for (const auto& [verb, jo] : verbs) {
      if (verb->parsed()) return run_journal_command(verb->get_name(), *jo);
    }
    if (o->plan.empty()) {
      log_error(
          "ferry run: give a plan (ferry run PLAN --dry-run) or a command (ferry run "
          "status PLAN); ferry run --help lists them");
      return exit_status(ExitCode::kUsage);
    }
    return run_plan(*o);
  };
}

}  // namespace ferry::cli
