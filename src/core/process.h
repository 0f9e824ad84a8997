// Running helper programs (pg_dump, pg_restore) and collecting what they print.
// A child is killed when ferry dies, so a kill -9 of ferry never leaves a
// restore running behind the back of the next `--resume`.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace ferry {

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0] is looked up on PATH
  // Added to the inherited environment (e.g. PGPASSWORD, which must never
  // appear on a command line where `ps` would show it).
  std::vector<std::pair<std::string, std::string>> env;
};

struct ProcessOutput {
  int exit_status = -1;  // -1 when killed by a signal
  std::string out;
  std::string err;
};

// Runs to completion. Fails only when the program could not be started;
// a non-zero exit is reported in ProcessOutput for the caller to judge.
Result<ProcessOutput> run_process(const ProcessSpec& spec);

// The last `max_lines` non-empty lines of a program's stderr, for error messages.
std::string tail_lines(const std::string& text, size_t max_lines);

}  // namespace ferry
