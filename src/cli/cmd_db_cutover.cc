// ferry db cutover (and the options ferry db rollback shares): the timed
// switch of writes from one database to the other.
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/common.h"
#include "cli/db_commands.h"
#include "core/exit_codes.h"
#include "core/log.h"
#include "core/text.h"
#include "db/cutover/cutover.h"
#include "db/follow/follow.h"

namespace ferry::cli {

namespace {

struct CutoverCliOptions {
  Endpoints endpoints;
  db::CutoverOptions cutover;
  std::string format = "text";
};

constexpr const char* kCutoverDescription = R"(
Moves writes from the source to the target, as a timed checklist; each step
is printed with its duration as it ends:

  1. preflight   ferry db follow runs (same --dir) and is less than --max-lag
                 behind (a follow still starting or catching up is waited for,
                 its lag shown, up to --catch-up-timeout); no table has
                 diverged (--allow-diverged goes on anyway); schema and
                 settings agree; no prepared transactions
  2. read-only   the source database defaults to read-only; transactions that
                 are writing get --grace, then the remaining sessions
                 are ended (a session opened before would still write); a
                 marker in the WAL records the stop position
  3. drain       the follow applies everything up to the stop position
  4. verify      exact row counts of every table (--final-verify full:
                 checksums of every row; --verify-tables: checksums for those)
  5. sequences   every target sequence takes the source's value (not MAX(id):
                 ids may live in other systems), and is raised to the largest
                 value of a column it owns if that is higher: no duplicate key
                 on the first insert
  6. switch      with --reverse, a publication and slot (<slot>_reverse) on
                 the target first; then --then runs (e.g. a script that updates a
                 secret or a PgBouncer config; it gets FERRY_WRITABLE and
                 FERRY_READ_ONLY as key=value connection strings without
                 password, FERRY_STOP_LSN and FERRY_STEP=cutover); then the
                 target loses any read-only default and the follow ends

If any step fails, or steps 2-6 take longer than --max-write-pause, the
source takes writes again and what the steps created is removed. The report
gives the write-unavailable time: from read-only on to switched.

--reverse keeps the source a live rollback target (reverse synchronisation):
after the switch, `ferry db follow --reverse` is started in the background
(log in DIR/follow-reverse.log; check it with `ferry db status --reverse`)
and streams every change made on the target back to the source;
`ferry db rollback` switches back. Under a supervisor (systemd, Kubernetes),
--reverse-follow external leaves the start to it instead:
`systemctl start ferry-follow-reverse@NAME` keeps it running and restarts it.

Run it on the host where follow runs, with the same --dir. What a finished
move leaves behind (slots, publications, the reverse follow) and how to
remove it: docs/db.md, "After the move".

Exit status: 0 switched, 1 a step failed and the source was restored,
2 usage, 3 preflight found problems: the follow is not running, has failed,
did not catch up within --catch-up-timeout, or reports a diverged table
(nothing changed), 5 a server failed
before anything changed, or the source could not be restored (said loudly).

Examples:
  ferry db cutover --source postgres://app@old-db/shop --target postgres://app@new-db/shop
  ferry db cutover --source ... --target ... --reverse --then ./point-app-at-new-db.sh
  ferry db cutover --source ... --target ... --final-verify full --max-write-pause 30)";

constexpr const char* kRollbackDescription = R"(
After `ferry db cutover --reverse`: moves writes back from the target to the
source, with the same timed steps in the other direction:

  1. preflight   ferry db follow --reverse runs and is less than --max-lag behind
                 (waited for up to --catch-up-timeout); no table has diverged
  2. read-only   the target database defaults to read-only; sessions end after
                 --grace; a marker records the stop position
  3. drain       the reverse follow applies everything up to it on the source
  4. verify      row counts (or checksums) on both sides
  5. sequences   the source's sequences take the target's values
  6. switch      the source takes writes again; --then runs; the reverse
                 follow ends

Every write made on the target since the cutover is then on the source. The
target stays read-only. To try the cutover again later, run ferry db follow
(it resumes from the clone's slot and leaves out what the reverse stream
wrote) and ferry db cutover.

Exit status: 0 rolled back, 1 a step failed and the target takes writes again,
2 usage, 3 preflight found problems, 5 a server failed before anything
changed, or the target could not be restored.

Example:
  ferry db rollback --source postgres://app@old-db/shop --target postgres://app@new-db/shop)";

int run_cutover_command(CutoverCliOptions& o) {
  auto endpoints = parse_endpoints(o.endpoints);
  if (!endpoints) return report_error(endpoints.error(), o.format);
  auto& s = o.cutover;
  s.source = endpoints->first;
  s.target = endpoints->second;
  if (s.slot.empty()) s.slot = db::clone_slot_name(s.dir);
  if (!is_plain_name(s.slot, "--slot")) return exit_status(ExitCode::kUsage);
  std::error_code ec;
  s.ferry_binary = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  auto report = db::run_cutover(s);
  if (!report) return report_error(report.error(), o.format);
  std::cout << (o.format == "json" ? db::render_cutover_json(*report)
                                   : db::render_cutover_text(*report));
  if (report->switched) return exit_status(ExitCode::kOk);
  // Nothing was changed: the preflight's own verdict (3 problems, 5 a server).
  if (!report->changed_anything) return exit_status(exit_code_for(report->failure_code));
  if (report->restored) return exit_status(ExitCode::kFindings);
  log_error("the old side could not be put back to read-write: do it by hand (see above)");
  return exit_status(ExitCode::kDatabase);
}

Runner install_cutover(CLI::App& sub, bool rollback) {
  auto o = std::make_shared<CutoverCliOptions>();
  o->cutover.rollback = rollback;
  sub.footer(rollback ? kRollbackDescription : kCutoverDescription);
  add_endpoint_options(sub, o->endpoints);
  auto& s = o->cutover;
  sub.add_option("--dir", s.dir, "Work directory of the clone and follow")->capture_default_str();
  s.slot.clear();
  sub.add_option("--slot", s.slot,
                 "The clone's replication slot (default: the one journaled in --dir, or ferry)");
  add_duration_option(sub, "--max-lag", s.max_lag_seconds,
                      "Preflight: how far behind the follow may be");
  add_duration_option(sub, "--catch-up-timeout", s.catch_up_timeout_seconds,
                      "Preflight: how long to wait for a follow still starting or catching up");
  add_duration_option(sub, "--grace", s.grace_seconds,
                      "How long writing transactions may take to finish before sessions are ended");
  add_duration_option(sub, "--max-write-pause", s.max_write_pause,
                      "Give up and restore if read-only to switched takes longer", 0.001);
  sub.add_option_function<std::string>(
         "--final-verify",
         [&s](const std::string& mode) {
           s.final_verify = mode == "full"   ? db::FinalVerify::kFull
                            : mode == "none" ? db::FinalVerify::kNone
                                             : db::FinalVerify::kCounts;
         },
         "counts: exact row counts; full: checksums of every row; none")
      ->check(CLI::IsMember({"counts", "full", "none"}))
      ->default_str("counts");
  sub.add_option("--verify-tables", s.verify_tables,
                 "Also compare checksums of these tables (schema.name, * wildcards; repeatable)");
  sub.add_option("--then", s.then_command,
                 "Shell command run at the switch; a non-zero exit restores the old side");
  sub.add_flag("--allow-diverged", s.allow_diverged,
               "Go on although a table has diverged (an UPDATE or DELETE follow could not "
               "carry); it stays different on the new side, and the report lists it");
  if (!rollback) {
    CLI::Option* reverse =
        sub.add_flag("--reverse", s.reverse,
                     "Keep the source in step afterwards (reverse stream) so rollback is possible");
    sub.add_option_function<std::string>(
           "--reverse-follow",
           [o](const std::string& v) { o->cutover.start_reverse_follow = v == "started"; },
           "With --reverse: started (default: in the background, log in DIR) or external (a "
           "supervisor starts ferry db follow --reverse, e.g. ferry-follow-reverse@.service)")
        ->check(CLI::IsMember({"started", "external"}))
        ->needs(reverse);
  }
  sub.add_option("-f,--format", o->format, "Report on stdout: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  return [o] { return run_cutover_command(*o); };
}

}  // namespace

Runner install_db_cutover(CLI::App& sub) { return install_cutover(sub, false); }
Runner install_db_rollback(CLI::App& sub) { return install_cutover(sub, true); }

}  // namespace ferry::cli
