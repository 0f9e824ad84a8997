// Opening a listening socket, shared by the workers and the admin API.
#pragma once

#include "core/error.h"
#include "proxy/proxy_config.h"
#include "proxy/unique_fd.h"

namespace ferry::proxy {

struct ListenSocket {
  UniqueFd fd;  // non-blocking
  bool ipv6 = false;
};

// Opens a listening socket on `address`; an empty host means `any_host`.
// `what` names the setting in messages ("listen", "admin.listen"). With
// `reuse_port` several sockets (one per worker) share the address and the
// kernel spreads new connections over them.
Result<ListenSocket> open_listener(const HostPort& address, const char* any_host, const char* what,
                                   bool reuse_port);

}  // namespace ferry::proxy
