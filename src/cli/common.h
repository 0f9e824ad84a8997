// What subcommands share: --source/--target for the `ferry db` family, parsing
// them with the password kept out of every message, and printing an error once.
#pragma once

#include <string>

#include "core/error.h"
#include "pg/conninfo.h"

namespace CLI {
class App;
}

namespace ferry::cli {

struct Endpoints {
  std::string source, target;
};

void add_endpoint_options(CLI::App& sub, Endpoints& e);

// Both connection strings, each checked; both problems reported at once.
Result<std::pair<pg::ConnInfo, pg::ConnInfo>> parse_endpoints(const Endpoints& e);

// Logs the error (with its context chain) and returns its exit status.
int report_error(const Error& error);

// "1GB", "256MB", "64kB", "1048576" -> bytes.
Result<int64_t> parse_size(const std::string& text, const std::string& option);

}  // namespace ferry::cli
