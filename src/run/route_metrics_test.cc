#include "run/route_metrics.h"

#include <gtest/gtest.h>

namespace ferry::run {
namespace {

// As the proxy writes them (proxy/state_report.cc), two pools of one route
// and another route that must not be counted.
constexpr const char* kMetrics =
    R"(# HELP ferry_proxy_requests_total Requests answered, by route, pool and status class.
# TYPE ferry_proxy_requests_total counter
ferry_proxy_requests_total{route="users",pool="legacy",class="2xx"} 90
ferry_proxy_requests_total{route="users",pool="legacy",class="5xx"} 10
ferry_proxy_requests_total{route="users",pool="modern",class="2xx"} 50
ferry_proxy_requests_total{route="rest",pool="legacy",class="5xx"} 1000
ferry_proxy_request_duration_seconds_bucket{route="users",pool="legacy",le="0.0005"} 0
ferry_proxy_request_duration_seconds_bucket{route="users",pool="legacy",le="0.001"} 20
ferry_proxy_request_duration_seconds_bucket{route="users",pool="legacy",le="0.0025"} 100
ferry_proxy_request_duration_seconds_bucket{route="users",pool="legacy",le="+Inf"} 100
ferry_proxy_request_duration_seconds_bucket{route="users",pool="modern",le="0.001"} 50
ferry_proxy_request_duration_seconds_bucket{route="users",pool="modern",le="+Inf"} 50
ferry_proxy_request_duration_seconds_bucket{route="rest",pool="legacy",le="10"} 1000
)";

TEST(RouteMetrics, AddsUpEveryPoolOfTheRouteAndNothingElse) {
  const proxy::SideCounts c = route_counts(kMetrics, "users");
  EXPECT_EQ(c.requests, 150);
  EXPECT_EQ(c.errors, 10);
  EXPECT_EQ(c.latency[0], 0);
  EXPECT_EQ(c.latency[1], 70);  // 20 legacy + 50 modern under 1 ms
  EXPECT_EQ(c.latency[2], 80);
  EXPECT_EQ(c.latency.back(), 0);
  EXPECT_EQ(route_counts(kMetrics, "user").requests, 0);  // a prefix is another route
  EXPECT_EQ(route_counts("", "users").requests, 0);
}

TEST(RouteMetrics, ReadingsRoundTripThroughTheJournalLine) {
  const proxy::SideCounts c = route_counts(kMetrics, "users");
  const auto back = parse_counts_line(counts_line(c));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->requests, c.requests);
  EXPECT_EQ(back->errors, c.errors);
  EXPECT_EQ(back->latency, c.latency);
  EXPECT_FALSE(parse_counts_line("12 3"));
  EXPECT_FALSE(parse_counts_line(""));
}

TEST(RouteMetrics, EachPoolOnItsOwnRoundTripsThroughItsLine) {
  const PoolCounts pools = pool_counts(kMetrics, "users");
  ASSERT_EQ(pools.size(), 2u);
  EXPECT_EQ(pools.at("legacy").requests, 100);
  EXPECT_EQ(pools.at("legacy").errors, 10);
  EXPECT_EQ(pools.at("modern").requests, 50);
  EXPECT_EQ(pools.at("modern").latency[1], 50);
  const auto back = parse_pool_counts_line(pool_counts_line(pools));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->at("modern").latency, pools.at("modern").latency);
  EXPECT_EQ(total(*back).requests, 150);
  EXPECT_FALSE(parse_pool_counts_line("legacy"));
  EXPECT_TRUE(parse_pool_counts_line("")->empty());
}

TEST(RouteMetrics, AWindowAcrossAProxyRestartIsRefused) {
  proxy::SideCounts earlier = route_counts(kMetrics, "users");
  proxy::SideCounts later = earlier;
  later.requests += 10;
  later.latency[1] += 10;
  EXPECT_TRUE(counts_follow(earlier, later));
  EXPECT_FALSE(counts_follow(later, earlier));
}

}  // namespace
}  // namespace ferry::run
