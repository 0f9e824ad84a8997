#include "proxy/http_head.h"

#include <gtest/gtest.h>

#include <string>

namespace ferry::proxy {
namespace {

// The head views `text`, which must outlive it.
ParseResult parse(const std::string& text, RequestHead& head, HeadLimits limits = {}) {
  return parse_request_head(text, limits, head);
}

int status_of(const std::string& text) {
  RequestHead head;
  const ParseResult r = parse(text, head);
  return r.state == ParseState::kInvalid ? r.status : 0;
}

TEST(RequestHead, ParsesOriginFormWithHeaders) {
  RequestHead head;
  const std::string text =
      "GET /api/users/42?tab=orders&x=1 HTTP/1.1\r\nHost: Shop.example:8080\r\n"
      "X-User-Id:  u-17 \r\nCookie: a=1; sid=abc\r\n\r\nNEXT";
  ASSERT_EQ(parse(text, head).state, ParseState::kComplete);
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.path, "/api/users/42");
  EXPECT_EQ(head.query, "tab=orders&x=1");
  EXPECT_EQ(head.host, "Shop.example:8080");
  EXPECT_EQ(head.header("x-user-id"), "u-17");
  EXPECT_EQ(head.head_bytes, text.size() - 4);
  EXPECT_EQ(head.framing.body, BodyFraming::kNone);
  EXPECT_TRUE(head.framing.keep_alive);
}

TEST(RequestHead, IncompleteUntilTheBlankLine) {
  RequestHead head;
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\n", head).state, ParseState::kIncomplete);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\n\r", head).state, ParseState::kIncomplete);
  EXPECT_EQ(parse("GET / HT", head).state, ParseState::kIncomplete);
}

TEST(RequestHead, BodyFraming) {
  RequestHead head;
  ASSERT_EQ(parse("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n", head).state,
            ParseState::kComplete);
  EXPECT_EQ(head.framing.body, BodyFraming::kContentLength);
  EXPECT_EQ(head.framing.content_length, 12u);
  ASSERT_EQ(parse("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n", head).state,
            ParseState::kComplete);
  EXPECT_EQ(head.framing.body, BodyFraming::kChunked);
}

TEST(RequestHead, KeepAliveFollowsVersionAndConnection) {
  RequestHead head;
  ASSERT_EQ(parse("GET / HTTP/1.0\r\n\r\n", head).state, ParseState::kComplete);
  EXPECT_FALSE(head.framing.keep_alive);
  ASSERT_EQ(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", head).state,
            ParseState::kComplete);
  EXPECT_TRUE(head.framing.keep_alive);
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n", head).state,
            ParseState::kComplete);
  EXPECT_FALSE(head.framing.keep_alive);
}

TEST(RequestHead, UpgradeAndExpect) {
  RequestHead head;
  ASSERT_EQ(
      parse("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            head)
          .state,
      ParseState::kComplete);
  EXPECT_TRUE(head.upgrade);
  ASSERT_EQ(
      parse("PUT /f HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-Continue\r\n\r\n", head)
          .state,
      ParseState::kComplete);
  EXPECT_TRUE(head.expect_continue);
  EXPECT_EQ(status_of("PUT /f HTTP/1.1\r\nHost: a\r\nExpect: something\r\n\r\n"), 417);
}

TEST(RequestHead, AbsoluteFormTakesTheAuthorityAsHost) {
  RequestHead head;
  const std::string text = "GET http://other.example/p?q=1 HTTP/1.1\r\nHost: a\r\n\r\n";
  ASSERT_EQ(parse(text, head).state, ParseState::kComplete);
  EXPECT_EQ(head.host, "other.example");
  EXPECT_EQ(head.path, "/p");
  EXPECT_EQ(head.query, "q=1");
}

// Every way two HTTP implementations could disagree about where a request
// ends is refused with 400 before anything is forwarded.
TEST(RequestHead, RejectsSmugglingVectors) {
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n"),
            400);
  EXPECT_EQ(
      status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"),
      400);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n"), 400);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n"), 400);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n"),
            400);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n"),
            400);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n"),
            400);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
            501);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n"), 400);
  EXPECT_EQ(status_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  folded\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\n\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n"), 0);  // \0 ends the C literal
  EXPECT_EQ(status_of(std::string("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 36)), 400);
}

TEST(RequestHead, RejectsMalformedRequestLines) {
  EXPECT_EQ(status_of("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(status_of("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
  EXPECT_EQ(status_of("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 505);
  EXPECT_EQ(status_of("GET / http/1.1\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\n\r\n"), 400);  // no Host
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(status_of("CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n"), 501);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\n: empty\r\nHost: a\r\n\r\n"), 400);
}

TEST(RequestHead, EnforcesLimits) {
  HeadLimits limits;
  limits.max_head_bytes = 1024;
  limits.max_headers = 3;
  limits.max_target_bytes = 100;
  RequestHead head;
  const std::string long_target = "GET /" + std::string(200, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n";
  EXPECT_EQ(parse(long_target, head, limits).status, 414);
  // A long target is refused before its line has even ended.
  EXPECT_EQ(parse("GET /" + std::string(200, 'a'), head, limits).status, 414);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", head, limits).status,
            431);
  const std::string big = "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(2000, 'x') + "\r\n\r\n";
  EXPECT_EQ(parse(big, head, limits).status, 431);
  EXPECT_EQ(parse(big.substr(0, 1500), head, limits).status, 431);
}

TEST(ResponseHead, FramingDependsOnStatusAndRequest) {
  ResponseHead head;
  HeadLimits limits;
  ASSERT_EQ(
      parse_response_head("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", limits, false, head)
          .state,
      ParseState::kComplete);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.reason, "OK");
  EXPECT_EQ(head.framing.body, BodyFraming::kContentLength);
  ASSERT_EQ(
      parse_response_head("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", limits, true, head).state,
      ParseState::kComplete);
  EXPECT_EQ(head.framing.body, BodyFraming::kNone);
  ASSERT_EQ(parse_response_head("HTTP/1.1 304 Not Modified\r\nContent-Length: 3\r\n\r\n", limits,
                                false, head)
                .state,
            ParseState::kComplete);
  EXPECT_EQ(head.framing.body, BodyFraming::kNone);
  ASSERT_EQ(parse_response_head("HTTP/1.1 200 OK\r\n\r\n", limits, false, head).state,
            ParseState::kComplete);
  EXPECT_EQ(head.framing.body, BodyFraming::kUntilClose);
  EXPECT_FALSE(head.framing.keep_alive);
  ASSERT_EQ(parse_response_head("HTTP/1.1 100 Continue\r\n\r\n", limits, false, head).state,
            ParseState::kComplete);
  EXPECT_TRUE(head.is_interim());
  ASSERT_EQ(parse_response_head("HTTP/1.1 204\r\n\r\n", limits, false, head).state,
            ParseState::kComplete);
  EXPECT_EQ(head.reason, "");
}

TEST(ResponseHead, RejectsAmbiguousResponses) {
  ResponseHead head;
  HeadLimits limits;
  EXPECT_EQ(parse_response_head("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
                                limits, false, head)
                .status,
            502);
  EXPECT_EQ(parse_response_head("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n",
                                limits, false, head)
                .status,
            502);
  EXPECT_EQ(parse_response_head("HTTP/1.1 2x0 OK\r\n\r\n", limits, false, head).status, 502);
  EXPECT_EQ(parse_response_head("HTTP/1.1 200 OK\nX: y\r\n\r\n", limits, false, head).status, 502);
  EXPECT_EQ(parse_response_head("garbage\r\n\r\n", limits, false, head).status, 502);
}

TEST(Tokens, ListsAreCaseInsensitive) {
  EXPECT_TRUE(has_token("keep-alive, Upgrade", "upgrade"));
  EXPECT_FALSE(has_token("keep-alive, upgrades", "upgrade"));
  EXPECT_TRUE(equals_ignore_case("Content-Length", "content-length"));
}

}  // namespace
}  // namespace ferry::proxy
