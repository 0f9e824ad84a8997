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

// Any answer, whatever its status, is a reply; an error (kIo) means no
// answer came: the address did not resolve, nobody listens there, the
// connection broke, or `timeout_ms` passed. The message names the address.
Result<AdminReply> call_admin_api(const HostPort& address, const AdminRequest& request,
                                  int64_t timeout_ms = 10'000);

}  // namespace ferry::proxy
