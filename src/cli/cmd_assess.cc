// ferry assess: read inventories, decide, schedule, render the plan.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <memory>

#include "assess/emit_runs.h"
#include "assess/importers.h"
#include "assess/plan.h"
#include "assess/plan_diff.h"
#include "assess/report.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "core/calendar.h"
#include "core/exit_codes.h"
#include "core/files.h"
#include "core/generated_files.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/step_timer.h"

namespace ferry::cli {

namespace {

struct AssessOptions {
  std::vector<std::string> inventories;
  std::string format = "table";
  std::string out;
  std::string rules_file;
  std::string catalog_file;
  std::string emit_runs;  // a directory for the `ferry run` plans; "" for none
  // What-ifs: each replaces the inventory's setting, and the plan says what moved.
  std::string start;
  int team_capacity = 0;  // 0: not given
  double bandwidth_gbps = 0;
};

struct DiffOptions {
  std::string old_inventory;
  std::string new_inventory;
  std::string format = "text";
  std::string rules_file;
  std::string catalog_file;
  std::string start;
  bool exit_code = false;
};

constexpr const char* kDescription =
    R"(Reads one or more inventories and decides, for every workload: a 6R strategy
(rehost, replatform, refactor, repurchase, retire, retain) with every rule that
fired, a confidence rating from 1 to 5, the open/sovereign equivalent of each
cloud service, its data gravity, how each data store moves and how long that
takes, its risks, checklist, rollback criteria and cutover style. Then it groups
workloads into waves from the dependency graph (cycles move together, nothing
before what it depends on, a low-risk pilot first, shared infrastructure next)
and shows the critical path.

Inventories (several are merged by workload name; later files win):
  *.yaml, *.yml, *.json  ferry's own model (see examples/estate.yaml)
  *.csv                  recognised by header: the inventory spreadsheet
                         (Application,Technology,Dependencies,Traffic,Data Store,
                         Critical,Owner), Konveyor's application import (Record
                         Type 1,...), or the AWS Migration Hub import (ExternalId,
                         ...,Applications,ApplicationWave,Tags)

Examples:
  ferry assess examples/estate.yaml
  ferry assess estate.yaml servers.csv --format markdown --out plan.md
  ferry assess estate.yaml --format json | jq '.workloads[] | {name, strategy, wave}'
  ferry -v assess estate.yaml       (also logs how long each step took)
  ferry assess estate.yaml --format csv --out schedule.csv   (waves and tasks for a tracker)
  ferry assess estate.yaml --bandwidth 10 --team-capacity 3  (what if: says what moved)
  ferry assess diff old/estate.yaml estate.yaml              (how a changed inventory changed the plan)
  ferry assess estate.yaml --emit-runs plans   (a `ferry run` plan per workload ferry can move)

The schedule: working days (less defaults.holidays) from --start (or
defaults.start; else the Monday after today): mobilisation, each workload's
build by its team (its owner), data copies, one wave's cutover at a time (none
during defaults.change_freezes), hypercare with the source read-only,
decommissioning. The critical path is the chain of tasks that decides the end.

--emit-runs DIR also writes a `ferry run` plan skeleton (docs/run.md) for every
workload whose PostgreSQL data or HTTP traffic ferry can move, named in wave
order (DIR/wave-04-web-api.yaml), with the schedule's window, the method and
the rollback criteria filled in, and DIR/README.md listing them and everything
ferry cannot carry, with the reason. DIR must be new, empty, or hold only what
an earlier --emit-runs wrote, unchanged: ferry never writes over your edits.

Guide: docs/assess.md. Rules and facts: data/rules.yaml.)";

Result<std::string> read_source(const std::string& file, std::string_view builtin) {
  if (file.empty()) return std::string(builtin);
  return read_text_file(file).map_error([&](Error e) { return std::move(e).with_context(file); });
}

// Hands a large structure over to process exit instead of freeing it. A
// 10,000-workload plan is about a million small allocations; freeing them one
// by one costs a fifth of the run, and the process ends right after (clang's
// -disable-free does the same for its ASTs).
template <typename T>
void skip_freeing_at_exit(T&& value) {
  new std::decay_t<T>(std::forward<T>(value));
}

// Rules and catalog: the built-in ones unless files are given.
struct Knowledge {
  Result<assess::RuleSet> rules;
  Result<assess::Catalog> catalog;
  std::string rules_name, catalog_name;
};

Knowledge load_knowledge(const std::string& rules_file, const std::string& catalog_file) {
  using namespace assess;
  const std::string rules_name = rules_file.empty() ? "data/rules.yaml (built in)" : rules_file;
  const std::string catalog_name =
      catalog_file.empty() ? "data/catalog.yaml (built in)" : catalog_file;
  auto rules_text = read_source(rules_file, builtin_rules_text());
  Result<RuleSet> rules = rules_text ? RuleSet::parse(*rules_text, rules_name)
                                     : Result<RuleSet>(tl::unexpected(rules_text.error()));
  auto catalog_text = read_source(catalog_file, builtin_catalog_text());
  Result<Catalog> catalog = catalog_text ? Catalog::parse(*catalog_text, catalog_name)
                                         : Result<Catalog>(tl::unexpected(catalog_text.error()));
  return {std::move(rules), std::move(catalog), rules_name, catalog_name};
}

std::vector<std::string> lines_of(const Diagnostics& warnings) {
  std::vector<std::string> out;
  for (const auto& d : warnings.all()) out.push_back(d.where.to_string() + ": " + d.message);
  return out;
}

assess::Plan plan_estate(const assess::Estate& estate, const Knowledge& k,
                         const std::vector<std::string>& warnings) {
  assess::Plan plan = assess::build_plan(estate, *k.rules, *k.catalog, warnings);
  plan.rules_source = k.rules_name;
  plan.catalog_source = k.catalog_name;
  return plan;
}

// The command line's what-if settings over the inventory's; each one given
// is named for the report.
std::vector<std::string> apply_what_ifs(const AssessOptions& o, assess::PlanningDefaults& d) {
  std::vector<std::string> settings;
  if (!o.start.empty()) {
    // Only a what-if when the inventory has a start of its own to compare
    // with; otherwise it is the start (the default one moves with the calendar).
    if (d.start) settings.push_back("--start " + o.start);
    d.start = parse_iso_date(o.start);  // the option's check accepted it
  }
  if (o.team_capacity > 0) {
    d.team_capacity = o.team_capacity;
    settings.push_back(fmt::format("--team-capacity {}", o.team_capacity));
  }
  if (o.bandwidth_gbps > 0) {
    d.bandwidth_gbps = o.bandwidth_gbps;
    settings.push_back(fmt::format("--bandwidth {:g}", o.bandwidth_gbps));
  }
  return settings;
}

int run_assess(const AssessOptions& o) {
  using namespace assess;
  // The parser's check (the --format validator below) accepted it.
  const auto format = parse_report_format(o.format);
  // Never overwrite what was read: a plan written over its own inventory is a lost inventory.
  std::vector<std::string> inputs = o.inventories;
  for (const auto& f : {o.rules_file, o.catalog_file}) {
    if (!f.empty()) inputs.push_back(f);
  }
  std::error_code ec;
  // --out inside the runs' directory would be a file --emit-runs did not
  // write there, and the next --emit-runs would refuse the directory.
  if (!o.emit_runs.empty() && !o.out.empty() && o.out != "-" &&
      std::filesystem::weakly_canonical(std::filesystem::path(o.out), ec).parent_path() ==
          std::filesystem::weakly_canonical(o.emit_runs, ec)) {
    log_error(fmt::format("--out {} is inside --emit-runs {}; write the plan elsewhere", o.out,
                          o.emit_runs));
    return exit_status(ExitCode::kUsage);
  }
  for (const auto& input : inputs) {
    if (!o.out.empty() && o.out != "-" && std::filesystem::equivalent(o.out, input, ec)) {
      log_error(fmt::format("--out {} is one of the inputs; refusing to overwrite it", o.out));
      return exit_status(ExitCode::kUsage);
    }
  }
  StepTimer timer;
  // 1. Rules, catalog and inventories; every problem in every input is
  //    collected before failing.
  std::vector<Error> errors;
  Knowledge knowledge = load_knowledge(o.rules_file, o.catalog_file);
  if (!knowledge.rules) errors.push_back(knowledge.rules.error());
  if (!knowledge.catalog) errors.push_back(knowledge.catalog.error());
  timer.lap("rules and catalog");
  Diagnostics warnings;
  Result<Estate> estate = load_estate(o.inventories, warnings);
  if (!estate) errors.push_back(estate.error());
  timer.lap("inventories");
  if (!errors.empty()) return report_errors(errors, o.format);
  const std::vector<std::string> warning_lines = lines_of(warnings);

  // 2. Decide and schedule; a what-if plans twice and says what moved.
  Estate what_if = *estate;
  const std::vector<std::string> settings = apply_what_ifs(o, what_if.defaults);
  Plan plan = plan_estate(what_if, knowledge, warning_lines);
  if (!settings.empty()) {
    Plan baseline = plan_estate(*estate, knowledge, warning_lines);
    plan.what_if_settings = settings;
    plan.what_if_changes = compare_plans(baseline, plan);
    skip_freeing_at_exit(std::move(baseline));
  }
  timer.lap("plan");
  // 3. The run plans, before the plan's own output: a directory refused is
  //    then the run's one outcome (one JSON document with --format json).
  if (!o.emit_runs.empty()) {
    const EmittedRuns runs = emit_runs(plan, {o.inventories, o.emit_runs});
    if (auto w = write_generated_files(o.emit_runs, runs.files, "ferry assess --emit-runs"); !w) {
      return report_error(std::move(w.error()).with_context("--emit-runs"), o.format);
    }
    log_info(fmt::format(
        "wrote {} run plan{} to {} ({}/README.md lists them, and what ferry "
        "cannot carry)",
        runs.plans.size(), runs.plans.size() == 1 ? "" : "s", o.emit_runs, o.emit_runs));
    timer.lap("run plans");
  }
  // 4. Render and write.
  const std::string text = render(plan, *format);
  timer.lap("render");
  int status = 0;
  if (o.out.empty() || o.out == "-") {
    std::cout << text;
    std::cout.flush();
    if (!std::cout) status = exit_status(ExitCode::kIo);
  } else if (auto written = write_file_atomically(o.out, text); !written) {
    status = report_error(written.error(), o.format);
  } else {
    log_info(fmt::format("wrote {} ({} workloads, {} waves)", o.out, plan.workloads.size(),
                         plan.waves.size()));
    if (!plan.warnings.empty()) {
      log_warn(fmt::format("the plan has {} warning{}; see its Warnings section",
                           plan.warnings.size(), plan.warnings.size() == 1 ? "" : "s"));
    }
  }
  skip_freeing_at_exit(std::move(plan));
  skip_freeing_at_exit(std::move(*estate));
  skip_freeing_at_exit(std::move(what_if));
  return status;
}

int run_diff(const DiffOptions& o) {
  using namespace assess;
  std::vector<Error> errors;
  Knowledge knowledge = load_knowledge(o.rules_file, o.catalog_file);
  if (!knowledge.rules) errors.push_back(knowledge.rules.error());
  if (!knowledge.catalog) errors.push_back(knowledge.catalog.error());
  Diagnostics old_warnings, new_warnings;
  Result<Estate> before = load_estate({o.old_inventory}, old_warnings);
  if (!before) errors.push_back(before.error());
  Result<Estate> after = load_estate({o.new_inventory}, new_warnings);
  if (!after) errors.push_back(after.error());
  if (!errors.empty()) return report_errors(errors, o.format == "json" ? "json" : "text");
  // Both on one start date: a diff shows what the inventory changed, not the calendar.
  const CalendarDate start =
      o.start.empty()
          ? before->defaults.start.value_or(after->defaults.start.value_or(next_monday_utc()))
          : *parse_iso_date(o.start);
  before->defaults.start = start;
  if (!o.start.empty() || !after->defaults.start) after->defaults.start = start;
  const Plan old_plan = plan_estate(*before, knowledge, lines_of(old_warnings));
  const Plan new_plan = plan_estate(*after, knowledge, lines_of(new_warnings));
  const std::vector<PlanChange> changes = compare_plans(old_plan, new_plan);
  std::string text;
  if (o.format == "json") {
    JsonWriter j(/*pretty_depth=*/2);
    j.begin_object()
        .field("ok", true)
        .field("old", o.old_inventory)
        .field("new", o.new_inventory)
        .key("changes");
    changes_json(j, changes);
    j.end_object();
    text = j.take();
  } else if (o.format == "markdown") {
    text = fmt::format("# Plan changes\n\nFrom `{}` to `{}`: {} change{}.\n\n", o.old_inventory,
                       o.new_inventory, changes.size(), changes.size() == 1 ? "" : "s") +
           changes_markdown(changes);
  } else {
    text = fmt::format("{} -> {}: {} change{}\n", o.old_inventory, o.new_inventory, changes.size(),
                       changes.size() == 1 ? "" : "s");
    for (const auto& c : changes) text += "  " + change_text(c) + "\n";
  }
  std::cout << text;
  std::cout.flush();
  if (!std::cout) return exit_status(ExitCode::kIo);
  return o.exit_code && !changes.empty() ? exit_status(ExitCode::kFindings) : 0;
}

// --start's check: a real date, so the plan never meets a bad one.
const CLI::Validator kIsoDate(
    [](std::string& text) -> std::string {
      return parse_iso_date(text) ? "" : "'" + text + "' is not a date; expected YYYY-MM-DD";
    },
    "DATE");

}  // namespace

Runner install_assess(CLI::App& sub) {
  auto o = std::make_shared<AssessOptions>();
  // The one-line summary stays in `ferry --help`; the full text ends `ferry assess --help`.
  sub.footer(kDescription);
  sub.add_option("INVENTORY", o->inventories, "Inventory files (YAML, JSON or CSV)");
  // Shown as TEXT:{...} in the help, where completion finds the values.
  const CLI::Validator formats(
      [](std::string& name) -> std::string {
        return assess::parse_report_format(name)
                   ? ""
                   : "unknown format '" + name +
                         "'; expected text, table, markdown, json, html or csv";
      },
      "{text,table,markdown,json,html,csv}");
  sub.add_option("-f,--format", o->format,
                 "Output: text (default, a table; 'table' is the same), markdown, json, html, or "
                 "csv (the schedule's waves and tasks)")
      ->capture_default_str()
      ->check(formats);
  sub.add_option("-o,--out", o->out,
                 "Write the plan to FILE (atomically) instead of stdout ('-': stdout)");
  sub.add_option("--emit-runs", o->emit_runs,
                 "Also write a `ferry run` plan per workload ferry can move, and an index, into "
                 "DIR (new, empty, or an earlier --emit-runs' own)")
      ->type_name("DIR");
  sub.add_option("--rules", o->rules_file,
                 "Planning rules to use instead of the built-in data/rules.yaml");
  sub.add_option("--catalog", o->catalog_file,
                 "Service catalog to use instead of the built-in data/catalog.yaml");
  sub.add_option("--start", o->start,
                 "What if the programme starts on DATE (YYYY-MM-DD) instead of defaults.start")
      ->check(kIsoDate);
  sub.add_option("--team-capacity", o->team_capacity,
                 "What if each team builds N workloads at once instead of defaults.team_capacity")
      ->check(CLI::Range(1, 1000));
  sub.add_option("--bandwidth", o->bandwidth_gbps,
                 "What if the link carries GBPS instead of defaults.bandwidth_gbps")
      ->check(CLI::Range(0.001, 10000.0));

  auto d = std::make_shared<DiffOptions>();
  CLI::App* diff = sub.add_subcommand(
      "diff", "How a changed inventory changes the plan (dates, waves, strategies, methods)");
  diff->footer(R"(Plans OLD and NEW with the same rules, catalog and start date and lists every
difference: the end date, waves, critical path, each workload's strategy, wave,
build, team, data methods and risks, workloads added or removed, warnings.
For review in CI: --exit-code makes a difference exit with status 1.

Exit status: 0 (1 with --exit-code when the plans differ); 3 invalid input;
4 a file could not be read.)");
  diff->add_option("OLD", d->old_inventory, "The inventory before the change")->required();
  diff->add_option("NEW", d->new_inventory, "The inventory after the change")->required();
  diff->add_option("-f,--format", d->format, "Output: text (default), markdown or json")
      ->check(CLI::IsMember({"text", "markdown", "json"}));
  diff->add_option("--rules", d->rules_file, "Planning rules for both (default: built in)");
  diff->add_option("--catalog", d->catalog_file, "Service catalog for both (default: built in)");
  diff->add_option("--start", d->start,
                   "Plan both from DATE (default: OLD's start, else NEW's, else next Monday)")
      ->check(kIsoDate);
  diff->add_flag("--exit-code", d->exit_code, "Exit with status 1 when the plans differ");
  // `ferry assess diff A B` is the subcommand; INVENTORY stays for plain runs.
  sub.require_subcommand(0, 1);
  return [o, d, diff] {
    if (diff->parsed()) return run_diff(*d);
    if (o->inventories.empty()) {
      log_error("ferry assess: give at least one inventory (ferry assess --help)");
      return exit_status(ExitCode::kUsage);
    }
    return run_assess(*o);
  };
}

}  // namespace ferry::cli
