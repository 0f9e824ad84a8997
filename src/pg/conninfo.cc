#include "pg/conninfo.h"

#include <libpq-fe.h>

#include <memory>
#include <vector>

#include "core/text.h"

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

// What looks like the password in a string libpq could not parse: the URI's
// user-info after the first ':', or a password= value.
std::string apparent_password(const std::string& text) {
  const auto scheme = text.find("://");
  if (scheme != std::string::npos) {
    const auto start = scheme + 3;
    const auto at = text.rfind('@', text.find('/', start));
    if (at == std::string::npos || at < start) return {};
    const auto colon = text.find(':', start);
    return colon != std::string::npos && colon < at ? text.substr(colon + 1, at - colon - 1) : "";
  }
  const auto key = text.find("password");
  if (key == std::string::npos) return {};
  auto value = text.find('=', key);
  if (value == std::string::npos) return {};
  ++value;
  while (value < text.size() && text[value] == ' ') ++value;
  if (value < text.size() && text[value] == '\'') {
    const auto end = text.find('\'', value + 1);
    return text.substr(value + 1, end == std::string::npos ? std::string::npos : end - value - 1);
  }
  return text.substr(value, text.find(' ', value) - value);
}

// libpq's complaint about a malformed string quotes the offending part, which
// may be the password: mask every trace of it.
std::string without_secret(std::string message, const std::string& text) {
  const std::string secret = apparent_password(text);
  if (secret.empty()) return message;
  if (secret.size() < 4 && message.find(secret) != std::string::npos)
    return "the details are withheld because they would show the password";
  for (size_t at; (at = message.find(secret)) != std::string::npos;)
    message.replace(at, secret.size(), "***");
  return message;
}

// What the user probably meant, for the usual slips: a misspelt scheme, or
// an option libpq does not know.
std::string hint_for(const std::string& text, const std::string& message) {
  const auto scheme_end = text.find("://");
  // A URI's scheme comes first; "://" inside a key=value setting is no scheme.
  if (scheme_end != std::string::npos && text.find_first_of("= ") > scheme_end) {
    const std::string scheme = text.substr(0, scheme_end);
    if (scheme != "postgres" && scheme != "postgresql") {
      const std::vector<std::string> schemes{"postgres", "postgresql"};
      const auto guess = did_you_mean(scheme, schemes);
      return "; the scheme must be postgres:// or postgresql://" +
             (guess ? " (did you mean " + *guess + "://?)" : std::string());
    }
  }
  // libpq quotes the option it did not know: invalid URI query parameter: "sslmod".
  if (message.find("invalid URI query parameter") == std::string::npos &&
      message.find("invalid connection option") == std::string::npos)
    return {};
  const auto open = message.find('"'), close = message.find('"', open + 1);
  if (open == std::string::npos || close == std::string::npos) return {};
  std::vector<std::string> keywords;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> defaults(PQconndefaults(),
                                                                        PQconninfoFree);
  for (auto* o = defaults.get(); o && o->keyword; ++o) keywords.emplace_back(o->keyword);
  return did_you_mean_hint(message.substr(open + 1, close - open - 1), keywords);
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
                what + ": not a valid PostgreSQL connection string or URI: " +
                    without_secret(m, text) + without_secret(hint_for(text, m), text));
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
  // A password is shown as masked even without a user name, so a reader
  // knows one was given.
  if (!user.empty() || has_password) out += user + (has_password ? ":***@" : "@");
  out += host.empty() ? "localhost" : host;
  if (!port.empty()) out += ":" + port;
  out += "/" + dbname;
  return out;
}

std::string ConnInfo::without_password() const {
  std::string out;
  for (const auto& [key, value] : options) {
    if (key == "password" || key == "sslpassword") continue;  // secrets stay off command lines
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
