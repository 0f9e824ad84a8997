// ferry db check: preflight of a source and a target, every finding at once.
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "cli/common.h"
#include "cli/db_commands.h"
#include "core/exit_codes.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "db/check/preflight.h"
#include "pg/connection.h"

namespace ferry::cli {

namespace {

struct CheckOptions {
  Endpoints endpoints;
  std::string format = "text";
  db::PreflightOptions checks;
  bool no_slot = false;
};

constexpr const char* kDescription = R"(
Connects to both databases and reports, before anything is copied:
versions and pg_dump; wal_level, free replication slots and WAL senders (for
follow); privileges on both sides; tables without a primary key or replica
identity and what UPDATE/DELETE replication needs for them; encoding,
collation, ctype and timezone differences; extensions the target cannot
install; unlogged tables; large objects; roles missing on the target; target
tables that already hold rows; the data size and an estimated copy time.

Exit status: 0 no blockers, 1 blockers found, 2 usage, 3 a malformed connection
string, 5 a server was unreachable or refused.

Examples:
  ferry db check --source postgres://app@old-db/shop --target postgres://app@new-db/shop
  ferry db check --source ... --target ... --format json | jq '.findings[]')";

int run_check(const CheckOptions& o) {
  auto endpoints = parse_endpoints(o.endpoints);
  if (!endpoints) return report_error(endpoints.error(), o.format);
  // Both tried, both reported: one round of fixes, not two.
  auto source = pg::Connection::open(endpoints->first, {"ferry check"});
  auto target = pg::Connection::open(endpoints->second, {"ferry check"});
  if (!source || !target) {
    std::vector<std::pair<std::string, Error>> failed;
    if (!source) failed.emplace_back("source", source.error());
    if (!target) failed.emplace_back("target", target.error());
    if (o.format == "json") {
      JsonWriter w;
      w.begin_object().field("ok", false).key("errors").begin_array();
      for (const auto& [side, e] : failed)
        w.begin_object().field("side", side).field("message", e.to_string()).end_object();
      w.end_array().end_object();
      std::cout << w.take();
    }
    for (const auto& [side, e] : failed) log_error(side + ": " + e.to_string());
    return exit_status(exit_code_for(failed.front().second.code));
  }
  db::PreflightOptions options = o.checks;
  options.need_slot = !o.no_slot;
  auto report = db::run_preflight(*source, *target, options);
  if (!report) return report_error(report.error(), o.format);
  std::cout << (o.format == "json" ? db::render_preflight_json(*report)
                                   : db::render_preflight_text(*report));
  return exit_status(report->has_blockers() ? ExitCode::kFindings : ExitCode::kOk);
}

}  // namespace

Runner install_db_check(CLI::App& sub) {
  auto o = std::make_shared<CheckOptions>();
  o->checks.slot_name = "ferry";
  sub.footer(kDescription);
  add_endpoint_options(sub, o->endpoints);
  sub.add_option("-f,--format", o->format, "Output: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  sub.add_flag("--no-slot", o->no_slot,
               "A one-shot copy is planned: replication settings are warnings, not blockers");
  sub.add_option("--slot", o->checks.slot_name,
                 "The replication slot the clone will create: it must not exist yet")
      ->capture_default_str();
  // The name it had before every command said --slot: still understood.
  sub.add_option("--slot-name", o->checks.slot_name)->group("");
  sub.add_flag("--truncate-target", o->checks.truncate_target,
               "The clone will empty target tables: rows there are not a blocker");
  sub.add_flag("--no-owner", o->checks.no_owner,
               "The clone will not keep owners: missing roles are not a blocker");
  sub.add_option("-j,--jobs", o->checks.jobs, "Parallel copy jobs, for the time estimate")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  return [o] { return run_check(*o); };
}

}  // namespace ferry::cli
