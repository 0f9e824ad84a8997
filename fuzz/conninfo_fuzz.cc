// libFuzzer target: connection strings (--source, --target) on arbitrary
// bytes. A malformed one must become an error, never a crash, and what ferry
// prints or hands to pg_dump must never carry a password.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "pg/conninfo.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto info = ferry::pg::parse_conninfo(text, "--source");
  if (!info) return 0;
  // What goes on pg_dump's command line parses back to the same settings
  // minus the password.
  const std::string command_line = info->without_password();
  if (command_line.empty()) return 0;  // nothing but a password: libpq's defaults
  auto again = ferry::pg::parse_conninfo(command_line, "--source");
  if (!again || again->has_password || again->host != info->host || again->dbname != info->dbname ||
      again->user != info->user)
    std::abort();
  if (info->has_password && info->redacted().find(":***@") == std::string::npos) std::abort();
  return 0;
}
