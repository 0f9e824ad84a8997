#include "proxy/message_rewrite.h"

#include <gtest/gtest.h>

#include <string>

namespace ferry::proxy {
namespace {

// The upstream head for a request text (which must outlive nothing here: the
// result is a copy).
std::string upstream_head(const std::string& text, std::string_view client_ip = "10.1.2.3") {
  RequestHead head;
  const ParseResult r = parse_request_head(text, HeadLimits{}, head);
  EXPECT_EQ(r.state, ParseState::kComplete) << r.reason;
  std::string out;
  build_upstream_request(head, {client_ip, "127.0.0.1:9"}, out);
  return out;
}

std::string client_head(const std::string& text, int client_minor, bool close_client) {
  ResponseHead head;
  const ParseResult r = parse_response_head(text, HeadLimits{}, false, head);
  EXPECT_EQ(r.state, ParseState::kComplete) << r.reason;
  std::string out;
  build_client_response(head, client_minor, close_client, out);
  return out;
}

TEST(UpstreamRequest, DropsEveryHopByHopHeaderAndThoseConnectionNames) {
  const std::string out = upstream_head(
      "GET /a?b=1 HTTP/1.1\r\nHost: shop.example\r\nConnection: keep-alive, X-Secret\r\n"
      "Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\n"
      "Upgrade: h2c\r\nProxy-Authorization: Basic eA==\r\nX-Secret: 1\r\n"
      "Trailer: X-Sum\r\nX-Kept: yes\r\n\r\n");
  EXPECT_EQ(out,
            "GET /a?b=1 HTTP/1.1\r\nHost: shop.example\r\nTrailer: X-Sum\r\nX-Kept: yes\r\n"
            "X-Forwarded-For: 10.1.2.3\r\nX-Forwarded-Proto: http\r\n\r\n");
}

TEST(UpstreamRequest, ExtendsEveryForwardedForInOrderAndReplacesProto) {
  const std::string out = upstream_head(
      "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.1.1.1, 2.2.2.2\r\n"
      "X-Forwarded-Proto: https\r\nX-Forwarded-For: 3.3.3.3\r\nX-Forwarded-For: 4.4.4.4\r\n\r\n");
  EXPECT_NE(out.find("\r\nX-Forwarded-For: 1.1.1.1, 2.2.2.2, 3.3.3.3, 4.4.4.4, 10.1.2.3\r\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("X-Forwarded-For", out.find("X-Forwarded-For") + 1), std::string::npos);
  EXPECT_NE(out.find("\r\nX-Forwarded-Proto: http\r\n"), std::string::npos);
  EXPECT_EQ(out.find("https"), std::string::npos);
}

TEST(UpstreamRequest, AbsoluteFormBecomesOriginFormWithItsAuthorityAsHost) {
  EXPECT_EQ(upstream_head("GET http://api.example/x?y=2 HTTP/1.1\r\nHost: other\r\n\r\n"),
            "GET /x?y=2 HTTP/1.1\r\nHost: api.example\r\nX-Forwarded-For: 10.1.2.3\r\n"
            "X-Forwarded-Proto: http\r\n\r\n");
}

TEST(UpstreamRequest, Http10ClientsAskForHttp10AndClose) {
  EXPECT_EQ(upstream_head("GET / HTTP/1.0\r\n\r\n"),
            "GET / HTTP/1.0\r\nHost: 127.0.0.1:9\r\nX-Forwarded-For: 10.1.2.3\r\n"
            "X-Forwarded-Proto: http\r\nConnection: close\r\n\r\n");
}

TEST(UpstreamRequest, AnUpgradeKeepsConnectionAndUpgrade) {
  const std::string out = upstream_head(
      "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Key: k\r\n\r\n");
  EXPECT_NE(out.find("\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("\r\nSec-WebSocket-Key: k\r\n"), std::string::npos);
}

TEST(ClientResponse, DropsHopByHopHeadersAndSaysWhenItCloses) {
  const std::string upstream =
      "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Internal\r\nKeep-Alive: timeout=5\r\n"
      "X-Internal: 1\r\nProxy-Authenticate: Basic\r\nTransfer-Encoding: chunked\r\n"
      "Trailer: X-Sum\r\nX-Kept: yes\r\n\r\n";
  EXPECT_EQ(
      client_head(upstream, 1, false),
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\nX-Kept: yes\r\n\r\n");
  EXPECT_EQ(client_head(upstream, 1, true),
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\nX-Kept: yes\r\n"
            "Connection: close\r\n\r\n");
}

TEST(ClientResponse, Http10ClientsKeptAliveAreToldSo) {
  EXPECT_EQ(client_head("HTTP/1.1 204 No Content\r\n\r\n", 0, false),
            "HTTP/1.0 204 No Content\r\nConnection: keep-alive\r\n\r\n");
}

TEST(ErrorResponse, HeadRequestsGetTheHeadOnly) {
  std::string get, head;
  build_error_response(502, "upstream reset", true, false, get);
  build_error_response(502, "upstream reset", true, true, head);
  EXPECT_EQ(
      get,
      "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: 32\r\n"
      "Cache-Control: no-store\r\nConnection: close\r\n\r\n502 Bad Gateway: upstream reset\n");
  EXPECT_EQ(get.substr(0, head.size()), head);
  EXPECT_EQ(head.size(), get.find("\r\n\r\n") + 4);
}

}  // namespace
}  // namespace ferry::proxy
