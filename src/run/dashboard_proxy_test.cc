#include "run/dashboard_proxy.h"

#include <gtest/gtest.h>

#include "core/json_writer.h"
#include "core/yaml.h"

namespace ferry::run {
namespace {

// A /metrics page as the proxy writes it (proxy/state_report.cc): 100
// requests on users/legacy (2 of them 5xx), 10 on users/modern; nothing on rest.
std::string metrics_page() {
  std::string out =
      "# HELP ferry_proxy_requests_total Requests answered, by route, pool and status class.\n"
      "# TYPE ferry_proxy_requests_total counter\n"
      "ferry_proxy_requests_total{route=\"users\",pool=\"legacy\",class=\"2xx\"} 98\n"
      "ferry_proxy_requests_total{route=\"users\",pool=\"legacy\",class=\"5xx\"} 2\n"
      "ferry_proxy_requests_total{route=\"users\",pool=\"modern\",class=\"2xx\"} 10\n";
  const char* les[] = {"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
                       "0.25",   "0.5",   "1",      "2.5",   "5",    "10",    "+Inf"};
  // legacy: 90 within 10 ms, the rest within 250 ms; modern: all within 5 ms.
  const int legacy[] = {0, 0, 0, 0, 90, 90, 90, 90, 100, 100, 100, 100, 100, 100, 100};
  const int modern[] = {0, 0, 0, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10};
  for (size_t i = 0; i < 15; ++i) {
    out += "ferry_proxy_request_duration_seconds_bucket{route=\"users\",pool=\"legacy\",le=\"" +
           std::string(les[i]) + "\"} " + std::to_string(legacy[i]) + "\n";
    out += "ferry_proxy_request_duration_seconds_bucket{route=\"users\",pool=\"modern\",le=\"" +
           std::string(les[i]) + "\"} " + std::to_string(modern[i]) + "\n";
  }
  out += "ferry_proxy_route_weight{route=\"users\",pool=\"legacy\"} 90\n";
  return out;
}

// Each route's pools as a watch reads them (route_metrics.h), as the window
// ProxyWatch hands read_routes.
RouteCounts window_of(const std::string& metrics) {
  return {{"users", pool_counts(metrics, "users")}, {"rest", pool_counts(metrics, "rest")}};
}

constexpr const char* kState = R"({
  "routes": [
    {"name": "users", "held": true,
     "hold": {"held_for_ms": 1500, "timeout_ms": 5000, "waiting": 20, "held": 23, "timed_out": 1},
     "pools": [{"pool": "legacy", "weight": 90, "file_weight": 100},
               {"pool": "modern", "weight": 10, "file_weight": 0}]},
    {"name": "rest", "held": false, "pools": [{"pool": "legacy", "weight": 100}]}
  ],
  "pools": [
    {"name": "legacy", "endpoints": [], "breaker": {"state": "closed"}},
    {"name": "modern", "endpoints": [], "breaker": {"state": "open"}}
  ]
})";

constexpr const char* kRollouts = R"({"rollouts": [
  {"route": "users", "to": "modern", "from": "legacy", "state": "running", "reason": "",
   "step": 2, "steps": 4,
   "verdicts": [{"verdict": "pass", "reason": "none"}, {"verdict": "inconclusive"}]}]})";

constexpr const char* kDiff = R"({"routes": [
  {"route": "users", "mirror_pool": "modern", "compared": 120, "identical": 117,
   "different": 3, "mirror_errors": 1,
   "fields": [{"path": "$.price", "count": 3}, {"path": "$.a", "count": 1},
              {"path": "$.b", "count": 1}, {"path": "$.c", "count": 1}]}]})";

TEST(DashboardProxy, JoinsStateRolloutsDiffAndWindowPerRoute) {
  auto routes = read_routes(kState, kRollouts, kDiff, window_of(metrics_page()), {"users", "gone"});
  ASSERT_TRUE(routes) << routes.error().message;
  ASSERT_EQ(routes->size(), 2u);
  const RouteReading& users = (*routes)[0];
  EXPECT_TRUE(users.found);
  ASSERT_EQ(users.pools.size(), 2u);
  EXPECT_EQ(users.pools[0].pool, "legacy");
  EXPECT_EQ(users.pools[0].weight, 90);
  EXPECT_EQ(users.pools[0].breaker, "closed");
  EXPECT_EQ(users.pools[0].requests, 100);
  EXPECT_DOUBLE_EQ(users.pools[0].error_rate, 2.0);
  // The 99th of 100 lies in the (100 ms, 250 ms] bucket; modern's all within 5 ms.
  EXPECT_GT(users.pools[0].p99_ms, 100);
  EXPECT_LE(users.pools[0].p99_ms, 250);
  EXPECT_LE(users.pools[1].p99_ms, 5);
  EXPECT_EQ(users.pools[1].breaker, "open");
  ASSERT_TRUE(users.hold);
  EXPECT_EQ(users.hold->waiting, 20);
  EXPECT_EQ(users.hold->timed_out, 1);
  ASSERT_TRUE(users.rollout);
  EXPECT_EQ(users.rollout->state, "running");
  EXPECT_EQ(users.rollout->step, 2);
  EXPECT_EQ(users.rollout->verdict, "pass");  // the newest
  ASSERT_TRUE(users.diff);
  EXPECT_EQ(users.diff->different, 3);
  ASSERT_EQ(users.diff->fields.size(), 3u);
  EXPECT_EQ(users.diff->fields[0].first, "$.price");
  EXPECT_FALSE((*routes)[1].found);

  // Every route the proxy has; without rollouts or a diff, none.
  auto names = state_routes(kState);
  ASSERT_TRUE(names);
  EXPECT_EQ(*names, (std::vector<std::string>{"users", "rest"}));
  auto all = read_routes(kState, "", "", {}, *names);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].name, "rest");
  EXPECT_FALSE((*all)[1].hold);
  EXPECT_FALSE((*all)[0].rollout);
  EXPECT_EQ((*all)[0].pools[0].requests, 0);

  EXPECT_FALSE(read_routes("{not json", "", "", {}, {"users"}));
  EXPECT_FALSE(state_routes("{not json"));
}

TEST(DashboardProxy, WritesTheReadingAsJson) {
  ProxyReading reading;
  reading.admin = "127.0.0.1:9901";
  reading.ok = true;
  reading.window_seconds = 59.5;
  auto routes = read_routes(kState, kRollouts, kDiff, window_of(metrics_page()), {"users", "rest"});
  ASSERT_TRUE(routes);
  reading.routes = *routes;
  JsonWriter w;
  write_proxy_reading(w, reading);
  auto doc = parse_yaml(w.take(), "reading");
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->find("ok")->scalar(), "true");
  const YamlNode& users = (*doc->find("routes"))[0];
  EXPECT_EQ((*users.find("pools"))[1].find("breaker")->scalar(), "open");
  EXPECT_EQ(users.find("hold")->find("waiting")->scalar(), "20");
  EXPECT_EQ(users.find("rollout")->find("verdict")->scalar(), "pass");
  EXPECT_EQ(users.find("diff")->find("different")->scalar(), "3");
  const YamlNode& rest = (*doc->find("routes"))[1];
  EXPECT_TRUE(rest.find("hold")->is_null());
  EXPECT_TRUE(rest.find("rollout")->is_null());
}

TEST(DashboardProxy, ANotAnsweringProxyIsReportedNotWaitedFor) {
  PlanProxy p;
  p.admin = "127.0.0.1:1";  // nobody listens on port 1
  ProxyWatch watch(p, "", {"users"}, 300);
  const ProxyReading reading = watch.read();
  EXPECT_FALSE(reading.ok);
  EXPECT_NE(reading.error.find("127.0.0.1:1"), std::string::npos) << reading.error;
}

TEST(DashboardProxy, PlanRoutesInPlanOrder) {
  Plan plan;
  plan.databases.push_back({});
  plan.databases[0].route = "orders";
  PlanStep rollout;
  rollout.kind = StepKind::kRollout;
  rollout.route = "users";
  PlanStep watch;
  watch.kind = StepKind::kWatch;
  watch.route = "users";
  plan.steps = {rollout, watch};
  EXPECT_EQ(plan_routes(plan), (std::vector<std::string>{"users", "orders"}));
}

}  // namespace
}  // namespace ferry::run
