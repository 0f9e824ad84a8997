// Opening a listening socket, shared by the workers and the admin API.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include "core/error.h"
#include "proxy/proxy_config.h"

namespace ferry::proxy {

// Opens `acceptor` on `address`; an empty host means `any_host`. `what` names
// the setting in messages ("listen", "admin.listen"). With `reuse_port`
// several acceptors (one per worker) share the address and the kernel
// spreads new connections over them.
Result<void> open_listener(boost::asio::ip::tcp::acceptor& acceptor, const HostPort& address,
                           const char* any_host, const char* what, bool reuse_port);

}  // namespace ferry::proxy
