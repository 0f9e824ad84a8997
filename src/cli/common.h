// What subcommands share: --source/--target for the `ferry db` family, parsing
// them with the password kept out of every message, and printing an error once.
#pragma once

#include <span>
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

// Logs the error (with its context chain) and returns its exit status. With
// `format` "json" it is also printed on stdout, where a script reading the
// command's JSON looks: {"ok": false, "error": {kind, exit_status, message,
// sqlstate, problems: [{file, line, column, field, message}]}}; problems lists
// what validation found in an input file, and is empty for other errors.
int report_error(const Error& error, const std::string& format = "text");
// Several errors of one run (ferry assess checks every input before it
// fails): each is logged, the exit status is the highest of theirs, and the
// JSON is one document: the kind and SQLSTATE of that worst error, every
// message (one per line) and every problem.
int report_errors(std::span<const Error> errors, const std::string& format = "text");

// Slot and publication names: lower-case letters, digits and underscores, 40
// bytes at most (PostgreSQL allows 63; a resumed clone adds "_resume_PID" and
// the reverse stream "_reverse"). Logs the problem and returns false.
bool is_plain_name(const std::string& name, const std::string& option);

// "1GB", "256MB", "64kB", "1048576" -> bytes.
Result<int64_t> parse_size(const std::string& text, const std::string& option);

// An option taking a duration, as the proxy config does: "500ms", "5s",
// "10m", "1h"; a bare number is seconds. Between `min_seconds` and a day; a
// bad value is a usage error naming the flag. The help shows the current value.
void add_duration_option(CLI::App& sub, const std::string& name, double& seconds,
                         const std::string& description, double min_seconds = 0);
void add_duration_option(CLI::App& sub, const std::string& name, int& seconds,
                         const std::string& description, int min_seconds = 0);
// An option taking a size: "64MiB", "512MB", "1GB", "1048576" (bytes).
void add_size_option(CLI::App& sub, const std::string& name, int64_t& bytes,
                     const std::string& description);
// "90s", "2m", "500ms": how a duration is shown back.
std::string duration_text(double seconds);

}  // namespace ferry::cli
