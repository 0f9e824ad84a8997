// The client side of the admin API (admin_api.h): one request on its own
// connection, blocking, with one deadline for resolving, connecting,
// sending and reading. What drives a running proxy from outside it
// (`ferry proxy rollout`) goes through here, never through its internals.
#pragma once

#include <cstdint>
#include <string>

#include "core/error.h"
#include "proxy/proxy_config.h"

namespace ferry::proxy {

struct AdminRequest {
  std::string method = "GET";
  std::string target;  // "/admin/rollouts"
  std::string token;   // sent as "Authorization: Bearer TOKEN" when not empty
  std::string body;    // JSON (PUT weights, POST hold); "" for none
};

struct AdminReply {
  int status = 0;
  std::string body;
};

// The token a client sends: the content of `token_file` when one is named
// (trimmed: a file written with echo ends in a newline, never part of a
// token), else `env_token`, FERRY_ADMIN_TOKEN as the command read it while
// parsing (main() then removes it from the environment). `what` names the
// file's option in an error ("--token-file", "proxy.token_file").
Result<std::string> admin_token(const std::string& token_file, std::string_view env_token,
                                std::string_view what);

// Any answer, whatever its status, is a reply; an error (kIo) means no
// answer came: the address did not resolve, nobody listens there, the
// connection broke, or `timeout_ms` passed. The message names the address.
Result<AdminReply> call_admin_api(const HostPort& address, const AdminRequest& request,
                                  int64_t timeout_ms = 10'000);

}  // namespace ferry::proxy
