// ferry db follow: keep the target in step with the source after a clone.
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "cli/common.h"
#include "cli/db_commands.h"
#include "core/exit_codes.h"
#include "core/log.h"
#include "core/stop_signal.h"
#include "db/follow/follow.h"

namespace ferry::cli {

namespace {

struct FollowCliOptions {
  Endpoints endpoints;
  db::FollowOptions follow;
  std::string slot, publication, max_transaction = "64MB";
  std::string format = "text";
};

constexpr const char* kDescription = R"(
Streams every change committed on the source since the clone's snapshot and
applies it to the target, until stopped (Ctrl-C, SIGTERM) or until
`ferry db cutover` switches the application over. Run it right after
`ferry db clone`, with the same --dir, and leave it running.

  exactly once   each source transaction commits on the target together with
                 its source position (replication origins on the target); the
                 slot on the source is told only what the target has flushed.
                 Kill it at any moment and run it again: nothing is lost or
                 applied twice.
  parallel       --apply-jobs connections apply transactions that touch
                 different rows at the same time; commits stay in source
                 order. Conflicts the keys cannot show (a unique value moving
                 between rows) are retried in order.
  large values   updates that leave a TOASTed column alone do not send it; the
                 target keeps its value (no REPLICA IDENTITY FULL needed).
  keyless tables with REPLICA IDENTITY FULL: every change is carried, matching
                 whole rows. Without any replica identity: their INSERTs and
                 TRUNCATEs are carried (the clone's <publication>_insert_only);
                 an UPDATE or DELETE is reported at once as a diverged table
                 (log, ferry db status, metrics), with what to do:
                 ferry db clone --resync --tables T copies it again while
                 follow runs.
  schema changes a column added on the source is added on the target when the
                 values of existing rows are known; anything else stops follow
                 with the commands that fix it.
  connections    lost connections (a restarted server, a killed backend) are
                 re-established for --retry-for, resuming exactly. A follow
                 that has never connected (a wrong host or port) gives up
                 after 30 s (or --retry-for, if shorter). Stopped while
                 reconnecting, it exits 0 like any stop.

Status: live on a terminal, in DIR/follow-status.json every second (read it
with `ferry db status`), and as Prometheus metrics with --metrics-addr.

With --reverse (after `ferry db cutover --reverse`) it streams the other way:
from the target's slot <slot>_reverse (publication ferry_reverse) into the
source, so the source stays a live rollback target. --source and --target
keep their meaning.

Exit status: 0 stopped on request or by a cutover, 2 usage, 3 no such slot,
the clone in --dir has not finished, or a schema change needs a hand, 5 a
server refused a change or stayed unreachable for --retry-for, or apply made
no progress for --stall-timeout.

Examples:
  ferry db follow --source postgres://app@old-db/shop --target postgres://app@new-db/shop
  ferry db follow --source ... --target ... --apply-jobs 8 --metrics-addr :9187
  ferry db follow --source ... --target ... --reverse)";

int run_follow_command(FollowCliOptions& o) {
  auto endpoints = parse_endpoints(o.endpoints);
  if (!endpoints) return report_error(endpoints.error(), o.format);
  auto max_transaction = parse_size(o.max_transaction, "--max-transaction-memory");
  if (!max_transaction) return report_error(max_transaction.error(), o.format);
  auto& f = o.follow;
  const std::string slot = !o.slot.empty() ? o.slot : db::clone_slot_name(f.dir);
  if (!is_plain_name(slot, "--slot") ||
      (!o.publication.empty() && !is_plain_name(o.publication, "--publication")))
    return exit_status(ExitCode::kUsage);
  f.slot = f.reverse ? db::reverse_slot_name(slot) : slot;
  f.publication = !o.publication.empty() ? o.publication
                  : f.reverse            ? db::kReversePublication
                                         : "ferry";
  f.from = f.reverse ? endpoints->second : endpoints->first;
  f.to = f.reverse ? endpoints->first : endpoints->second;
  f.max_transaction_bytes = static_cast<size_t>(*max_transaction);
  f.live_progress = isatty(STDERR_FILENO) != 0;
  const std::atomic<bool>& stop = install_stop_signals();
  auto outcome = db::run_follow(f, stop);
  if (f.live_progress) std::cerr << "\n";
  if (!outcome) return report_error(outcome.error(), o.format);
  log_info(outcome->reason == db::FollowState::kSwitched
               ? "the cutover switched over; everything before it is applied"
               : "stopped; run the same command to continue where it left off");
  std::cout << (o.format == "json" ? db::render_follow_status_json(outcome->status)
                                   : db::render_follow_status_text(outcome->status));
  return exit_status(ExitCode::kOk);
}

}  // namespace

Runner install_db_follow(CLI::App& sub) {
  auto o = std::make_shared<FollowCliOptions>();
  sub.footer(kDescription);
  add_endpoint_options(sub, o->endpoints);
  sub.add_option("--dir", o->follow.dir, "Work directory of the clone (journal, status files)")
      ->capture_default_str();
  sub.add_option("--apply-jobs", o->follow.apply_jobs, "Connections applying on the target")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  sub.add_flag("--reverse", o->follow.reverse,
               "Stream target -> source (after ferry db cutover --reverse)");
  sub.add_option("--slot", o->slot,
                 "The clone's replication slot (default: the one journaled in --dir, or ferry); "
                 "--reverse streams <slot>_reverse");
  sub.add_option("--publication", o->publication,
                 "Publication (default: ferry, or ferry_reverse with --reverse)");
  sub.add_option("--metrics-addr", o->follow.metrics_addr,
                 "Serve Prometheus metrics and the /healthz and /readyz probes at host:port "
                 "(':9187' is 127.0.0.1:9187); off unless given")
      ->envname("FERRY_METRICS_ADDR");
  sub.add_option("--max-transaction-memory", o->max_transaction,
                 "Source transactions larger than this are applied as they stream, alone")
      ->capture_default_str();
  add_duration_option(sub, "--stall-timeout", o->follow.stall_timeout_seconds,
                      "Fail when nothing applies this long while changes wait", 1);
  add_duration_option(sub, "--retry-for", o->follow.retry_seconds,
                      "Keep reconnecting this long after a lost connection");
  sub.add_option("-f,--format", o->format, "Final status on stdout: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  return [o] { return run_follow_command(*o); };
}

}  // namespace ferry::cli
