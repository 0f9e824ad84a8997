// Connection strings as users give them: postgres:// URIs or key=value
// conninfo. Parsed by libpq itself (so every form libpq accepts works), checked
// once up front, and shown to humans only with the password masked.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace ferry::pg {

struct ConnInfo {
  std::string original;  // as given; contains the password, never print it
  std::string user, host, port, dbname;
  bool has_password = false;
  // Every keyword libpq parsed, with its value (password included).
  std::vector<std::pair<std::string, std::string>> options;

  // "postgres://app:***@db1:5432/shop": safe for logs, errors and reports.
  std::string redacted() const;
  // Key=value conninfo without the password, for child programs' command
  // lines; the password travels separately in PGPASSWORD.
  std::string without_password() const;
  std::string password() const;
};

// Fails with kInvalidInput naming `what` ("--source") and libpq's complaint,
// never echoing the string itself (it may hold a password).
Result<ConnInfo> parse_conninfo(const std::string& text, const std::string& what);

}  // namespace ferry::pg
