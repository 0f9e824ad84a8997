#include "proxy/listen_socket.h"

#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <cerrno>
#include <cstring>

namespace ferry::proxy {

Result<ListenSocket> open_listener(const HostPort& address, const char* any_host, const char* what,
                                   bool reuse_port) {
  using tcp = boost::asio::ip::tcp;
  boost::system::error_code ec;
  const auto ip = boost::asio::ip::make_address(address.host.empty() ? any_host : address.host, ec);
  if (ec) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("{}: '{}' is not an IP address", what, address.text));
  }
  const tcp::endpoint endpoint(ip, address.port);
  ListenSocket s{UniqueFd(::socket(endpoint.data()->sa_family,
                                   SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP)),
                 ip.is_v6()};
  const int one = 1;
  const bool ok =
      s.fd.get() >= 0 && setsockopt(s.fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
      (!reuse_port || setsockopt(s.fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == 0) &&
      ::bind(s.fd.get(), endpoint.data(), static_cast<socklen_t>(endpoint.size())) == 0 &&
      ::listen(s.fd.get(), SOMAXCONN) == 0;
  if (!ok) {
    return fail(ErrorCode::kIo,
                fmt::format("{} on {}: {}", what, address.text, std::strerror(errno)));
  }
  return s;
}

}  // namespace ferry::proxy
