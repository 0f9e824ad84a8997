// ferry db verify: rows, sequences, schema and settings of two databases compared.
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "cli/common.h"
#include "cli/db_commands.h"
#include "core/exit_codes.h"
#include "core/log.h"
#include "db/verify/verify.h"

namespace ferry::cli {

namespace {

struct VerifyCliOptions {
  Endpoints endpoints;
  db::VerifyOptions verify;
  std::string format = "text";
  std::vector<std::string> skip;
};

constexpr const char* kDescription = R"(
Compares the source and the target and names every difference:

  rows       per table, checksums of key ranges computed inside each database,
             both servers at once; differing ranges are split and re-checked
             until a few rows are left, and those rows are fetched and compared,
             so each missing, extra or changed row is named by its primary key.
             Tables without a key are compared as multisets (copies of each row).
             Keys are matched as text, never by collation, so servers that sort
             text differently still agree.
  sequences  the target's next value must be at least the source's
  schema     tables, columns and types, indexes, constraints, triggers, sequences
  settings   encoding, collation, ctype and timezone

Exit status: 0 everything matches, 1 differences (the full report is printed),
2 usage, 3 a malformed connection string, 5 a server was unreachable or failed.

--tables narrows rows and schema to the tables named and leaves sequences out
(a sequence belongs to no table by name).

Examples:
  ferry db verify --source postgres://app@old-db/shop --target postgres://app@new-db/shop
  ferry db verify --source ... --target ... --tables 'public.orders' --tables 'sales.*'
  ferry db verify --source ... --target ... --format json | jq '.tables[] | select(.equal | not)')";

int run_verify_command(VerifyCliOptions& o) {
  auto& v = o.verify;
  for (const auto& part : o.skip) {
    v.rows &= part != "rows";
    v.sequences &= part != "sequences";
    v.schema &= part != "schema";
    v.settings &= part != "settings";
  }
  auto endpoints = parse_endpoints(o.endpoints);
  if (!endpoints) return report_error(endpoints.error(), o.format);
  v.source = endpoints->first;
  v.target = endpoints->second;
  auto report = db::run_verify(v);
  if (!report) return report_error(report.error(), o.format);
  std::cout << (o.format == "json" ? db::render_verify_json(*report)
                                   : db::render_verify_text(*report));
  return exit_status(report->ok() ? ExitCode::kOk : ExitCode::kFindings);
}

}  // namespace

Runner install_db_verify(CLI::App& sub) {
  auto o = std::make_shared<VerifyCliOptions>();
  sub.footer(kDescription);
  add_endpoint_options(sub, o->endpoints);
  sub.add_option("--tables", o->verify.tables,
                 "Only these tables: schema.name, * matches any characters (repeatable)");
  sub.add_option("-j,--jobs", o->verify.jobs, "Parallel checksum scans (connection pairs)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  sub.add_option("-f,--format", o->format,
                 "Output: text (default, a table; 'table' is the same) or json")
      ->check(CLI::IsMember({"text", "table", "json"}));
  sub.add_option("--skip", o->skip, "Leave out: rows, sequences, schema, settings (repeatable)")
      ->check(CLI::IsMember({"rows", "sequences", "schema", "settings"}));
  sub.add_option("--max-rows-reported", o->verify.max_rows_reported,
                 "Differences listed per table (counts are always complete)")
      ->capture_default_str();
  sub.add_option("--rows-per-bucket", o->verify.rows_per_bucket,
                 "Rows per checksum bucket in the first pass")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{16}, int64_t{100000000}));
  return [o] { return run_verify_command(*o); };
}

}  // namespace ferry::cli
