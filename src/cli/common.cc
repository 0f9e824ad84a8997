#include "cli/common.h"

#include <CLI/CLI.hpp>
#include <cctype>

#include "core/exit_codes.h"
#include "core/log.h"
#include "core/text.h"

namespace ferry::cli {

void add_endpoint_options(CLI::App& sub, Endpoints& e) {
  sub.add_option("--source", e.source,
                 "Source database: postgres://user:pass@host:port/db or key=value conninfo")
      ->required();
  sub.add_option("--target", e.target, "Target database, same forms as --source")->required();
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

int report_error(const Error& error) {
  log_error(error.to_string());
  return exit_status(exit_code_for(error.code));
}

bool is_plain_name(const std::string& name, const std::string& option) {
  const bool plain =
      !name.empty() && name.size() <= 40 &&
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos;
  if (!plain)
    log_error(option + ": '" + name + "' must be 1 to 40 lower-case letters, digits or underscores");
  return plain;
}

Result<int64_t> parse_size(const std::string& text, const std::string& option) {
  const auto bytes = parse_byte_size(text);
  if (!bytes)
    return fail(ErrorCode::kInvalidInput,
                option + ": '" + text + "' is not a size (examples: 512MB, 2GB, 1048576)");
  return *bytes;
}

}  // namespace ferry::cli
