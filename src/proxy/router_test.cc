#include "proxy/router.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "proxy/sticky_bucket.h"

namespace ferry::proxy {
namespace {

constexpr const char* kConfig = R"(listen: :8080
pools:
  legacy: { endpoints: [127.0.0.1:1] }
  modern: { endpoints: [127.0.0.1:2] }
  us: { endpoints: [127.0.0.1:3] }
  eu: { endpoints: [127.0.0.1:4] }
routes:
  - name: search
    match: { path_prefix: /api/search, method: [GET, HEAD] }
    to: modern
  - name: region-us
    match: { header: { region: us-east } }
    to: us
  - name: region-eu
    match: { host: "*.eu.example", cookie: { beta: "*" } }
    to: eu
  - name: orders
    match: { path_regex: "/api/orders/[0-9]+" , query: { v: "2" } }
    to: modern
  - name: users
    match: { path_prefix: /api/users }
    override: { header: migration-flag, values: { new: modern, old: legacy } }
    split: [ { pool: legacy, weight: 90 }, { pool: modern, weight: 10 } ]
    sticky: { header: X-User-Id, fallback: legacy }
  - name: cart
    match: { path: /cart }
    split: [ { pool: legacy, weight: 50 }, { pool: modern, weight: 50 } ]
    sticky: { cookie: uid }
  - name: rest
    match: { path_prefix: / }
    to: legacy
)";

struct Fixture : ::testing::Test {
  void SetUp() override {
    auto c = parse_proxy_config(kConfig, "router.yaml");
    ASSERT_TRUE(c) << c.error().message;
    config = *c;
    auto r = Router::compile(config);
    ASSERT_TRUE(r) << r.error().message;
    router = *r;
  }
  std::string pool(const RouteDecision& d) const {
    return d.pool < 0 ? "-" : config.pools[static_cast<size_t>(d.pool)].name;
  }
  std::string route_of(const std::string& method, const std::string& path, const std::string& query,
                       std::vector<HeaderField> headers, const std::string& host = "shop.example") {
    RequestView v{method, host, path, query, headers, "10.0.0.1"};
    const RouteDecision d = router.route(v, 7);
    return (d.route < 0 ? std::string("-") : router.route_name(static_cast<size_t>(d.route))) +
           "->" + pool(d);
  }
  std::string user_pool(const std::string& id) {
    std::vector<HeaderField> h{{"X-User-Id", id}};
    RequestView v{"GET", "shop", "/api/users/1", "", h, ""};
    return pool(router.route(v, 0));
  }
  ProxyConfig config;
  Router router;
};

TEST_F(Fixture, FirstMatchingRouteWins) {
  EXPECT_EQ(route_of("GET", "/api/search", "q=x", {}), "search->modern");
  EXPECT_EQ(route_of("POST", "/api/search", "", {}), "rest->legacy");
  EXPECT_EQ(route_of("GET", "/", "", {{"Region", "us-east"}}), "region-us->us");
  EXPECT_EQ(route_of("GET", "/", "", {{"region", "eu-west"}}), "rest->legacy");
  EXPECT_EQ(route_of("GET", "/", "", {{"Cookie", "a=1; beta=yes"}}, "www.eu.example:8080"),
            "region-eu->eu");
  EXPECT_EQ(route_of("GET", "/", "", {{"Cookie", "a=1"}}, "www.eu.example"), "rest->legacy");
  EXPECT_EQ(route_of("GET", "/", "", {{"Cookie", "beta=1"}}, "eu.example"), "rest->legacy");
  EXPECT_EQ(route_of("GET", "/api/orders/17", "a=1&v=2", {}), "orders->modern");
  EXPECT_EQ(route_of("GET", "/api/orders/17x", "v=2", {}), "rest->legacy");
  EXPECT_EQ(route_of("GET", "/api/orders/17", "v=3", {}), "rest->legacy");
  EXPECT_EQ(route_of("GET", "/cart/x", "", {}), "rest->legacy");
}

TEST_F(Fixture, OverrideHeaderPicksThePool) {
  EXPECT_EQ(route_of("GET", "/api/users", "", {{"migration-flag", "new"}, {"X-User-Id", "a"}}),
            "users->modern");
  EXPECT_EQ(route_of("GET", "/api/users", "", {{"Migration-Flag", "old"}}), "users->legacy");
  // No key and an unknown flag: the configured fallback.
  EXPECT_EQ(route_of("GET", "/api/users", "", {{"migration-flag", "other"}}), "users->legacy");
}

// Switching everything to the new side (weights 0/100) moves keyless
// requests too: a fallback pool at weight 0 is no longer used.
TEST_F(Fixture, AFallbackPoolAtWeightZeroIsNotUsed) {
  ASSERT_TRUE(router.set_weights("users", {{"legacy", 0}, {"modern", 100}}, config.pools));
  std::vector<HeaderField> none;
  RequestView v{"GET", "shop", "/api/users", "", none, ""};
  for (uint64_t draw = 0; draw < 100; ++draw) {
    const RouteDecision d = router.route(v, draw * 0x9E3779B97F4A7C15ULL);
    EXPECT_EQ(pool(d), "modern");
    EXPECT_EQ(d.reason, RouteReason::kRandom);
  }
  ASSERT_TRUE(router.set_weights("users", {{"legacy", 1}, {"modern", 99}}, config.pools));
  EXPECT_EQ(pool(router.route(v, 3)), "legacy");
  EXPECT_EQ(router.route(v, 3).reason, RouteReason::kFallback);
}

TEST_F(Fixture, StickySplitKeepsUsersAndOnlyMovesThemForward) {
  constexpr int kUsers = 20'000;
  std::vector<bool> on_modern(kUsers, false);
  for (int weight = 0; weight <= 100; weight += 5) {
    ASSERT_TRUE(
        router.set_weights("users", {{"legacy", 100 - weight}, {"modern", weight}}, config.pools));
    int modern = 0;
    for (int u = 0; u < kUsers; ++u) {
      const bool now = user_pool("user-" + std::to_string(u)) == "modern";
      // Raising the new side's weight never sends a user back.
      ASSERT_FALSE(on_modern[u] && !now) << "user-" << u << " moved back at weight " << weight;
      on_modern[u] = now;
      modern += now;
    }
    // The share follows the weight (binomial spread over 20k users is ~0.35%).
    EXPECT_NEAR(100.0 * modern / kUsers, weight, 1.5) << "at weight " << weight;
  }
}

TEST_F(Fixture, StickyAnswerIsStableAcrossRoutersAndCalls) {
  auto other = Router::compile(config);
  ASSERT_TRUE(other);
  for (int u = 0; u < 2000; ++u) {
    const std::string id = "u" + std::to_string(u * 7919);
    std::vector<HeaderField> h{{"X-User-Id", id}};
    RequestView v{"GET", "shop", "/api/users", "", h, ""};
    EXPECT_EQ(router.route(v, static_cast<uint64_t>(u)).pool, other->route(v, 99).pool);
    EXPECT_EQ(router.route(v, 1).reason, RouteReason::kSticky);
  }
}

TEST_F(Fixture, StickyCookieAndRandomFallback) {
  int modern = 0;
  std::mt19937_64 rng(1);
  for (int i = 0; i < 10'000; ++i) {
    RequestView v{"GET", "shop", "/cart", "", {}, ""};
    const RouteDecision d = router.route(v, rng());
    EXPECT_EQ(d.reason, RouteReason::kRandom);
    modern += pool(d) == "modern";
  }
  EXPECT_NEAR(modern, 5000, 300);
  std::vector<HeaderField> h{{"Cookie", "theme=dark; uid=\"42\""}};
  RequestView v{"GET", "shop", "/cart", "", h, ""};
  const RouteDecision first = router.route(v, 1);
  EXPECT_EQ(first.reason, RouteReason::kSticky);
  for (uint64_t draw = 0; draw < 50; ++draw) EXPECT_EQ(router.route(v, draw).pool, first.pool);
}

TEST_F(Fixture, SetWeightsValidatesAndKeepsTheOldOnes) {
  EXPECT_FALSE(router.set_weights("users", {{"eu", 10}}, config.pools));
  EXPECT_FALSE(router.set_weights("users", {{"legacy", 0}, {"modern", 0}}, config.pools));
  EXPECT_FALSE(router.set_weights("nope", {{"legacy", 1}}, config.pools));
  const int users = router.find_route("users");
  EXPECT_EQ(router.weights(static_cast<size_t>(users))[0], 90);
  ASSERT_TRUE(router.set_weights("users", {{"modern", 100}}, config.pools));
  EXPECT_EQ(router.weights(static_cast<size_t>(users))[0], 0);
  EXPECT_EQ(user_pool("anyone"), "modern");
}

// The other match kinds and sticky sources, each on a router of its own.
TEST(RouterMatches, ExactHostAnyHeaderValueAndMethodLists) {
  const std::string yaml = R"(
listen: 127.0.0.1:1
pools: { a: { endpoints: [127.0.0.1:2] }, b: { endpoints: [127.0.0.1:3] } }
routes:
  - { name: host, match: { host: [Shop.Example], method: [GET] }, to: a }
  - { name: flagged, match: { header: { x-canary: "*" } }, to: a }
  - { name: rest, to: b }
)";
  auto config = parse_proxy_config(yaml, "m.yaml");
  ASSERT_TRUE(config) << config.error().message;
  auto router = Router::compile(*config);
  ASSERT_TRUE(router) << router.error().message;
  auto route = [&](const std::string& method, const std::string& host,
                   std::vector<HeaderField> headers = {}) {
    RequestView v{method, host, "/", "", headers, ""};
    return std::string(router->route_name(static_cast<size_t>(router->route(v, 0).route)));
  };
  EXPECT_EQ(route("GET", "shop.example"), "host");  // host names are case-insensitive
  EXPECT_EQ(route("GET", "SHOP.EXAMPLE:8443"), "host");
  EXPECT_EQ(route("GET", "www.shop.example"), "rest");  // exact, not a suffix
  EXPECT_EQ(route("POST", "shop.example"), "rest");
  EXPECT_EQ(route("POST", "x", {{"X-Canary", ""}}), "flagged");  // present, even empty
  EXPECT_EQ(route("POST", "x", {{"X-Canary", "1"}}), "flagged");
  EXPECT_EQ(route("POST", "x", {{"X-Canary-2", "1"}}), "rest");
}

TEST(RouterMatches, StickyByQueryAndClientIpWithASalt) {
  const std::string yaml = R"(
listen: 127.0.0.1:1
pools: { old: { endpoints: [127.0.0.1:2] }, new: { endpoints: [127.0.0.1:3] } }
routes:
  - name: by-query
    match: { path_prefix: /q }
    split: [ { pool: old, weight: 50 }, { pool: new, weight: 50 } ]
    sticky: { query: user }
  - name: by-ip
    match: { path_prefix: /ip }
    split: [ { pool: old, weight: 50 }, { pool: new, weight: 50 } ]
    sticky: { client_ip: true, salt: rollout-7 }
)";
  auto config = parse_proxy_config(yaml, "s.yaml");
  ASSERT_TRUE(config) << config.error().message;
  auto router = Router::compile(*config);
  ASSERT_TRUE(router) << router.error().message;
  std::vector<HeaderField> none;
  for (int u = 0; u < 200; ++u) {
    const std::string id = "u" + std::to_string(u);
    const std::string query = "a=1&user=" + id;
    RequestView q{"GET", "h", "/q", query, none, "10.0.0.1"};
    const RouteDecision d = router->route(q, static_cast<uint64_t>(u));
    EXPECT_EQ(d.reason, RouteReason::kSticky);
    // The salt defaults to the route's name; the bucket decides the side.
    const size_t side = pool_for_bucket(sticky_bucket("by-query", id), router->weights(0));
    EXPECT_EQ(static_cast<size_t>(d.pool), side) << id;

    const std::string ip = "10.0." + std::to_string(u / 250) + "." + std::to_string(u % 250);
    RequestView c{"GET", "h", "/ip", "", none, ip};
    const RouteDecision e = router->route(c, static_cast<uint64_t>(u) * 31);
    EXPECT_EQ(e.reason, RouteReason::kSticky);
    EXPECT_EQ(static_cast<size_t>(e.pool),
              pool_for_bucket(sticky_bucket("rollout-7", ip), router->weights(1)))
        << ip;
  }
  // No such query parameter: the weights decide at random.
  RequestView q{"GET", "h", "/q", "other=1", none, ""};
  EXPECT_EQ(router->route(q, 1).reason, RouteReason::kRandom);
}

TEST(StickyBucket, IsStableAndSpread) {
  // Pinned values: a change here moves real users between sides on upgrade.
  // (XXH3_64bits of salt, NUL, key, modulo 10000, computed outside ferry.)
  EXPECT_EQ(sticky_bucket("users", "user-1"), 3932u);
  EXPECT_EQ(sticky_bucket("users", "user-2"), 4316u);
  EXPECT_EQ(sticky_bucket("cart", "user-1"), 6895u);
  EXPECT_EQ(sticky_bucket("", "42"), 1092u);
  std::vector<int> deciles(10, 0);
  for (int i = 0; i < 100'000; ++i) ++deciles[sticky_bucket("s", std::to_string(i)) / 1000];
  for (int d : deciles) EXPECT_NEAR(d, 10'000, 400);
}

TEST(StickyBucket, PoolsAreLaidOutFromTheLast) {
  const std::vector<int> w{90, 10};
  EXPECT_EQ(pool_for_bucket(0, w), 1u);
  EXPECT_EQ(pool_for_bucket(999, w), 1u);
  EXPECT_EQ(pool_for_bucket(1000, w), 0u);
  EXPECT_EQ(pool_for_bucket(9999, w), 0u);
  const std::vector<int> zero_last{100, 0};
  EXPECT_EQ(pool_for_bucket(0, zero_last), 0u);
}

}  // namespace
}  // namespace ferry::proxy
