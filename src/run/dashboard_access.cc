#include "run/dashboard_access.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <array>

#include "core/text.h"

namespace ferry::run {

namespace {

// "host:port", "[v6]:port", "host" or "[v6]" -> the host alone.
std::string_view host_of(std::string_view authority) {
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    return close == std::string_view::npos ? authority : authority.substr(1, close - 1);
  }
  const size_t colon = authority.find(':');
  // More than one colon is a bare IPv6 address, not host:port.
  if (colon != std::string_view::npos && authority.find(':', colon + 1) == std::string_view::npos) {
    return authority.substr(0, colon);
  }
  return authority;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decoded(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0 &&
               hex_digit(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

bool is_loopback_address(std::string_view ip) {
  const std::string text(ip);
  std::array<unsigned char, 16> raw{};
  if (inet_pton(AF_INET, text.c_str(), raw.data()) == 1) return raw[0] == 127;
  if (inet_pton(AF_INET6, text.c_str(), raw.data()) != 1) return false;
  constexpr std::array<unsigned char, 16> kLoopback{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  if (raw == kLoopback) return true;
  // ::ffff:127.x.y.z, an IPv4 loopback address written as IPv6.
  for (size_t i = 0; i < 10; ++i) {
    if (raw[i] != 0) return false;
  }
  return raw[10] == 0xff && raw[11] == 0xff && raw[12] == 127;
}

bool is_loopback_host(std::string_view host_header) {
  const std::string_view host = host_of(trim(host_header));
  return to_lower(host) == "localhost" || is_loopback_address(host);
}

Result<void> check_listen_access(std::string_view listen, bool loopback, std::string_view token) {
  if (loopback || !token.empty()) return {};
  return fail(ErrorCode::kInvalidInput,
              fmt::format("dashboard address {}: not a loopback address, so a token is "
                          "required: anyone who reaches the dashboard could approve or abort the "
                          "run (give one in a file with --token-file, or listen on 127.0.0.1 "
                          "and reach it through an SSH tunnel)",
                          listen));
}

AccessDecision decide_access(const DashboardRequest& r, std::string_view token) {
  if (r.method == "GET" && r.path == "/") return {};  // the page: no data, no secrets
  if (!token.empty()) {
    constexpr std::string_view kBearer = "Bearer ";
    const bool by_header = r.authorization.starts_with(kBearer) &&
                           same_secret(r.authorization.substr(kBearer.size()), token);
    const bool by_query =
        r.method == "GET" && same_secret(query_parameter(r.query, "token"), token);
    if (!by_header && !by_query) {
      return {401,
              "missing or wrong token: send Authorization: Bearer TOKEN (or ?token=TOKEN on a "
              "GET)"};
    }
  } else if (!is_loopback_host(r.host)) {
    return {403, fmt::format("Host '{}' is not a loopback address; a dashboard without a token "
                             "answers only requests addressed to 127.0.0.1 or localhost",
                             r.host)};
  }
  if (r.method == "POST") {
    if (trim(r.x_ferry) != "1") {
      return {403, "a command needs the header X-Ferry: 1 (the dashboard's page sends it)"};
    }
    if (!r.origin.empty() && r.origin != "http://" + std::string(r.host) &&
        r.origin != "https://" + std::string(r.host)) {
      return {403, fmt::format("Origin '{}' is not this dashboard's ({})", r.origin, r.host)};
    }
  }
  return {};
}

std::string query_parameter(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return eq == std::string_view::npos ? "" : percent_decoded(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return "";
}

}  // namespace ferry::run
