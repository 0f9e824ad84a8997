// ferry proxy's parallel run end to end: a route's requests also go to a
// mirror pool and the answers are compared. The diff names the field that
// changed and neither the ignored nor the noisy ones; a 2 s candidate leaves
// the client's answers as fast as they were; users are sampled by their
// sticky key; writes are mirrored only when listed; large bodies are skipped.
// Real backends (tests/http_backend.py: /json/USER is the same document
// everywhere but for its price, $BACKEND_PRICE, and fields that change on
// every answer), the real binary with two worker threads, real clients;
// every wait polls against a deadline.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/yaml.h"
#include "proxy_harness.h"

namespace proxytest {
namespace {

using ferry::YamlNode;

// The route's object in GET /admin/diff.
YamlNode route_diff(const Proxy& proxy, const std::string& route) {
  auto doc = ferry::parse_yaml(body_of(proxy.admin("GET", "/admin/diff")), "admin/diff");
  if (!doc) {
    ADD_FAILURE() << doc.error().message;
    return {};
  }
  const YamlNode& routes = *doc->find("routes");
  for (size_t i = 0; i < routes.size(); ++i) {
    if (routes[i].find("route")->scalar() == route) return routes[i];
  }
  ADD_FAILURE() << "no route " << route << " in /admin/diff";
  return {};
}

int64_t count_of(const YamlNode& diff, const std::string& field) {
  const YamlNode* n = diff.find(field);
  return n ? std::stoll(n->scalar()) : -1;
}

// Every mirrored request of the route has been judged one way or another.
int64_t judged(const YamlNode& diff) {
  return count_of(diff, "compared") + count_of(diff, "skipped_large") +
         count_of(diff, "mirror_errors");
}

std::vector<std::string> field_paths(const YamlNode& diff) {
  std::vector<std::string> paths;
  const YamlNode& fields = *diff.find("fields");
  for (size_t i = 0; i < fields.size(); ++i) paths.push_back(fields[i].find("path")->scalar());
  std::sort(paths.begin(), paths.end());
  return paths;
}

// Waits until the route's judged count stops moving (mirrors in flight done).
int64_t settled(const Proxy& proxy, const std::string& route) {
  int64_t last = -1;
  for (int i = 0; i < 50; ++i) {
    const int64_t now = judged(route_diff(proxy, route));
    if (now == last) return now;
    last = now;
    std::this_thread::sleep_for(200ms);
  }
  return last;
}

TEST(ProxyMirror, TheDiffNamesTheChangedFieldAndNeitherTheIgnoredNorTheNoisyOnes) {
  Backend legacy1("legacy1"), legacy2("legacy2");
  Backend modern("modern", {{"BACKEND_PRICE", "12"}});
  const std::string mirror =
      "      pool: modern\n"
      "      compare:\n        headers: [content-type]\n";
  Proxy proxy("pools:\n  legacy: { endpoints: [" + legacy1.address() + ", " + legacy2.address() +
                  "] }\n  modern: { endpoints: [" + modern.address() +
                  "] }\n"
                  "routes:\n"
                  // Compared as it comes: every field that changes between answers shows.
                  "  - name: raw\n    match: { path_prefix: /json/, header: { X-Raw: \"*\" } }\n"
                  "    to: legacy\n    mirror:\n" +
                  mirror +
                  "  - name: users\n    match: { path_prefix: /json/ }\n    to: legacy\n"
                  "    mirror:\n" +
                  mirror +
                  "        ignore_json: [\"$.generated_at\", \"$.items[*].etag\"]\n"
                  "        noise: { pool: legacy }\n",
              "threads: 2\n");
  constexpr int kRequests = 30;
  for (int i = 0; i < kRequests; ++i) {
    const std::string user = "/json/u" + std::to_string(i);
    const std::string r = proxy.get(user);
    ASSERT_EQ(status_of(r), 200) << r;
    // The client always gets the primary's answer.
    ASSERT_NE(body_of(r).find("\"price\": 10.0"), std::string::npos) << r;
    ASSERT_EQ(status_of(proxy.get(user, "X-Raw: 1\r\n")), 200);
  }
  ASSERT_TRUE(eventually(
      [&] { return count_of(route_diff(proxy, "users"), "compared") == kRequests; }, 10s))
      << body_of(proxy.admin("GET", "/admin/diff"));
  ASSERT_TRUE(
      eventually([&] { return count_of(route_diff(proxy, "raw"), "compared") == kRequests; }, 10s));

  const YamlNode users = route_diff(proxy, "users");
  EXPECT_EQ(count_of(users, "different"), kRequests);
  EXPECT_EQ(count_of(users, "mirror_errors"), 0);
  // Only the price: the time and the etags are ignored, the request id is
  // noise (the two legacy instances differ on it as often).
  EXPECT_EQ(field_paths(users), std::vector<std::string>{"$.items[*].price"});
  // Listed apart, with the numbers that made it noise.
  const YamlNode& noise = *users.find("noise_fields");
  ASSERT_EQ(noise.size(), 1u) << body_of(proxy.admin("GET", "/admin/diff"));
  EXPECT_EQ(noise[0].find("path")->scalar(), "$.request_id");
  EXPECT_EQ(noise[0].find("count")->scalar(), std::to_string(kRequests));
  EXPECT_EQ(noise[0].find("noise")->scalar(), std::to_string(kRequests));
  const YamlNode& price = (*users.find("fields"))[0];
  EXPECT_EQ(price.find("count")->scalar(), std::to_string(kRequests));
  EXPECT_EQ(price.find("rate")->scalar(), "1");
  const YamlNode& samples = *users.find("samples");
  ASSERT_EQ(samples.size(), 20u);  // the last 20
  const YamlNode& sample = samples[samples.size() - 1];
  EXPECT_EQ(sample.find("target")->scalar(), "/json/u" + std::to_string(kRequests - 1));
  const YamlNode& first = (*sample.find("differences"))[0];
  EXPECT_EQ(first.find("path")->scalar(), "$.items[0].price");
  EXPECT_EQ(first.find("primary")->scalar(), "10.0");
  EXPECT_EQ(first.find("candidate")->scalar(), "12.0");
  EXPECT_EQ(sample.find("candidate")->find("headers")->find("set-cookie")->scalar(), "***");

  // Without the ignore list and the noise instance, the changing fields show.
  const std::vector<std::string> raw = field_paths(route_diff(proxy, "raw"));
  for (const char* path : {"$.items[*].etag", "$.items[*].price", "$.request_id"}) {
    EXPECT_NE(std::find(raw.begin(), raw.end(), path), raw.end()) << path;
  }

  const std::string metrics = body_of(proxy.admin("GET", "/metrics"));
  EXPECT_EQ(
      metric_value(metrics, "ferry_mirror_requests_total{route=\"users\",result=\"different\"}"),
      kRequests);
  EXPECT_EQ(metric_value(metrics,
                         "ferry_mirror_field_differences_total{route=\"users\",path=\"$."
                         "items[*].price\"}"),
            kRequests);

  EXPECT_EQ(status_of(proxy.admin("DELETE", "/admin/diff/users")), 200);
  EXPECT_EQ(count_of(route_diff(proxy, "users"), "compared"), 0);
  EXPECT_EQ(count_of(route_diff(proxy, "raw"), "compared"), kRequests);
  EXPECT_EQ(status_of(proxy.admin("DELETE", "/admin/diff/nope")), 404);
}

TEST(ProxyMirror, ATwoSecondCandidateNeitherSlowsNorFailsTheClient) {
  FailSwitch modern_slow;
  Backend legacy("legacy"), modern("modern", modern_slow.env());
  modern_slow.fail("slow 2000");
  Proxy proxy("pools:\n  legacy: { endpoints: [" + legacy.address() +
                  "] }\n  modern: { endpoints: [" + modern.address() +
                  "] }\n"
                  "routes:\n"
                  "  - { name: short, match: { path_prefix: /echo/short }, to: legacy,\n"
                  "      mirror: { pool: modern, timeout: 300ms } }\n"
                  "  - { name: users, to: legacy, mirror: { pool: modern, timeout: 5s } }\n",
              "threads: 2\n");
  // One kept-alive connection, request after request: none waits for the
  // mirror of the one before.
  RawClient client(proxy.port());
  ASSERT_TRUE(client.ok());
  constexpr int kRequests = 20;
  std::chrono::milliseconds slowest{0};
  for (int i = 0; i < kRequests; ++i) {
    const auto start = std::chrono::steady_clock::now();
    client.send("GET /echo/" + std::to_string(i) + " HTTP/1.1\r\nHost: shop.example\r\n\r\n");
    const std::string r = client.read(5s, "\"peer_port\"");
    slowest = std::max(slowest, std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::steady_clock::now() - start));
    ASSERT_EQ(status_of(r), 200) << r;
    ASSERT_EQ(backend_of(r), "legacy");
  }
  // The candidate takes 2 s per answer; the client waited for none of them.
  EXPECT_LT(slowest, 1000ms) << "a client request waited for the mirror";
  // And the mirrors were still answered and compared, after the clients.
  ASSERT_TRUE(eventually(
      [&] { return count_of(route_diff(proxy, "users"), "compared") == kRequests; }, 10s))
      << body_of(proxy.admin("GET", "/admin/diff"));
  EXPECT_EQ(count_of(route_diff(proxy, "users"), "mirror_errors"), 0);

  // A mirror timeout shorter than the candidate: every one is a mirror error,
  // named, and the clients still get their answers at once.
  for (int i = 0; i < 5; ++i) ASSERT_EQ(status_of(proxy.get("/echo/short")), 200);
  ASSERT_TRUE(
      eventually([&] { return count_of(route_diff(proxy, "short"), "mirror_errors") == 5; }, 10s));
  EXPECT_NE(route_diff(proxy, "short")
                .find("last_mirror_error")
                ->scalar()
                .find("no answer within mirror.timeout"),
            std::string::npos);
  // Said in the log at once (the first), not only counted.
  const std::string log = proxy.stop().err;
  EXPECT_NE(log.find("event=mirror_errors route=short mirror_pool=modern errors=1 "
                     "last=\"127.0.0.1:"),
            std::string::npos)
      << log;
}

TEST(ProxyMirror, SamplesUsersByTheirStickyKeyAndMirrorsWritesOnlyWhenListed) {
  Backend legacy("legacy"), modern("modern");
  Proxy proxy(
      "pools:\n  legacy: { endpoints: [" + legacy.address() + "] }\n  modern: { endpoints: [" +
      modern.address() +
      "] }\n"
      "routes:\n"
      "  - name: writes\n    match: { path_regex: \"/(echo/writes|big/.*)\" }\n    to: legacy\n"
      "    mirror: { pool: modern, methods: [GET, POST], max_body: 64KiB }\n"
      "  - name: users\n    to: legacy\n    sticky: { header: X-User-Id }\n"
      "    mirror: { pool: modern, percent: 50 }\n");
  // Half of the users, each with all of their requests: a user is mirrored
  // on every request or on none.
  constexpr int kUsers = 20, kEach = 3;
  for (int u = 0; u < kUsers; ++u) {
    for (int i = 0; i < kEach; ++i) {
      ASSERT_EQ(
          status_of(proxy.get("/echo/users", "X-User-Id: user-" + std::to_string(u) + "\r\n")),
          200);
    }
  }
  // Writes are not mirrored unless the route lists them.
  const std::string post =
      "POST /echo/users HTTP/1.1\r\nHost: shop.example\r\nX-User-Id: user-1\r\n"
      "Content-Length: 5\r\nConnection: close\r\n\r\nhello";
  for (int i = 0; i < 5; ++i) ASSERT_EQ(status_of(round_trip(proxy.port(), post)), 200);
  const int64_t mirrored = settled(proxy, "users");
  EXPECT_EQ(mirrored % kEach, 0) << mirrored << " requests mirrored: some user only in part";
  EXPECT_GT(mirrored, 0);
  EXPECT_LT(mirrored, kUsers * kEach);

  // A listed write is mirrored with its body.
  const std::string write =
      "POST /echo/writes HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 5\r\n"
      "Connection: close\r\n\r\nhello";
  ASSERT_EQ(status_of(round_trip(proxy.port(), write)), 200);
  ASSERT_TRUE(
      eventually([&] { return count_of(route_diff(proxy, "writes"), "compared") == 1; }, 10s));
  const YamlNode writes = route_diff(proxy, "writes");
  const YamlNode& sample = (*writes.find("samples"))[0];
  EXPECT_NE(sample.find("candidate")->find("body")->scalar().find("\"body_bytes\": 5"),
            std::string::npos);

  // Bodies over max_body are not compared, and the client is served as ever.
  const std::string big = proxy.get("/big/200000");
  ASSERT_EQ(status_of(big), 200);
  EXPECT_EQ(body_of(big).size(), 200000u);
  const std::string upload(100 * 1024, 'x');
  ASSERT_EQ(status_of(round_trip(proxy.port(),
                                 "POST /echo/writes HTTP/1.1\r\nHost: shop.example\r\n"
                                 "Content-Length: " +
                                     std::to_string(upload.size()) +
                                     "\r\nConnection: close\r\n\r\n" + upload)),
            200);
  ASSERT_TRUE(
      eventually([&] { return count_of(route_diff(proxy, "writes"), "skipped_large") == 2; }, 10s))
      << body_of(proxy.admin("GET", "/admin/diff"));
}

TEST(ProxyMirror, OnASplitOnlyRequestsToTheOtherPoolAreComparedAndChunkedAnswersAsData) {
  Backend legacy("legacy"), modern("modern");
  Proxy proxy("pools:\n  legacy: { endpoints: [" + legacy.address() +
              "] }\n  modern: { endpoints: [" + modern.address() +
              "] }\n"
              "routes:\n"
              "  - { name: chunked, match: { path_prefix: /chunked/ }, to: legacy,\n"
              "      mirror: { pool: modern } }\n"
              "  - name: users\n"
              "    split: [ { pool: legacy, weight: 50 }, { pool: modern, weight: 50 } ]\n"
              "    sticky: { header: X-User-Id }\n"
              "    mirror: { pool: modern }\n");
  int to_legacy = 0;
  for (int u = 0; u < 40; ++u) {
    const std::string r = proxy.get("/echo/u", "X-User-Id: user-" + std::to_string(u) + "\r\n");
    ASSERT_EQ(status_of(r), 200) << r;
    if (backend_of(r) == "legacy") ++to_legacy;
  }
  ASSERT_GT(to_legacy, 0);
  ASSERT_LT(to_legacy, 40);
  // Those the split sent to modern already have modern's answer: not mirrored.
  EXPECT_EQ(settled(proxy, "users"), to_legacy);

  // A chunked answer (three chunks and a trailer) is compared as its data,
  // the framing taken away.
  for (int i = 0; i < 3; ++i) ASSERT_EQ(status_of(proxy.get("/chunked/3/1000")), 200);
  ASSERT_TRUE(
      eventually([&] { return count_of(route_diff(proxy, "chunked"), "identical") == 3; }, 10s))
      << body_of(proxy.admin("GET", "/admin/diff"));
}

TEST(ProxyMirror, FindingsSurviveAReloadThatKeepsTheComparisonAndStartOverOtherwise) {
  Backend legacy("legacy"), modern("modern");
  const std::string pools = "pools:\n  legacy: { endpoints: [" + legacy.address() +
                            "] }\n  modern: { endpoints: [" + modern.address() + "] }\n";
  const std::string route = "routes:\n  - { name: users, to: legacy, mirror: { pool: modern";
  Proxy proxy(pools + route + " } }\n");
  for (int i = 0; i < 5; ++i) ASSERT_EQ(status_of(proxy.get("/echo/u")), 200);
  ASSERT_EQ(settled(proxy, "users"), 5);

  // A reload that changes something else (a timeout) keeps the report.
  proxy.write_config(pools + route + ", timeout: 3s } }\n");
  std::string r = proxy.admin("POST", "/admin/reload");
  ASSERT_EQ(status_of(r), 200) << r;
  EXPECT_EQ(body_of(r).find("parallel run"), std::string::npos) << r;
  EXPECT_EQ(count_of(route_diff(proxy, "users"), "compared"), 5);

  // One that changes what is compared starts it over, and says so.
  proxy.write_config(pools + route + ", compare: { headers: [content-type] } } }\n");
  r = proxy.admin("POST", "/admin/reload");
  ASSERT_EQ(status_of(r), 200) << r;
  EXPECT_NE(body_of(r).find("parallel run of 'users' starts a new report"), std::string::npos) << r;
  EXPECT_EQ(count_of(route_diff(proxy, "users"), "compared"), 0);
}

}  // namespace
}  // namespace proxytest
