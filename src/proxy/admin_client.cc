#include "proxy/admin_client.h"

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>

#include "core/files.h"
#include "core/text.h"

namespace ferry::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

Result<std::string> admin_token(const std::string& token_file, std::string_view env_token,
                                std::string_view what) {
  if (token_file.empty()) return std::string(env_token);
  auto text = with_context(read_text_file(token_file), fmt::format("{} {}", what, token_file));
  if (!text) return tl::unexpected(text.error());
  return std::string(trim(*text));
}

Result<AdminReply> call_admin_api(const HostPort& address, const AdminRequest& request,
                                  int64_t timeout_ms) {
  // Async operations under one io_context run for at most the deadline:
  // Beast's blocking calls have no timeout, and a firewalled address would
  // hold the caller for minutes.
  asio::io_context io;
  tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  beast::flat_buffer buffer;
  const std::string host = address.host.empty() ? "127.0.0.1" : address.host;
  http::request<http::string_body> out{http::string_to_verb(request.method), request.target, 11};
  out.set(http::field::host, host);
  out.set(http::field::connection, "close");
  if (!request.token.empty()) out.set(http::field::authorization, "Bearer " + request.token);
  if (!request.body.empty()) out.set(http::field::content_type, "application/json");
  out.body() = request.body;
  out.prepare_payload();  // Content-Length always: the admin API reads a body only by its length
  http::response<http::string_body> in;
  const auto deadline = std::chrono::milliseconds(timeout_ms);
  std::string failed;  // the step that failed and why
  bool done = false;
  const auto failure = [&](const char* step, const error_code& ec) {
    failed = fmt::format("{}: {}", step, ec.message());
  };
  stream.expires_after(deadline);
  resolver.async_resolve(host, std::to_string(address.port), [&](const error_code& ec, auto found) {
    if (ec) return failure("resolving", ec);
    stream.async_connect(found, [&](const error_code& ec2, const tcp::endpoint&) {
      if (ec2) return failure("connecting", ec2);
      http::async_write(stream, out, [&](const error_code& ec3, size_t) {
        if (ec3) return failure("sending", ec3);
        http::async_read(stream, buffer, in, [&](const error_code& ec4, size_t) {
          if (ec4) return failure("reading the answer", ec4);
          done = true;
        });
      });
    });
  });
  io.run_for(deadline);
  const std::string where = fmt::format("the admin API at {}", address.text);
  if (!done && failed.empty()) {
    failed = fmt::format("no answer within {} ms", timeout_ms);
  }
  if (!done) return tl::unexpected(Error{ErrorCode::kIo, failed, {}, {where}});
  return AdminReply{static_cast<int>(in.result_int()), std::move(in.body())};
}

}  // namespace ferry::proxy
