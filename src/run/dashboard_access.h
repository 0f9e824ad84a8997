// Who may see and drive a run's live dashboard (dashboard_server.h): pure
// decisions, tested without sockets in dashboard_access_test.cc.
//
//  - A dashboard that listens beyond loopback needs a token: anyone who
//    reaches it could otherwise approve or abort a migration.
//  - With a token, every request for data or an action carries it:
//    "Authorization: Bearer TOKEN", or `?token=TOKEN` on a GET (an
//    EventSource cannot set headers). The page itself (GET /) holds neither
//    data nor secrets and is served to anyone; it asks for the token.
//  - Without a token (loopback only) the Host header must name a loopback
//    address, so that a web page elsewhere that points its own name at
//    127.0.0.1 (DNS rebinding) cannot read the run or drive it.
//  - A POST (approve, pause, resume, abort) needs "X-Ferry: 1", which a
//    form on another site cannot send and a script on another site cannot
//    send without a CORS preflight this server never grants; an Origin
//    header, when the browser sends one, must be the dashboard's own.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace ferry::run {

// An IP address literal in 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104.
bool is_loopback_address(std::string_view ip);
// A Host header's host (port and IPv6 brackets removed) that names this
// machine: "localhost" or a loopback address.
bool is_loopback_host(std::string_view host_header);

// Refuses to listen beyond loopback without a token. `listen` is the
// address as given (for the message); `loopback` whether every address it
// resolved to is a loopback one.
Result<void> check_listen_access(std::string_view listen, bool loopback, std::string_view token);

// What the access decision reads of a request.
struct DashboardRequest {
  std::string_view method;                                // "GET", "POST"
  std::string_view path;                                  // without the query
  std::string_view query;                                 // after '?', "" when none
  std::string_view authorization, host, origin, x_ferry;  // headers; "" when absent
};

struct AccessDecision {
  int status = 200;     // 200 allowed; 401 no or wrong token; 403 refused
  std::string message;  // why it was refused, for the JSON answer
  bool allowed() const { return status == 200; }
};

AccessDecision decide_access(const DashboardRequest& request, std::string_view token);

// One parameter of a query string, percent-decoded ("" when absent).
std::string query_parameter(std::string_view query, std::string_view name);

}  // namespace ferry::run
