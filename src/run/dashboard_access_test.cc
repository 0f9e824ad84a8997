#include "run/dashboard_access.h"

#include <gtest/gtest.h>

namespace ferry::run {
namespace {

DashboardRequest get(std::string_view path, std::string_view host = "127.0.0.1:8088") {
  DashboardRequest r;
  r.method = "GET";
  r.path = path;
  r.host = host;
  return r;
}

DashboardRequest post(std::string_view path, std::string_view host = "127.0.0.1:8088") {
  DashboardRequest r = get(path, host);
  r.method = "POST";
  r.x_ferry = "1";
  return r;
}

TEST(DashboardAccess, LoopbackAddressesAndHosts) {
  for (const char* ip : {"127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(is_loopback_address(ip)) << ip;
  }
  for (const char* ip : {"0.0.0.0", "10.0.0.1", "128.0.0.1", "::", "::ffff:10.0.0.1", "localhost",
                         "", "127.0.0.1.evil.example"}) {
    EXPECT_FALSE(is_loopback_address(ip)) << ip;
  }
  for (const char* host : {"127.0.0.1:8088", "localhost:8088", "LOCALHOST", "[::1]:8088", "::1"}) {
    EXPECT_TRUE(is_loopback_host(host)) << host;
  }
  for (const char* host :
       {"evil.example:8088", "localhost.evil.example", "[::2]:8088", "", "10.1.2.3:8088"}) {
    EXPECT_FALSE(is_loopback_host(host)) << host;
  }
}

TEST(DashboardAccess, BeyondLoopbackATokenIsRequired) {
  EXPECT_TRUE(check_listen_access("127.0.0.1:8088", true, ""));
  EXPECT_TRUE(check_listen_access("0.0.0.0:8088", false, "s3cret"));
  auto refused = check_listen_access("0.0.0.0:8088", false, "");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(refused.error().message.find("dashboard address 0.0.0.0:8088: not a loopback "
                                         "address, so a token is required"),
            std::string::npos)
      << refused.error().message;
}

TEST(DashboardAccess, WithATokenEveryDataRequestCarriesIt) {
  const std::string token = "s3cret";
  EXPECT_TRUE(decide_access(get("/", "10.0.0.5:8088"), token).allowed());  // the page: no data
  DashboardRequest none = get("/api/status", "10.0.0.5:8088");
  EXPECT_EQ(decide_access(none, token).status, 401);
  DashboardRequest bearer = none;
  bearer.authorization = "Bearer s3cret";
  EXPECT_TRUE(decide_access(bearer, token).allowed());
  bearer.authorization = "Bearer s3cre";
  EXPECT_EQ(decide_access(bearer, token).status, 401);
  bearer.authorization = "s3cret";
  EXPECT_EQ(decide_access(bearer, token).status, 401);
  // An EventSource cannot set headers: the query carries it on a GET.
  DashboardRequest events = get("/events", "10.0.0.5:8088");
  events.query = "token=s3cret";
  EXPECT_TRUE(decide_access(events, token).allowed());
  events.query = "a=1&token=s3cre%74";
  EXPECT_TRUE(decide_access(events, token).allowed());
  events.query = "token=wrong";
  EXPECT_EQ(decide_access(events, token).status, 401);
  // A command carries it in the header; the query does not do for a POST.
  DashboardRequest command = post("/api/abort", "10.0.0.5:8088");
  command.query = "token=s3cret";
  EXPECT_EQ(decide_access(command, token).status, 401);
  command.authorization = "Bearer s3cret";
  EXPECT_TRUE(decide_access(command, token).allowed());
}

TEST(DashboardAccess, WithoutATokenOnlyLoopbackHostsAreAnswered) {
  EXPECT_TRUE(decide_access(get("/api/status"), "").allowed());
  EXPECT_TRUE(decide_access(get("/events", "localhost:8088"), "").allowed());
  // A name of the attacker's, pointed at 127.0.0.1 (DNS rebinding).
  const AccessDecision rebound = decide_access(get("/api/status", "evil.example:8088"), "");
  EXPECT_EQ(rebound.status, 403);
  EXPECT_NE(rebound.message.find("not a loopback address"), std::string::npos);
  EXPECT_EQ(decide_access(post("/api/approve", "evil.example:8088"), "").status, 403);
}

TEST(DashboardAccess, CommandsNeedTheCustomHeaderAndTheirOwnOrigin) {
  DashboardRequest command = post("/api/approve");
  EXPECT_TRUE(decide_access(command, "").allowed());
  // A form on another site can send neither the header nor another origin's.
  DashboardRequest form = command;
  form.x_ferry = "";
  const AccessDecision refused = decide_access(form, "");
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.message.find("X-Ferry: 1"), std::string::npos);
  DashboardRequest cross = command;
  cross.origin = "http://evil.example";
  EXPECT_EQ(decide_access(cross, "").status, 403);
  cross.origin = "null";
  EXPECT_EQ(decide_access(cross, "").status, 403);
  DashboardRequest same = command;
  same.origin = "http://127.0.0.1:8088";
  EXPECT_TRUE(decide_access(same, "").allowed());
  // With a token too: the header is required whatever carries the token.
  DashboardRequest with_token = post("/api/pause", "10.0.0.5:8088");
  with_token.authorization = "Bearer t";
  with_token.x_ferry = "";
  EXPECT_EQ(decide_access(with_token, "t").status, 403);
}

TEST(DashboardAccess, QueryParameters) {
  EXPECT_EQ(query_parameter("token=a%2Bb%3D&x=1", "token"), "a+b=");
  EXPECT_EQ(query_parameter("x=1&token=two+words", "token"), "two words");
  EXPECT_EQ(query_parameter("tokens=1", "token"), "");
  EXPECT_EQ(query_parameter("token", "token"), "");
  EXPECT_EQ(query_parameter("token=%zz%4", "token"), "%zz%4");
  EXPECT_EQ(query_parameter("", "token"), "");
}

}  // namespace
}  // namespace ferry::run
