#include "proxy/listen_socket.h"

#include <fmt/format.h>
#include <sys/socket.h>

namespace ferry::proxy {

Result<void> open_listener(boost::asio::ip::tcp::acceptor& acceptor, const HostPort& address,
                           const char* any_host, const char* what, bool reuse_port) {
  using tcp = boost::asio::ip::tcp;
  boost::system::error_code ec;
  const auto ip = boost::asio::ip::make_address(address.host.empty() ? any_host : address.host, ec);
  if (ec) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("{}: '{}' is not an IP address", what, address.text));
  }
  const tcp::endpoint endpoint(ip, address.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec && reuse_port) {
    const int one = 1;
    if (setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
      ec = boost::system::error_code(errno, boost::system::system_category());
    }
  }
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec)
    return fail(ErrorCode::kIo, fmt::format("{} on {}: {}", what, address.text, ec.message()));
  return {};
}

}  // namespace ferry::proxy
