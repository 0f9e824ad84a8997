// ferry proxy end to end: routes, splits, sticky users, override header,
// admin API, reloads. Real backends (tests/http_backend.py), the real binary.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <map>
#include <set>
#include <sstream>

#include "proxy_harness.h"

namespace proxytest {
namespace {

std::string pools(const Backend& legacy, const Backend& modern) {
  return "pools:\n  legacy: { endpoints: [" + legacy.address() + "] }\n  modern: { endpoints: [" +
         modern.address() + "] }\n";
}

std::string strangler_routes(int legacy_weight, int modern_weight) {
  return "routes:\n"
         "  - name: search\n    match: { path_prefix: /api/search }\n    to: modern\n"
         "  - name: users\n    match: { path_prefix: /api/users }\n"
         "    override: { header: migration-flag, values: { new: modern, old: legacy } }\n"
         "    split: [ { pool: legacy, weight: " +
         std::to_string(legacy_weight) +
         " }, { pool: modern, weight: " + std::to_string(modern_weight) +
         " } ]\n    sticky: { header: X-User-Id }\n"
         "  - name: rest\n    match: { path_prefix: / }\n    to: legacy\n";
}

// Which side each of `users` lands on, over one keep-alive connection each way.
std::map<std::string, std::string> sides(const Proxy& proxy, int users) {
  std::map<std::string, std::string> out;
  RawClient c(proxy.port());
  for (int u = 0; u < users; ++u) {
    const std::string id = "user-" + std::to_string(u);
    c.send("GET /api/users/" + id + " HTTP/1.1\r\nHost: shop\r\nX-User-Id: " + id + "\r\n\r\n");
    out[id] = backend_of(c.read(5s, "}"));
  }
  return out;
}

TEST(ProxyRouting, StranglerFigRoutesByPathPrefix) {
  Backend legacy("legacy"), modern("modern");
  Proxy proxy(pools(legacy, modern) + strangler_routes(100, 0));
  EXPECT_EQ(backend_of(proxy.get("/api/search?q=boots")), "modern");
  EXPECT_EQ(backend_of(proxy.get("/api/users/7")), "legacy");
  EXPECT_EQ(backend_of(proxy.get("/checkout")), "legacy");
  EXPECT_EQ(backend_of(proxy.get("/api/users/7", "migration-flag: new\r\n")), "modern");
}

TEST(ProxyRouting, MatchesHostMethodHeaderCookieQueryAndRegex) {
  Backend a("a"), b("b");
  Proxy proxy(
      "pools:\n  a: { endpoints: [" + a.address() + "] }\n  b: { endpoints: [" + b.address() +
      "] }\nroutes:\n"
      "  - { name: us, match: { header: { region: us-east } }, to: b }\n"
      "  - { name: host, match: { host: \"*.eu.example\" }, to: b }\n"
      "  - { name: beta, match: { cookie: { beta: \"1\" } }, to: b }\n"
      "  - { name: v2, match: { query: { v: \"2\" } }, to: b }\n"
      "  - { name: writes, match: { method: [POST, DELETE], path_prefix: /orders }, to: b }\n"
      "  - { name: order, match: { path_regex: \"/orders/[0-9]+\" }, to: b }\n"
      "  - { name: rest, to: a }\n");
  EXPECT_EQ(backend_of(proxy.get("/", "region: us-east\r\n")), "b");
  EXPECT_EQ(backend_of(proxy.get("/", "region: eu-west\r\n")), "a");
  EXPECT_EQ(backend_of(round_trip(proxy.port(),
                                  "GET / HTTP/1.1\r\nHost: shop.eu.example:8080\r\n"
                                  "Connection: close\r\n\r\n")),
            "b");
  EXPECT_EQ(backend_of(proxy.get("/", "Cookie: theme=dark; beta=1\r\n")), "b");
  EXPECT_EQ(backend_of(proxy.get("/list?a=1&v=2")), "b");
  EXPECT_EQ(backend_of(proxy.get("/list?v=3")), "a");
  EXPECT_EQ(backend_of(round_trip(proxy.port(),
                                  "DELETE /orders/x HTTP/1.1\r\nHost: s\r\n"
                                  "Connection: close\r\n\r\n")),
            "b");
  EXPECT_EQ(backend_of(proxy.get("/orders/12")), "b");
  EXPECT_EQ(backend_of(proxy.get("/orders/12/items")), "a");
}

TEST(ProxyRouting, NoMatchingRouteIs404) {
  Backend a("a");
  Proxy proxy("pools:\n  a: { endpoints: [" + a.address() +
              "] }\n"
              "routes:\n  - { name: only, match: { path: /only }, to: a }\n");
  const std::string r = proxy.get("/other");
  EXPECT_EQ(status_of(r), 404) << r;
  EXPECT_NE(body_of(r).find("no route matches"), std::string::npos);
}

// The property users ask Envoy, Istio, ingress-nginx and Flagger for: over
// 2,000 users and a rollout 10 -> 50 -> 90 -> 100, nobody on the new side is
// ever sent back, and each step moves about the share it should.
TEST(ProxyRouting, StickyRolloutOnlyMovesUsersForward) {
  Backend legacy("legacy"), modern("modern");
  Proxy proxy(pools(legacy, modern) + strangler_routes(90, 10));
  constexpr int kUsers = 2000;
  auto before = sides(proxy, kUsers);
  for (int weight : {10, 50, 90, 100}) {
    const std::string body = "{\"legacy\":" + std::to_string(100 - weight) +
                             ",\"modern\":" + std::to_string(weight) + "}";
    ASSERT_EQ(status_of(proxy.admin("PUT", "/admin/routes/users/weights", body)), 200);
    const auto now = sides(proxy, kUsers);
    int modern_count = 0;
    for (const auto& [user, side] : now) {
      ASSERT_TRUE(side == "legacy" || side == "modern") << user << ": " << side;
      if (before[user] == "modern") {
        EXPECT_EQ(side, "modern") << user << " moved back at " << weight;
      }
      modern_count += side == "modern";
    }
    EXPECT_NEAR(100.0 * modern_count / kUsers, weight, 3.5) << "at weight " << weight;
    // The same users, asked again, stay where they are.
    EXPECT_EQ(sides(proxy, kUsers), now);
    before = now;
  }
}

TEST(ProxyRouting, RequestsWithoutTheStickyKeyFollowTheWeights) {
  Backend legacy("legacy"), modern("modern");
  Proxy proxy(pools(legacy, modern) + strangler_routes(70, 30));
  RawClient c(proxy.port());
  int modern_count = 0;
  for (int i = 0; i < 600; ++i) {
    c.send("GET /api/users HTTP/1.1\r\nHost: shop\r\n\r\n");
    modern_count += backend_of(c.read(5s, "}")) == "modern";
  }
  EXPECT_NEAR(modern_count, 180, 45);
}

TEST(ProxyAdmin, StateWeightsAndErrors) {
  Backend legacy("legacy"), modern("modern");
  Proxy proxy(pools(legacy, modern) + strangler_routes(90, 10));
  const std::string state = body_of(proxy.admin("GET", "/admin/state"));
  EXPECT_NE(state.find("{\"pool\": \"modern\", \"weight\": 10, \"file_weight\": 10}"),
            std::string::npos)
      << state;
  EXPECT_NE(state.find("\"healthy\": true"), std::string::npos);
  EXPECT_EQ(
      status_of(proxy.admin("PUT", "/admin/routes/users/weights", "{\"legacy\":0,\"modern\":100}")),
      200);
  EXPECT_EQ(backend_of(proxy.get("/api/users/1", "X-User-Id: anyone\r\n")), "modern");
  EXPECT_NE(body_of(proxy.admin("GET", "/admin/state")).find("\"runtime_weights\": true"),
            std::string::npos);
  // Bad requests change nothing.
  EXPECT_EQ(
      status_of(proxy.admin("PUT", "/admin/routes/users/weights", "{\"legacy\":0,\"modern\":0}")),
      400);
  EXPECT_EQ(status_of(proxy.admin("PUT", "/admin/routes/users/weights", "{\"nope\":5}")), 400);
  EXPECT_EQ(status_of(proxy.admin("PUT", "/admin/routes/users/weights", "not json")), 400);
  EXPECT_EQ(status_of(proxy.admin("PUT", "/admin/routes/ghost/weights", "{\"legacy\":1}")), 404);
  EXPECT_EQ(status_of(proxy.admin("GET", "/admin/routes/users/weights")), 405);
  EXPECT_EQ(status_of(proxy.admin("GET", "/admin/nothing")), 404);
  EXPECT_EQ(backend_of(proxy.get("/api/users/1", "X-User-Id: anyone\r\n")), "modern");
}

TEST(ProxyAdmin, MetricsCountRequestsByRoutePoolAndClass) {
  Backend legacy("legacy"), modern("modern");
  Proxy proxy(pools(legacy, modern) + strangler_routes(100, 0));
  for (int i = 0; i < 3; ++i) proxy.get("/api/search");
  proxy.get("/checkout");
  const std::string m = body_of(proxy.admin("GET", "/metrics"));
  EXPECT_NE(m.find("ferry_proxy_requests_total{route=\"search\",pool=\"modern\",class=\"2xx\"} 3"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("ferry_proxy_requests_total{route=\"rest\",pool=\"legacy\",class=\"2xx\"} 1"),
            std::string::npos);
  EXPECT_NE(
      m.find("ferry_proxy_request_duration_seconds_count{route=\"search\",pool=\"modern\"} 3"),
      std::string::npos);
  EXPECT_NE(m.find("ferry_proxy_route_weight{route=\"users\",pool=\"legacy\"} 100"),
            std::string::npos);
  EXPECT_NE(m.find("ferry_proxy_endpoint_healthy{pool=\"legacy\",endpoint=\"" + legacy.address() +
                   "\"} 1"),
            std::string::npos);
}

TEST(ProxyAdmin, TokenIsRequiredWhenConfigured) {
  Backend a("a");
  // The harness writes its own admin line; a token needs a config of its own.
  const int admin = free_port();
  const int port = free_port();
  const fs::path file = scratch_dir() / "token.yaml";
  std::ofstream(file) << "listen: 127.0.0.1:" << port << "\nadmin: { listen: 127.0.0.1:" << admin
                      << ", token: s3cret }\npools:\n  a: { endpoints: [" << a.address()
                      << "] }\nroutes: [ { name: all, to: a } ]\n";
  Child ferry({FERRY_BINARY, "proxy", "--config", file.string()}, output_prefix());
  ASSERT_TRUE(wait_for_port(admin));
  EXPECT_EQ(status_of(round_trip(admin, "GET /admin/state HTTP/1.1\r\nHost: a\r\n\r\n")), 401);
  for (const char* wrong : {"wrong", "s3cre", "s3cres", "s3cret2", "S3CRET"}) {
    EXPECT_EQ(status_of(round_trip(
                  admin, "GET /admin/state HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer " +
                             std::string(wrong) + "\r\n\r\n")),
              401)
        << wrong;
  }
  EXPECT_EQ(status_of(round_trip(
                admin, "GET /admin/state HTTP/1.1\r\nHost: a\r\nAuthorization: s3cret\r\n\r\n")),
            401);
  EXPECT_EQ(status_of(round_trip(admin,
                                 "GET /admin/state HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer "
                                 "s3cret\r\n\r\n")),
            200);
  // Probes need no token: a kubelet has none.
  EXPECT_EQ(status_of(round_trip(admin, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")), 200);
  const std::string ready = round_trip(admin, "GET /readyz HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(status_of(ready), 200) << ready;
  EXPECT_NE(ready.find("\"ready\": true"), std::string::npos) << ready;
  ferry.signal(SIGTERM);
  EXPECT_EQ(ferry.wait().status, 0);
}

TEST(ProxyReload, FileChangeAppliesAndInvalidFileKeepsTheRunningConfig) {
  Backend legacy("legacy"), modern("modern");
  Proxy proxy(pools(legacy, modern) + strangler_routes(100, 0));
  EXPECT_EQ(backend_of(proxy.get("/checkout")), "legacy");
  // A valid change: everything now goes to modern (blue/green by file).
  proxy.write_config(pools(legacy, modern) + "routes: [ { name: rest, to: modern } ]\n");
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (backend_of(proxy.get("/checkout")) != "modern" &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(backend_of(proxy.get("/checkout")), "modern");
  // An invalid change is refused with file:line, and traffic is unaffected.
  proxy.write_config(pools(legacy, modern) + "routes: [ { name: rest, to: modrn } ]\n");
  std::string reload = proxy.admin("POST", "/admin/reload");
  EXPECT_EQ(status_of(reload), 400) << reload;
  EXPECT_NE(body_of(reload).find(".yaml:6:29: error: routes[0].to"), std::string::npos) << reload;
  EXPECT_NE(body_of(reload).find("no pool named 'modrn'"), std::string::npos) << reload;
  EXPECT_EQ(backend_of(proxy.get("/checkout")), "modern");
  const Outcome end = proxy.stop();
  EXPECT_EQ(end.status, 0) << end.err;
  EXPECT_NE(end.err.find("event=reload_refused"), std::string::npos) << end.err;
}

// A reload applies to requests that start after it: a request in flight
// finishes where it was sent, and a kept-alive connection carries on, its
// next request routed by the new config.
TEST(ProxyReload, InFlightRequestsAndKeptAliveConnectionsSurviveAReload) {
  Backend legacy("legacy"), modern("modern");
  Proxy proxy(pools(legacy, modern) + "routes: [ { name: rest, to: legacy } ]\n");
  RawClient kept(proxy.port());
  kept.send("GET /echo/first HTTP/1.1\r\nHost: s\r\n\r\n");
  EXPECT_EQ(backend_of(kept.read(5s, "}")), "legacy");
  RawClient slow(proxy.port());
  slow.send("GET /slow/1000 HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n");
  std::this_thread::sleep_for(200ms);
  proxy.write_config(pools(legacy, modern) + "routes: [ { name: rest, to: modern } ]\n");
  ASSERT_EQ(status_of(proxy.admin("POST", "/admin/reload")), 200);
  const std::string answer = slow.read(5s);
  EXPECT_EQ(status_of(answer), 200) << answer;
  EXPECT_EQ(backend_of(answer), "legacy");
  kept.send("GET /echo/second HTTP/1.1\r\nHost: s\r\n\r\n");
  const std::string second = kept.read(5s, "}");
  EXPECT_FALSE(kept.closed());
  EXPECT_EQ(backend_of(second), "modern") << second;
}

// HAProxy #199 is the anti-example: a reload must not silently undo weights
// set at runtime, unless the file itself changed that route.
TEST(ProxyReload, RuntimeWeightsSurviveAReloadUnlessTheFileChangedThem) {
  Backend legacy("legacy"), modern("modern");
  Proxy proxy(pools(legacy, modern) + strangler_routes(100, 0));
  ASSERT_EQ(
      status_of(proxy.admin("PUT", "/admin/routes/users/weights", "{\"legacy\":0,\"modern\":100}")),
      200);
  // SIGHUP with the file unchanged: the runtime weights stay.
  proxy.signal(SIGHUP);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(backend_of(proxy.get("/api/users/1", "X-User-Id: u1\r\n")), "modern");
  // A file that changes another route keeps them too.
  proxy.write_config(pools(legacy, modern) + strangler_routes(100, 0) +
                     "  - { name: extra, match: { path: /x }, to: modern }\n");
  std::string r = proxy.admin("POST", "/admin/reload");
  EXPECT_NE(body_of(r).find("runtime weights of 'users' kept"), std::string::npos) << r;
  EXPECT_EQ(backend_of(proxy.get("/api/users/1", "X-User-Id: u1\r\n")), "modern");
  // The file changing the route's split wins.
  proxy.write_config(pools(legacy, modern) + strangler_routes(99, 1));
  r = proxy.admin("POST", "/admin/reload");
  EXPECT_NE(body_of(r).find("runtime weights of 'users' dropped"), std::string::npos) << r;
  EXPECT_NE(body_of(proxy.admin("GET", "/admin/state")).find("\"runtime_weights\": false"),
            std::string::npos);
}

TEST(ProxyStart, ASecondProxyOnTheSamePortIsRefused) {
  Backend a("a");
  const std::string body = one_pool(a);
  Proxy first(body);
  const fs::path file = scratch_dir() / "second.yaml";
  std::ofstream(file) << "listen: 127.0.0.1:" << first.port() << "\n" << body;
  const Outcome second = run({FERRY_BINARY, "proxy", "--config", file.string()});
  EXPECT_EQ(second.status, 4) << second.err;
  EXPECT_NE(second.err.find("is another proxy running?"), std::string::npos) << second.err;
  EXPECT_EQ(backend_of(first.get("/")), "a");
}

// With the usual soft limit of 1,024 open files a proxy refuses clients at
// about 500 requests in flight; it takes the hard limit instead.
TEST(ProxyStart, RaisesTheOpenFileLimitToTheHardLimit) {
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  if (saved.rlim_max <= 512) GTEST_SKIP() << "hard open-file limit too low to lower";
  rlimit lowered = saved;
  lowered.rlim_cur = 512;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);
  Backend a("a");
  Proxy proxy(one_pool(a));
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  std::istringstream limits(slurp("/proc/" + std::to_string(proxy.pid()) + "/limits"));
  std::string line;
  while (std::getline(limits, line) && line.rfind("Max open files", 0) != 0) {
  }
  std::istringstream fields(line.substr(std::string("Max open files").size()));
  std::string soft, hard;
  fields >> soft >> hard;
  EXPECT_EQ(soft, hard) << line;
  EXPECT_EQ(backend_of(proxy.get("/")), "a");
}

TEST(ProxyCheck, ReportsEveryProblemAndExits3) {
  const fs::path file = scratch_dir() / "bad.yaml";
  std::ofstream(file) << "listen: 127.0.0.1:80800\npools:\n  a: { endpoints: [nohost] }\n"
                         "routes: [ { name: r, to: b } ]\n";
  const Outcome r = run({FERRY_BINARY, "proxy", "--check", "--config", file.string()});
  EXPECT_EQ(r.status, 3);
  EXPECT_NE(r.err.find("bad.yaml:1:9: error: listen"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bad.yaml:3:20: error: pools.a.endpoints[0]"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bad.yaml:4:26: error: routes[0].to: no pool named 'b'"), std::string::npos)
      << r.err;
  const Outcome missing = run({FERRY_BINARY, "proxy", "--check", "--config", "/nonexistent.yaml"});
  EXPECT_EQ(missing.status, 4) << missing.err;
}

}  // namespace
}  // namespace proxytest
