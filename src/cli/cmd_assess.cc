// ferry assess: read inventories, decide, schedule, render the plan.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <memory>

#include "assess/importers.h"
#include "assess/plan.h"
#include "assess/report.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "core/exit_codes.h"
#include "core/files.h"
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
  for (const auto& input : inputs) {
    if (!o.out.empty() && o.out != "-" && std::filesystem::equivalent(o.out, input, ec)) {
      log_error(fmt::format("--out {} is one of the inputs; refusing to overwrite it", o.out));
      return exit_status(ExitCode::kUsage);
    }
  }
  const std::string rules_name = o.rules_file.empty() ? "data/rules.yaml (built in)" : o.rules_file;
  const std::string catalog_name =
      o.catalog_file.empty() ? "data/catalog.yaml (built in)" : o.catalog_file;

  StepTimer timer;
  // 1. Rules, catalog and inventories; every problem in every input is
  //    collected before failing.
  std::vector<Error> errors;
  auto rules_text = read_source(o.rules_file, builtin_rules_text());
  Result<RuleSet> rules = rules_text ? RuleSet::parse(*rules_text, rules_name)
                                     : Result<RuleSet>(tl::unexpected(rules_text.error()));
  if (!rules) errors.push_back(rules.error());
  auto catalog_text = read_source(o.catalog_file, builtin_catalog_text());
  Result<Catalog> catalog = catalog_text ? Catalog::parse(*catalog_text, catalog_name)
                                         : Result<Catalog>(tl::unexpected(catalog_text.error()));
  if (!catalog) errors.push_back(catalog.error());
  timer.lap("rules and catalog");
  Diagnostics warnings;
  Result<Estate> estate = load_estate(o.inventories, warnings);
  if (!estate) errors.push_back(estate.error());
  timer.lap("inventories");
  if (!errors.empty()) return report_errors(errors, o.format);
  std::vector<std::string> warning_lines;
  for (const auto& d : warnings.all())
    warning_lines.push_back(d.where.to_string() + ": " + d.message);

  // 2. Decide and schedule.
  Plan plan = build_plan(*estate, *rules, *catalog, warning_lines);
  plan.rules_source = rules_name;
  plan.catalog_source = catalog_name;
  timer.lap("plan");
  // 3. Render and write.
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
  return status;
}

}  // namespace

Runner install_assess(CLI::App& sub) {
  auto o = std::make_shared<AssessOptions>();
  // The one-line summary stays in `ferry --help`; the full text ends `ferry assess --help`.
  sub.footer(kDescription);
  sub.add_option("INVENTORY", o->inventories, "Inventory files (YAML, JSON or CSV)")->required();
  // Shown as TEXT:{...} in the help, where completion finds the values.
  const CLI::Validator formats(
      [](std::string& name) -> std::string {
        return assess::parse_report_format(name)
                   ? ""
                   : "unknown format '" + name + "'; expected text, table, markdown, json or html";
      },
      "{text,table,markdown,json,html}");
  sub.add_option("-f,--format", o->format,
                 "Output: text (default, a table; 'table' is the same), markdown, json or html")
      ->capture_default_str()
      ->check(formats);
  sub.add_option("-o,--out", o->out,
                 "Write the plan to FILE (atomically) instead of stdout ('-': stdout)");
  sub.add_option("--rules", o->rules_file,
                 "Planning rules to use instead of the built-in data/rules.yaml");
  sub.add_option("--catalog", o->catalog_file,
                 "Service catalog to use instead of the built-in data/catalog.yaml");
  return [o] { return run_assess(*o); };
}

}  // namespace ferry::cli
