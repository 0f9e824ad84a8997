#include "cli/common.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cmath>
#include <functional>
#include <iostream>

#include "core/exit_codes.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/text.h"

namespace ferry::cli {

void add_endpoint_options(CLI::App& sub, Endpoints& e) {
  // From the environment too, so that a password need not be on a command
  // line (where `ps` shows it): systemd units and the reverse follow use that.
  sub.add_option("--source", e.source,
                 "Source database: postgres://user:pass@host:port/db or key=value conninfo")
      ->envname("FERRY_SOURCE")
      ->required();
  sub.add_option("--target", e.target, "Target database, same forms as --source")
      ->envname("FERRY_TARGET")
      ->required();
}

Result<std::pair<pg::ConnInfo, pg::ConnInfo>> parse_endpoints(const Endpoints& e) {
  auto source = pg::parse_conninfo(e.source, "--source");
  auto target = pg::parse_conninfo(e.target, "--target");
  if (source && target) return std::make_pair(*source, *target);
  if (!source && !target) {
    Error both = source.error();
    both.message += "; " + target.error().message;
    return tl::unexpected(both);
  }
  return tl::unexpected(source ? target.error() : source.error());
}

int report_error(const Error& error, const std::string& format) {
  return report_errors(std::span<const Error>(&error, 1), format);
}

int report_errors(std::span<const Error> errors, const std::string& format) {
  int status = 0;
  const Error* worst = nullptr;
  for (const auto& error : errors) {
    log_error(error.to_string());
    if (const int s = exit_status(exit_code_for(error.code)); s > status) {
      status = s;
      worst = &error;
    }
  }
  if (format != "json" || !worst) return status;
  constexpr const char* kKinds[] = {"invalid_input", "io", "database", "internal"};
  std::vector<std::string> messages;
  for (const auto& error : errors) messages.push_back(error.to_string());
  JsonWriter w;
  w.begin_object()
      .field("ok", false)
      .key("error")
      .begin_object()
      .field("kind", kKinds[static_cast<int>(worst->code)])
      .field("exit_status", int64_t{status})
      .field("message", join(messages, "\n"))
      .field("sqlstate", worst->sqlstate)
      .key("problems")
      .begin_array();
  for (const auto& error : errors) {
    for (const auto& p : error.problems) {
      w.begin_object()
          .field("file", p.file)
          .field("line", p.line)
          .field("column", p.column)
          .field("field", p.field)
          .field("message", p.message)
          .end_object();
    }
  }
  w.end_array().end_object().end_object();
  std::cout << w.take() << '\n';
  return status;
}

bool is_plain_name(const std::string& name, const std::string& option) {
  const bool plain =
      !name.empty() && name.size() <= 40 &&
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos;
  if (!plain)
    log_error(option + ": '" + name +
              "' must be 1 to 40 lower-case letters, digits or underscores");
  return plain;
}

std::string duration_text(double seconds) {
  const auto ms = static_cast<int64_t>(seconds * 1000 + 0.5);
  return ms == 0 ? "0s" : ferry::duration_text(ms);
}

namespace {

double duration_value(const std::string& name, const std::string& text, double min_seconds) {
  const auto ms = parse_duration_ms(text);
  if (!ms)
    throw CLI::ValidationError(name, "'" + text +
                                         "' is not a duration (e.g. 500ms, 5s, 10m, 1h; a bare "
                                         "number is seconds)");
  const double seconds = static_cast<double>(*ms) / 1000.0;
  // A day bounds every wait ferry has, and keeps milliseconds within an int.
  constexpr double kDay = 86400;
  if (seconds > kDay)
    throw CLI::ValidationError(name, "'" + text + "' is longer than the most allowed, 24h");
  if (seconds < min_seconds)
    throw CLI::ValidationError(
        name, "'" + text + "' is shorter than the least allowed, " + duration_text(min_seconds));
  return seconds;
}

// `store` keeps the value in the option's own type.
void add_duration(CLI::App& sub, const std::string& name, double shown,
                  const std::string& description, double min_seconds,
                  std::function<void(double)> store) {
  sub.add_option_function<std::string>(
         name,
         [store = std::move(store), name, min_seconds](const std::string& text) {
           store(duration_value(name, text, min_seconds));
         },
         description)
      ->type_name("DURATION")
      ->default_str(duration_text(shown));
}

}  // namespace

void add_duration_option(CLI::App& sub, const std::string& name, double& seconds,
                         const std::string& description, double min_seconds) {
  add_duration(sub, name, seconds, description, min_seconds, [&seconds](double v) { seconds = v; });
}

void add_duration_option(CLI::App& sub, const std::string& name, int& seconds,
                         const std::string& description, int min_seconds) {
  // Whole seconds: a part of one counts as one more.
  add_duration(sub, name, seconds, description, min_seconds,
               [&seconds](double v) { seconds = static_cast<int>(std::ceil(v)); });
}

void add_size_option(CLI::App& sub, const std::string& name, int64_t& bytes,
                     const std::string& description) {
  sub.add_option_function<std::string>(
         name,
         [&bytes, name](const std::string& text) {
           const auto parsed = parse_byte_size(text);
           if (!parsed || *parsed <= 0)
             throw CLI::ValidationError(
                 name, "'" + text + "' is not a size (e.g. 64MiB, 512MB, 2GB, 1048576)");
           bytes = *parsed;
         },
         description)
      ->type_name("SIZE")
      ->default_str(fmt::format("{}MiB", bytes >> 20));
}

Result<int64_t> parse_size(const std::string& text, const std::string& option) {
  const auto bytes = parse_byte_size(text);
  if (!bytes)
    return fail(ErrorCode::kInvalidInput,
                option + ": '" + text + "' is not a size (examples: 512MB, 2GB, 1048576)");
  return *bytes;
}

}  // namespace ferry::cli
