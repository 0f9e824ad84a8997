// Holding a route's requests during a cutover, end to end: while held,
// requests wait in the proxy and reach no backend; the weights move; on
// release every one of them is answered by the new side. A request past its
// timeout gets 503 with Retry-After, a hold past max_hold ends by itself, a
// client that leaves is counted, a reload keeps a hold (and releases one
// whose route it removes), and a released request is sampled for the
// parallel run once, with the pool it finally went to. Real backends
// (tests/http_backend.py, which counts what reached it), the real binary
// with two worker threads, real concurrent clients; every wait polls
// against a deadline.
#include <gtest/gtest.h>

#include <future>

#include "core/yaml.h"
#include "proxy_harness.h"

namespace proxytest {
namespace {

using ferry::YamlNode;

std::string pools(const Backend& legacy, const Backend& modern) {
  return "threads: 2\npools:\n  legacy: { endpoints: [" + legacy.address() +
         "] }\n  modern: { endpoints: [" + modern.address() + "] }\n";
}

// `users` splits between legacy and modern (all to legacy at first);
// everything else goes to legacy.
std::string routes(const std::string& users_extra = "") {
  return "routes:\n"
         "  - name: users\n    match: { path_prefix: /api/users }\n"
         "    split: [ { pool: legacy, weight: 100 }, { pool: modern, weight: 0 } ]\n" +
         users_extra + "  - { name: rest, to: legacy }\n";
}

// How many requests reached the backend (asked directly, not through the proxy).
int backend_requests(const Backend& b) {
  const std::string r =
      round_trip(b.port(), "GET /requests HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n");
  const std::string n = json_field(body_of(r), "requests");
  return n.empty() ? -1 : std::stoi(n);
}

// One request on a connection of its own, from a thread of its own: held
// requests are answered only later.
std::future<std::string> request_async(const Proxy& proxy, const std::string& target) {
  const int port = proxy.port();
  return std::async(std::launch::async, [port, target] {
    return round_trip(
        port, "GET " + target + " HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n", 30s);
  });
}

bool answered(const std::future<std::string>& f) {
  return f.wait_for(0s) == std::future_status::ready;
}

// A field of the route's object in GET /admin/state ("" when absent);
// `hold` reads it from the route's hold.
std::string route_state(const Proxy& proxy, const std::string& route, const std::string& field,
                        bool hold = false) {
  auto doc = ferry::parse_yaml(body_of(proxy.admin("GET", "/admin/state")), "admin/state");
  if (!doc) {
    ADD_FAILURE() << doc.error().message;
    return "";
  }
  const YamlNode& list = *doc->find("routes");
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i].find("name")->scalar() != route) continue;
    const YamlNode* in = hold ? list[i].find("hold") : &list[i];
    const YamlNode* value = in ? in->find(field) : nullptr;
    return value ? value->scalar() : "";
  }
  ADD_FAILURE() << "no route " << route << " in /admin/state";
  return "";
}

int64_t waiting(const Proxy& proxy, const std::string& route) {
  const std::string n = route_state(proxy, route, "waiting", true);
  return n.empty() ? -1 : std::stoll(n);
}

int64_t number(const std::string& json, const std::string& field) {
  const std::string n = json_field(json, field);
  return n.empty() ? -1 : std::stoll(n);
}

int64_t metric(const Proxy& proxy, const std::string& series) {
  return metric_value(body_of(proxy.admin("GET", "/metrics")), series);
}

TEST(ProxyHold, HeldRequestsWaitThenGoToTheNewSideWhenReleased) {
  Backend legacy("legacy"), modern("modern");
  const fs::path log = scratch_dir() / ("hold_access_" + std::to_string(free_port()) + ".log");
  Proxy proxy(pools(legacy, modern) + routes(), "access_log: " + log.string() + "\n");
  const std::string held = proxy.admin("POST", "/admin/routes/users/hold", R"({"timeout":"20s"})");
  ASSERT_EQ(status_of(held), 200) << held;
  EXPECT_EQ(json_field(body_of(held), "timeout_ms"), "20000") << held;
  EXPECT_EQ(route_state(proxy, "users", "held"), "true");
  EXPECT_EQ(metric(proxy, "ferry_proxy_route_held{route=\"users\"}"), 1);

  constexpr int kClients = 20;
  std::vector<std::future<std::string>> answers;
  for (int i = 0; i < kClients; ++i)
    answers.push_back(request_async(proxy, "/api/users/" + std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return waiting(proxy, "users") == kClients; }, 10s))
      << waiting(proxy, "users");
  // They wait in the proxy: nobody answered, nothing reached a backend.
  std::this_thread::sleep_for(300ms);
  for (const auto& a : answers) EXPECT_FALSE(answered(a));
  EXPECT_EQ(backend_requests(legacy), 0);
  EXPECT_EQ(backend_requests(modern), 0);

  // The cutover moves the route while its requests wait, then lets them go.
  ASSERT_EQ(
      status_of(proxy.admin("PUT", "/admin/routes/users/weights", R"({"legacy":0,"modern":100})")),
      200);
  const std::string release = proxy.admin("POST", "/admin/routes/users/release");
  ASSERT_EQ(status_of(release), 200) << release;
  const std::string report = body_of(release);
  EXPECT_EQ(number(report, "held"), kClients) << report;
  EXPECT_EQ(number(report, "released"), kClients) << report;
  EXPECT_EQ(number(report, "timed_out"), 0) << report;
  EXPECT_EQ(number(report, "client_gone"), 0) << report;
  EXPECT_GE(number(report, "p50"), 300) << report;
  EXPECT_LE(number(report, "p50"), number(report, "p99")) << report;
  EXPECT_LE(number(report, "p99"), number(report, "max")) << report;
  EXPECT_LT(number(report, "max"), 15'000) << report;
  EXPECT_GE(number(report, "held_for_ms"), 300) << report;

  for (auto& a : answers) {
    const std::string r = a.get();
    EXPECT_EQ(status_of(r), 200) << r;
    EXPECT_EQ(backend_of(r), "modern") << r;
  }
  EXPECT_EQ(backend_requests(modern), kClients);
  EXPECT_EQ(backend_requests(legacy), 0);
  EXPECT_EQ(route_state(proxy, "users", "held"), "false");
  EXPECT_EQ(metric(proxy, "ferry_proxy_route_held{route=\"users\"}"), 0);
  EXPECT_EQ(metric(proxy, "ferry_proxy_held_requests_total{route=\"users\",outcome=\"released\"}"),
            kClients);
  EXPECT_EQ(metric(proxy, "ferry_proxy_held_requests_total{route=\"rest\",outcome=\"released\"}"),
            0);
  // Requests after the release are not held.
  EXPECT_EQ(backend_of(proxy.get("/api/users/after")), "modern");

  const Outcome end = proxy.stop();
  EXPECT_NE(end.err.find("event=route_held route=users timeout_ms=20000 max_hold_ms=30000"),
            std::string::npos)
      << end.err;
  EXPECT_NE(end.err.find("event=route_released reason=admin route=users held=20 released=20 "
                         "timed_out=0 client_gone=0 p50_ms="),
            std::string::npos)
      << end.err;
  // Each held request's access log line says how long it waited.
  const std::string lines = slurp(log);
  EXPECT_EQ(occurrences(lines, "\"held_ms\":"), static_cast<size_t>(kClients)) << lines;
  EXPECT_EQ(occurrences(lines, "\"pool\":\"modern\""), static_cast<size_t>(kClients + 1)) << lines;
}

TEST(ProxyHold, ARequestPastItsTimeoutGets503AndOtherRoutesFlowMeanwhile) {
  Backend legacy("legacy"), modern("modern");
  Proxy proxy(pools(legacy, modern) + routes());
  ASSERT_EQ(status_of(proxy.admin("POST", "/admin/routes/users/hold", R"({"timeout":"700ms"})")),
            200);
  const auto started = std::chrono::steady_clock::now();
  auto held = request_async(proxy, "/api/users/1");
  // Another route is not held: answered at once, while users waits.
  ASSERT_TRUE(eventually([&] { return waiting(proxy, "users") == 1; }, 5s));
  const auto before = std::chrono::steady_clock::now();
  EXPECT_EQ(backend_of(proxy.get("/checkout")), "legacy");
  EXPECT_LT(std::chrono::steady_clock::now() - before, 300ms);
  EXPECT_FALSE(answered(held));

  const std::string r = held.get();
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(status_of(r), 503) << r;
  EXPECT_EQ(header_of(r, "Retry-After"), "1") << r;
  EXPECT_NE(body_of(r).find("route 'users' is held for a cutover and was not released within its "
                            "timeout (700 ms)"),
            std::string::npos)
      << r;
  EXPECT_GE(waited, 650ms);
  EXPECT_LT(waited, 3s);
  EXPECT_EQ(backend_requests(legacy), 1);  // the /checkout
  EXPECT_EQ(backend_requests(modern), 0);
  EXPECT_EQ(route_state(proxy, "users", "timed_out", true), "1");
  EXPECT_EQ(metric(proxy, "ferry_proxy_held_requests_total{route=\"users\",outcome=\"timed_out\"}"),
            1);

  // The calls' refusals; none changes the hold.
  const std::string again = proxy.admin("POST", "/admin/routes/users/hold", R"({"timeout":"1s"})");
  EXPECT_EQ(status_of(again), 409) << again;
  EXPECT_NE(body_of(again).find("already held"), std::string::npos) << again;
  EXPECT_EQ(status_of(proxy.admin("POST", "/admin/routes/ghost/hold", R"({"timeout":"1s"})")), 404);
  const std::string bad = proxy.admin("POST", "/admin/routes/rest/hold", R"({"timeout":"soon"})");
  EXPECT_EQ(status_of(bad), 400) << bad;
  EXPECT_NE(body_of(bad).find("timeout: 'soon' is not a positive duration"), std::string::npos)
      << bad;
  const std::string shorter =
      proxy.admin("POST", "/admin/routes/rest/hold", R"({"timeout":"5s","max_hold":"1s"})");
  EXPECT_EQ(status_of(shorter), 400) << shorter;
  EXPECT_NE(body_of(shorter).find("max_hold"), std::string::npos) << shorter;
  EXPECT_EQ(status_of(proxy.admin("GET", "/admin/routes/users/hold")), 405);
  EXPECT_EQ(status_of(proxy.admin("GET", "/admin/routes/users/release")), 405);
  EXPECT_EQ(route_state(proxy, "rest", "held"), "false");

  const std::string release = proxy.admin("POST", "/admin/routes/users/release");
  ASSERT_EQ(status_of(release), 200) << release;
  EXPECT_EQ(number(body_of(release), "held"), 1) << release;
  EXPECT_EQ(number(body_of(release), "timed_out"), 1) << release;
  EXPECT_EQ(number(body_of(release), "released"), 0) << release;
  EXPECT_GE(number(body_of(release), "max"), 650) << release;
  EXPECT_EQ(status_of(proxy.admin("POST", "/admin/routes/users/release")), 409);
  EXPECT_EQ(status_of(proxy.admin("POST", "/admin/routes/ghost/release")), 404);
  EXPECT_EQ(backend_of(proxy.get("/api/users/1")), "legacy");
}

TEST(ProxyHold, AHoldPastMaxHoldEndsByItselfAndSaysSo) {
  Backend legacy("legacy"), modern("modern");
  Proxy proxy(pools(legacy, modern) + routes());
  ASSERT_EQ(status_of(proxy.admin("POST", "/admin/routes/users/hold",
                                  R"({"timeout":"1500ms","max_hold":"2s"})")),
            200);
  // Held 700 ms into the hold: its own timeout would come 200 ms after the
  // hold's end, which releases it first.
  std::this_thread::sleep_for(700ms);
  const auto started = std::chrono::steady_clock::now();
  auto held = request_async(proxy, "/api/users/1");
  const std::string r = held.get();
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(status_of(r), 200) << r;
  EXPECT_EQ(backend_of(r), "legacy");
  EXPECT_GE(waited, 1000ms);
  EXPECT_EQ(route_state(proxy, "users", "held"), "false");
  EXPECT_EQ(metric(proxy, "ferry_proxy_route_held{route=\"users\"}"), 0);
  EXPECT_EQ(status_of(proxy.admin("POST", "/admin/routes/users/release")), 409);
  const Outcome end = proxy.stop();
  EXPECT_NE(end.err.find("event=hold_expired route=users held=1 released=1 timed_out=0"),
            std::string::npos)
      << end.err;
  EXPECT_NE(end.err.find("max_hold_ms=2000"), std::string::npos) << end.err;
}

TEST(ProxyHold, AClientThatLeavesWhileHeldIsCountedAndBreaksNothing) {
  Backend legacy("legacy"), modern("modern");
  Proxy proxy(pools(legacy, modern) + routes());
  ASSERT_EQ(status_of(proxy.admin("POST", "/admin/routes/users/hold", R"({"timeout":"20s"})")),
            200);
  {
    RawClient gone(proxy.port());
    gone.send("GET /api/users/gone HTTP/1.1\r\nHost: shop\r\n\r\n");
    ASSERT_TRUE(eventually([&] { return waiting(proxy, "users") == 1; }, 5s));
  }  // closes its connection
  ASSERT_TRUE(
      eventually([&] { return route_state(proxy, "users", "client_gone", true) == "1"; }, 5s));
  EXPECT_EQ(waiting(proxy, "users"), 0);
  auto stays = request_async(proxy, "/api/users/stays");
  ASSERT_TRUE(eventually([&] { return waiting(proxy, "users") == 1; }, 5s));
  const std::string release = proxy.admin("POST", "/admin/routes/users/release");
  ASSERT_EQ(status_of(release), 200) << release;
  EXPECT_EQ(number(body_of(release), "held"), 2) << release;
  EXPECT_EQ(number(body_of(release), "released"), 1) << release;
  EXPECT_EQ(number(body_of(release), "client_gone"), 1) << release;
  const std::string r = stays.get();
  EXPECT_EQ(status_of(r), 200) << r;
  EXPECT_EQ(backend_requests(legacy), 1);  // the one that stayed
  EXPECT_EQ(
      metric(proxy, "ferry_proxy_held_requests_total{route=\"users\",outcome=\"client_gone\"}"), 1);
  EXPECT_EQ(backend_of(proxy.get("/checkout")), "legacy");
}

// Sent on while the proxy stops, a held request could reach the side a
// cutover is leaving; it is answered 503 at once instead, for its client
// to send again.
TEST(ProxyHold, AProxyThatStopsAnswersWhatItHolds) {
  Backend legacy("legacy"), modern("modern");
  Proxy proxy(pools(legacy, modern) + routes());
  ASSERT_EQ(status_of(proxy.admin("POST", "/admin/routes/users/hold", R"({"timeout":"20s"})")),
            200);
  auto held = request_async(proxy, "/api/users/1");
  ASSERT_TRUE(eventually([&] { return waiting(proxy, "users") == 1; }, 5s));
  const auto stopping = std::chrono::steady_clock::now();
  proxy.signal(SIGTERM);
  const std::string r = held.get();
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, 2s);
  EXPECT_EQ(status_of(r), 503) << r;
  EXPECT_EQ(header_of(r, "Retry-After"), "1") << r;
  EXPECT_NE(body_of(r).find("the proxy is stopping"), std::string::npos) << r;
  EXPECT_EQ(backend_requests(legacy), 0);
  EXPECT_EQ(proxy.stop().status, 0);
}

TEST(ProxyHold, AReloadKeepsAHoldAndOneThatRemovesTheRouteReleasesIt) {
  Backend legacy("legacy"), modern("modern");
  Proxy proxy(pools(legacy, modern) + routes());
  ASSERT_EQ(status_of(proxy.admin("POST", "/admin/routes/users/hold", R"({"timeout":"20s"})")),
            200);
  auto first = request_async(proxy, "/api/users/1");
  ASSERT_TRUE(eventually([&] { return waiting(proxy, "users") == 1; }, 5s));
  // A file that changes another route: the hold stays, and so does its request.
  proxy.write_config(pools(legacy, modern) + routes() +
                     "  - { name: extra, match: { path: /x }, to: modern }\n");
  ASSERT_EQ(status_of(proxy.admin("POST", "/admin/reload")), 200);
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(answered(first));
  EXPECT_EQ(route_state(proxy, "users", "held"), "true");
  EXPECT_EQ(waiting(proxy, "users"), 1);
  ASSERT_EQ(status_of(proxy.admin("POST", "/admin/routes/users/release")), 200);
  EXPECT_EQ(backend_of(first.get()), "legacy");

  // A file without the route: its hold ends, and its request is routed by
  // the new config (the catch-all, now to modern).
  ASSERT_EQ(status_of(proxy.admin("POST", "/admin/routes/users/hold", R"({"timeout":"20s"})")),
            200);
  auto second = request_async(proxy, "/api/users/2");
  ASSERT_TRUE(eventually([&] { return waiting(proxy, "users") == 1; }, 5s));
  proxy.write_config(pools(legacy, modern) + "routes: [ { name: rest, to: modern } ]\n");
  ASSERT_EQ(status_of(proxy.admin("POST", "/admin/reload")), 200);
  const std::string r = second.get();
  EXPECT_EQ(status_of(r), 200) << r;
  EXPECT_EQ(backend_of(r), "modern") << r;
  EXPECT_EQ(status_of(proxy.admin("POST", "/admin/routes/users/release")), 404);

  // Whichever reload applied a file (the admin call or the file watcher),
  // its summary is in the log.
  const Outcome end = proxy.stop();
  EXPECT_NE(end.err.find("hold of 'users' kept (1 waiting)"), std::string::npos) << end.err;
  EXPECT_NE(end.err.find("hold of 'users' released (the route is gone)"), std::string::npos)
      << end.err;
  EXPECT_NE(end.err.find("event=route_released reason=route_removed route=users held=1 "
                         "released=1"),
            std::string::npos)
      << end.err;
}

// The parallel run samples a request in the exchange that sends it on: a
// held request is sampled once, after its release, with the pool it went to.
TEST(ProxyHold, AReleasedRequestIsSampledOnceWithThePoolItWentTo) {
  Backend legacy("legacy"), modern("modern");
  Proxy proxy(pools(legacy, modern) + routes("    mirror: { pool: modern }\n"));
  auto compared = [&]() -> int64_t {
    auto doc = ferry::parse_yaml(body_of(proxy.admin("GET", "/admin/diff")), "admin/diff");
    if (!doc) return -1;
    return std::stoll((*doc->find("routes"))[0].find("compared")->scalar());
  };
  auto hold_three_and_release = [&](const std::string& weights) {
    EXPECT_EQ(status_of(proxy.admin("POST", "/admin/routes/users/hold", R"({"timeout":"20s"})")),
              200);
    std::vector<std::future<std::string>> answers;
    for (int i = 0; i < 3; ++i)
      answers.push_back(request_async(proxy, "/api/users/" + std::to_string(i)));
    EXPECT_TRUE(eventually([&] { return waiting(proxy, "users") == 3; }, 5s));
    EXPECT_EQ(status_of(proxy.admin("PUT", "/admin/routes/users/weights", weights)), 200);
    EXPECT_EQ(status_of(proxy.admin("POST", "/admin/routes/users/release")), 200);
    for (auto& a : answers) EXPECT_EQ(status_of(a.get()), 200);
  };
  // Held while the route sent to legacy, released to modern, the mirror's
  // own pool: nothing to compare, so not sampled at all.
  hold_three_and_release(R"({"legacy":0,"modern":100})");
  EXPECT_EQ(backend_requests(modern), 3);
  EXPECT_EQ(compared(), 0);
  // Held while on modern, released to legacy: each sampled, once.
  hold_three_and_release(R"({"legacy":100,"modern":0})");
  ASSERT_TRUE(eventually([&] { return compared() == 3; }, 10s)) << compared();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(compared(), 3);
  EXPECT_EQ(backend_requests(legacy), 3);
  EXPECT_EQ(backend_requests(modern), 6);  // 3 answers, 3 mirrored copies
}

}  // namespace
}  // namespace proxytest
