#include "pg/conninfo.h"

#include <libpq-fe.h>

#include <memory>

namespace ferry::pg {

namespace {

std::string conninfo_quote(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

Result<ConnInfo> parse_conninfo(const std::string& text, const std::string& what) {
  if (text.empty()) return fail(ErrorCode::kInvalidInput, what + ": empty connection string");
  char* message = nullptr;
  PQconninfoOption* raw = PQconninfoParse(text.c_str(), &message);
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(raw, PQconninfoFree);
  if (!raw) {
    std::string m = message ? message : "out of memory";
    PQfreemem(message);
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    return fail(ErrorCode::kInvalidInput,
                what + ": not a valid PostgreSQL connection string or URI: " + m);
  }
  ConnInfo info;
  info.original = text;
  for (auto* o = raw; o->keyword; ++o) {
    if (!o->val) continue;
    const std::string key = o->keyword, value = o->val;
    info.options.emplace_back(key, value);
    if (key == "user") info.user = value;
    if (key == "host" || (key == "hostaddr" && info.host.empty())) info.host = value;
    if (key == "port") info.port = value;
    if (key == "dbname") info.dbname = value;
    if (key == "password") info.has_password = !value.empty();
  }
  return info;
}

std::string ConnInfo::redacted() const {
  std::string out = "postgres://";
  if (!user.empty()) out += user + (has_password ? ":***@" : "@");
  out += host.empty() ? "localhost" : host;
  if (!port.empty()) out += ":" + port;
  out += "/" + dbname;
  return out;
}

std::string ConnInfo::without_password() const {
  std::string out;
  for (const auto& [key, value] : options) {
    if (key == "password") continue;
    if (!out.empty()) out += ' ';
    out += key + "=" + conninfo_quote(value);
  }
  return out;
}

std::string ConnInfo::password() const {
  for (const auto& [key, value] : options)
    if (key == "password") return value;
  return {};
}

}  // namespace ferry::pg
