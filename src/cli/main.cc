// ferry: move running workloads between platforms with a way back at every step.
#include <CLI/CLI.hpp>
#include <array>
#include <iostream>

#include "cli/commands.h"
#include "cli/parse_errors.h"
#include "core/exit_codes.h"
#include "core/log.h"

namespace ferry::cli {
namespace {

constexpr std::array kCommands{
    Command{"assess", "Plan the migration of an estate: strategy, waves, data moves, risks",
            install_assess},
    Command{"db", "Move a PostgreSQL database: check, clone, follow, verify, cut over, roll back",
            install_db},
    Command{"proxy", "Move HTTP traffic: strangler-fig routes, sticky canary splits, blue/green",
            install_proxy},
    Command{"run",
            "Run a migration plan that moves data and traffic together (or check it: --dry-run)",
            install_run},
};

constexpr const char* kFooter = R"(
Exit status: 0 ok, 1 checks did not pass, 2 usage error, 3 invalid input,
4 file could not be read or written (or a proxy's admin API reached), 5 database
unreachable or refused, 70 internal error.
Run 'ferry COMMAND --help' for a command's options. Docs: README.md and docs/.)";

// A command's help (and so its man page) lists only its own options; the
// ones every command takes are named at its end.
void name_global_options(CLI::App& app) {
  app.footer(app.get_footer() +
             "\n\nEvery command also takes -v (debug detail), -q (warnings and errors only) "
             "and --log-format text|json (log lines on stderr; json: one object per line).");
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
    name_global_options(*sub);
}

}  // namespace
}  // namespace ferry::cli

int main(int argc, char** argv) {
  using namespace ferry;
  using namespace ferry::cli;
  CLI::App app{
      "ferry moves running workloads between platforms with no downtime and a way back at every "
      "step.",
      "ferry"};
  app.set_version_flag("--version", std::string("ferry ") + FERRY_VERSION);
  app.footer(kFooter);
  // Set before the subcommands are added, which inherit them: -v and -q are
  // accepted after any subcommand, and mistakes read like ferry's errors.
  app.fallthrough();
  app.failure_message(describe_parse_error);
  app.require_subcommand(0, 1);
  bool verbose = false, quiet = false;
  app.add_flag("-v,--verbose", verbose, "Log debug detail to stderr");
  app.add_flag("-q,--quiet", quiet, "Log only warnings and errors");
  std::string log_format = "text";
  app.add_option("--log-format", log_format,
                 "Log lines on stderr: text (default) or json (one object per line)")
      ->check(CLI::IsMember({"text", "json"}));

  std::vector<std::pair<CLI::App*, Runner>> runners;
  for (const auto& command : kCommands) {
    CLI::App* sub = app.add_subcommand(command.name, command.summary);
    runners.emplace_back(sub, command.install(*sub));
    name_global_options(*sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : exit_status(ExitCode::kUsage);
  }
  init_logging(verbose ? LogLevel::kDebug
               : quiet ? LogLevel::kWarn
                       : LogLevel::kInfo,
               log_format == "json" ? LogFormat::kJson : LogFormat::kText);
  // Read by the parser; no child process inherits them (a --then hook, a
  // reverse follow, pg_dump): connection strings and tokens are secrets.
  for (const char* secret :
       {"FERRY_SOURCE", "FERRY_TARGET", "FERRY_METRICS_ADDR", "FERRY_ADMIN_TOKEN"})
    unsetenv(secret);
  // The one adapter for exceptions that escape libraries: they are bugs or
  // exhaustion, never expected failures (those are Result values).
  try {
    for (auto& [sub, run] : runners) {
      if (sub->parsed()) return run();
    }
  } catch (const std::bad_alloc&) {
    log_error("out of memory");
    return exit_status(ExitCode::kInternal);
  } catch (const std::exception& e) {
    log_error(std::string("internal error (a bug in ferry; please report it): ") + e.what());
    return exit_status(ExitCode::kInternal);
  }
  std::cout << app.help();
  return exit_status(ExitCode::kUsage);
}
