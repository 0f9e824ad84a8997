// ferry db status: what a follow (running or not) last reported.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/common.h"
#include "cli/db_commands.h"
#include "core/exit_codes.h"
#include "core/log.h"
#include "db/follow/follow_status.h"

namespace ferry::cli {

namespace {

struct StatusCliOptions {
  std::string dir = "ferry-clone";
  bool reverse = false;
  std::string format = "text";
};

constexpr const char* kDescription = R"(
Prints what `ferry db follow` last wrote to DIR/follow-status.json: its state,
lag in bytes and seconds (with the 99th percentile over the last minute),
transactions and rows applied and their rates, the positions applied and
confirmed, conflicts retried, reconnections, warnings and the last error.
`running` says whether the follow process is alive and wrote within 5 s.

Tables without replica identity are listed as insert-only (their inserts
and TRUNCATEs are carried); one that an UPDATE or DELETE on the source made
different is listed under diverged_tables, with what to do (REPLICA IDENTITY
FULL, then ferry db clone --resync --tables T), until it is copied again.

Exit status: 0 follow is running and no table has diverged, 1 it is not
running (stopped, failed, switched) or a table has diverged, 3 the status
file is not one ferry wrote (garbled), 4 no status in DIR.

Examples:
  ferry db status --dir /var/lib/ferry/shop
  ferry db status --format json | jq .lag_seconds)";

int run_status_command(const StatusCliOptions& o) {
  const std::string path = db::follow_status_path(o.dir, o.reverse);
  if (!std::filesystem::exists(path))
    return report_error(Error{ErrorCode::kIo,
                              path + ": no follow status here (has ferry db follow" +
                                  (o.reverse ? std::string(" --reverse") : std::string()) +
                                  " run with --dir " + o.dir + "?)",
                              {},
                              {}},
                        o.format);
  auto status = db::read_follow_status(path);
  if (!status) return report_error(status.error(), o.format);
  status->running = db::follow_is_alive(*status);
  std::cout << (o.format == "json" ? db::render_follow_status_json(*status)
                                   : db::render_follow_status_text(*status));
  for (const auto& d : status->diverged_tables)
    log_error(fmt::format("{} has diverged: {}. {}", d.table, d.detail,
                          db::diverged_table_fix(d.table, o.dir, o.reverse)));
  return exit_status(status->running && status->diverged_tables.empty() ? ExitCode::kOk
                                                                        : ExitCode::kFindings);
}

}  // namespace

Runner install_db_status(CLI::App& sub) {
  auto o = std::make_shared<StatusCliOptions>();
  sub.footer(kDescription);
  sub.add_option("--dir", o->dir, "Work directory of the clone and follow")->capture_default_str();
  sub.add_flag("--reverse", o->reverse, "The reverse stream's status (after a cutover)");
  sub.add_option("-f,--format", o->format, "Output: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  return [o] { return run_status_command(*o); };
}

}  // namespace ferry::cli
