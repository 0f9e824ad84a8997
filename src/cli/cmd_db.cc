// ferry db: the data pillar's subcommands (check, clone, follow, status, verify, cutover,
// rollback).
#include <CLI/CLI.hpp>
#include <array>
#include <iostream>

#include "cli/commands.h"
#include "cli/db_commands.h"
#include "core/exit_codes.h"

namespace ferry::cli {

namespace {

constexpr std::array kDbCommands{
    Command{"check", "Preflight: everything that could stop a clone or follow, found up front",
            install_db_check},
    Command{"clone", "Copy a live database to another server at one consistent snapshot",
            install_db_clone},
    Command{"follow", "Apply the source's changes to the target continuously, exactly once",
            install_db_follow},
    Command{"status", "Lag, rates and state of a follow, as text or JSON", install_db_status},
    Command{"verify", "Prove two databases hold the same rows, sequences, schema and settings",
            install_db_verify},
    Command{"cutover", "Move writes to the target in seconds, as a timed checklist",
            install_db_cutover},
    Command{"rollback", "After cutover --reverse: move writes back to the source",
            install_db_rollback},
};

}  // namespace

Runner install_db(CLI::App& sub) {
  sub.footer(
      "\nRun 'ferry db COMMAND --help' for a command's options and exit statuses. Guide: "
      "docs/db.md.\n");
  sub.require_subcommand(0, 1);  // none: the list below; two: a mistake
  auto runners = std::make_shared<std::vector<std::pair<CLI::App*, Runner>>>();
  for (const auto& command : kDbCommands) {
    CLI::App* child = sub.add_subcommand(command.name, command.summary);
    runners->emplace_back(child, command.install(*child));
  }
  return [runners, &sub]() {
    for (auto& [child, run] : *runners)
      if (child->parsed()) return run();
    // `ferry db` alone: the list of its commands, as a usage error.
    std::cerr << sub.help();
    return exit_status(ExitCode::kUsage);
  };
}

}  // namespace ferry::cli
