#include "proxy/proxy_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace ferry::proxy {
namespace {

// The example from the issue, the contract of the config's shape.
constexpr const char* kExample = R"(listen: 127.0.0.1:8080
threads: 1
admin: { listen: 127.0.0.1:9901 }
pools:
  legacy: { endpoints: [127.0.0.1:18081], health: { path: /health, interval: 2s } }
  modern: { endpoints: [127.0.0.1:18082, 127.0.0.1:18083] }
routes:
  - name: search
    match: { path_prefix: /api/search }
    to: modern
  - name: users
    match: { path_prefix: /api/users }
    override: { header: migration-flag, values: { new: modern, old: legacy } }
    split: [ { pool: legacy, weight: 90 }, { pool: modern, weight: 10 } ]
    sticky: { header: X-User-Id }
  - name: rest
    match: { path_prefix: / }
    to: legacy
)";

std::string errors_of(const std::string& text) {
  auto c = parse_proxy_config(text, "proxy.yaml");
  return c ? std::string() : c.error().message;
}

TEST(ProxyConfig, LoadsTheDocumentedExample) {
  auto c = parse_proxy_config(kExample, "proxy.yaml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->listen.host, "127.0.0.1");
  EXPECT_EQ(c->listen.port, 8080);
  ASSERT_TRUE(c->admin.listen);
  EXPECT_EQ(c->admin.listen->port, 9901);
  ASSERT_EQ(c->pools.size(), 2u);
  EXPECT_EQ(c->pools[1].endpoints.size(), 2u);
  ASSERT_TRUE(c->pools[0].health);
  EXPECT_EQ(c->pools[0].health->interval_ms, 2000);
  ASSERT_EQ(c->routes.size(), 3u);
  const RouteConfig& users = c->routes[1];
  EXPECT_EQ(users.split.size(), 2u);
  EXPECT_EQ(users.split[1].weight, 10);
  ASSERT_TRUE(users.sticky);
  EXPECT_EQ(users.sticky->name, "X-User-Id");
  EXPECT_EQ(users.sticky->salt, "users");
  ASSERT_TRUE(users.override_by);
  EXPECT_EQ(users.override_by->values[0].value, "modern");
  EXPECT_TRUE(c->routes[0].single_target);
  EXPECT_TRUE(c->warnings.empty());
}

TEST(ProxyConfig, ReportsEveryProblemWithItsLine) {
  const std::string text = R"(listen: 127.0.0.1:80x
threds: 2
pools:
  legacy: { endpoints: [127.0.0.1:18081, nohost], balance: random }
routes:
  - name: users
    match: { path_prefix: api, path_regex: "(" }
    split: [ { pool: legacy, weight: 90 }, { pool: modrn, weight: 10 } ]
    sticky: { header: X-User-Id, cookie: uid }
  - name: users
    to: legacy
    split: [ { pool: legacy, weight: 1 } ]
)";
  const std::string e = errors_of(text);
  EXPECT_NE(e.find("proxy.yaml:1:9: error: listen: '127.0.0.1:80x' is not IP:port"),
            std::string::npos)
      << e;
  EXPECT_NE(
      e.find("proxy.yaml:2:1: error: top level: unknown key 'threds' (did you mean 'threads'?)"),
      std::string::npos)
      << e;
  EXPECT_NE(e.find("proxy.yaml:4:42: error: pools.legacy.endpoints[1]: 'nohost' is not host:port"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("proxy.yaml:4:60: error: pools.legacy.balance: unknown value 'random'"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find(":7:27: error: routes[0].match.path_prefix: 'api' must start with '/'"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find(":7:44: error: routes[0].match.path_regex: '(' is not a valid RE2"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find(":8:52: error: routes[0].split[1].pool: no pool named 'modrn'"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find(":9:13: error: routes[0].sticky: give exactly one key"), std::string::npos) << e;
  EXPECT_NE(e.find(":10:5: error: routes[1]: the name 'users' is used twice"), std::string::npos)
      << e;
  EXPECT_NE(e.find(":10:5: error: routes[1]: give exactly one of 'to'"), std::string::npos) << e;
}

TEST(ProxyConfig, RequiresATokenForAnAdminOffLoopback) {
  const std::string base =
      "listen: :8080\npools: { a: { endpoints: [127.0.0.1:1] } }\n"
      "routes: [ { name: all, to: a } ]\n";
  EXPECT_NE(errors_of(base + "admin: { listen: 0.0.0.0:9901 }\n")
                .find("admin.token (or FERRY_ADMIN_TOKEN) is required"),
            std::string::npos);
  EXPECT_EQ(errors_of(base + "admin: { listen: 0.0.0.0:9901, token: s3cret }\n"), "");
  // Without a host the admin API binds 127.0.0.1: no token needed.
  EXPECT_EQ(errors_of(base + "admin: { listen: \":9901\" }\n"), "");
}

// A config in a Kubernetes ConfigMap leaves the token to a Secret, given to
// the proxy as FERRY_ADMIN_TOKEN; a token in both places is refused.
TEST(ProxyConfig, TheAdminTokenMayComeFromTheEnvironment) {
  const std::string base =
      "listen: :8080\npools: { a: { endpoints: [127.0.0.1:1] } }\n"
      "routes: [ { name: all, to: a } ]\n";
  const ProxySecrets secrets{"from-a-secret"};
  auto c = parse_proxy_config(base + "admin: { listen: 0.0.0.0:9901 }\n", "k.yaml", secrets);
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->admin.token, "from-a-secret");
  auto both = parse_proxy_config(base + "admin: { listen: 0.0.0.0:9901, token: s3cret }\n",
                                 "k.yaml", secrets);
  ASSERT_FALSE(both);
  EXPECT_NE(both.error().to_string().find("k.yaml:4:39: error: admin.token: the environment "
                                          "gives one too (FERRY_ADMIN_TOKEN)"),
            std::string::npos)
      << both.error().to_string();
}

// Binding does not resolve names, so --check refuses what the start would.
TEST(ProxyConfig, ListenAddressesAreIpLiterals) {
  const std::string rest =
      "pools: { a: { endpoints: [localhost:1] } }\nroutes: [ { name: all, to: a } ]\n";
  EXPECT_NE(errors_of("listen: localhost:8080\n" + rest)
                .find("listen: 'localhost:8080' is not IP:port, [IPv6]:port or :port"),
            std::string::npos);
  EXPECT_NE(errors_of("listen: :8080\nadmin: { listen: localhost:9901 }\n" + rest)
                .find("admin.listen: 'localhost:9901' is not IP:port"),
            std::string::npos);
  EXPECT_EQ(errors_of("listen: \"[::1]:8080\"\n" + rest), "");
}

TEST(ProxyConfig, RejectsZeroWeightsAndUnknownFallbacks) {
  const std::string base =
      "listen: :8080\npools: { a: { endpoints: [127.0.0.1:1] }, "
      "b: { endpoints: [127.0.0.1:2] } }\n";
  EXPECT_NE(errors_of(base + "routes: [ { name: r, split: [ {pool: a, weight: 0}, "
                             "{pool: b, weight: 0} ] } ]\n")
                .find("the weights add up to 0"),
            std::string::npos);
  EXPECT_NE(errors_of(base + "routes: [ { name: r, split: [ {pool: a, weight: 1}, "
                             "{pool: b, weight: 1} ], sticky: { header: u, fallback: c } } ]\n")
                .find("fallback: 'c' is neither 'random' nor a pool"),
            std::string::npos);
}

TEST(ProxyConfig, ReadsARolloutAndChecksItsSteps) {
  const std::string base =
      "listen: :8080\npools: { legacy: { endpoints: [127.0.0.1:1] }, "
      "modern: { endpoints: [127.0.0.1:2] } }\n"
      "routes:\n  - name: users\n"
      "    split: [ { pool: legacy, weight: 100 }, { pool: modern, weight: 0 } ]\n";
  auto c = parse_proxy_config(
      base +
          "    rollout:\n      to: modern\n"
          "      steps: [ { weight: 10, pause: 5m }, { weight: 50, pause: 10m }, { weight: 100 } "
          "]\n"
          "      analysis: { interval: 30s, max_error_rate_increase: 1.0, max_p99_ratio: 1.5, "
          "min_requests: 100, inconclusive_for: 10m }\n",
      "p.yaml");
  ASSERT_TRUE(c) << c.error().message;
  const RolloutConfig& r = *c->routes[0].rollout;
  EXPECT_EQ(r.to, "modern");
  EXPECT_EQ(r.from, "legacy");
  ASSERT_EQ(r.steps.size(), 3u);
  EXPECT_EQ(r.steps[1].weight, 50);
  EXPECT_EQ(r.steps[1].pause_ms, 600'000);
  EXPECT_EQ(r.steps[2].pause_ms, 0);
  EXPECT_EQ(r.analysis.interval_ms, 30'000);
  EXPECT_DOUBLE_EQ(r.analysis.max_p99_ratio, 1.5);
  EXPECT_EQ(r.analysis.min_requests, 100);
  EXPECT_EQ(r.analysis.inconclusive_for_ms, 600'000);

  const std::string bad = errors_of(
      base +
      "    rollout:\n      to: modren\n"
      "      steps: [ { weight: 50, pause: 1m }, { weight: 40, pause: 1m }, "
      "{ weight: 100, pause: 1m } ]\n"
      "      analysis: { interval: 1m, inconclusive_for: 30s, max_p99_ratio: 0.5, wait: 1 }\n");
  EXPECT_NE(bad.find("routes[0].rollout.to: a rollout moves traffic between the two pools"),
            std::string::npos)
      << bad;
  EXPECT_NE(bad.find("(did you mean 'modern'?)"), std::string::npos) << bad;
  EXPECT_NE(bad.find("steps[1].weight: 40 is not above the previous step's 50"), std::string::npos)
      << bad;
  EXPECT_NE(bad.find("steps[2].pause: at weight 100 the old side gets no requests"),
            std::string::npos)
      << bad;
  EXPECT_NE(bad.find("max_p99_ratio"), std::string::npos) << bad;
  EXPECT_NE(bad.find("inconclusive_for: 30000 ms is shorter than one interval"), std::string::npos)
      << bad;
  EXPECT_NE(bad.find("'wait'"), std::string::npos) << bad;
}

TEST(ProxyConfig, ReadsAMirrorAndChecksItsFields) {
  const std::string base =
      "listen: :8080\npools: { legacy: { endpoints: [127.0.0.1:1] }, "
      "modern: { endpoints: [127.0.0.1:2] } }\n"
      "routes:\n  - name: users\n    match: { path_prefix: /api/users }\n    to: legacy\n";
  auto c = parse_proxy_config(base +
                                  "    mirror:\n      pool: modern\n      percent: 10%\n"
                                  "      max_body: 64KiB\n      timeout: 2s\n"
                                  "      compare:\n        headers: [Content-Type]\n"
                                  "        ignore_json: [\"$.generated_at\", "
                                  "\"$.items[*].etag\"]\n"
                                  "        noise: { pool: legacy }\n"
                                  "      redact: [X-Api-Key]\n",
                              "p.yaml");
  ASSERT_TRUE(c) << c.error().message;
  const MirrorConfig& m = *c->routes[0].mirror;
  EXPECT_EQ(m.pool, "modern");
  EXPECT_DOUBLE_EQ(m.percent, 10);
  EXPECT_TRUE(m.mirrors_method("GET"));
  EXPECT_TRUE(m.mirrors_method("HEAD"));
  EXPECT_FALSE(m.mirrors_method("POST"));  // only safe methods unless listed
  EXPECT_EQ(m.max_body_bytes, 64 * 1024);
  EXPECT_EQ(m.timeout_ms, 2000);
  EXPECT_EQ(m.compare.headers, std::vector<std::string>{"content-type"});
  ASSERT_EQ(m.compare.ignore.size(), 2u);
  EXPECT_EQ(m.compare.ignore[1].text, "$.items[*].etag");
  EXPECT_EQ(m.noise_pool, "legacy");
  EXPECT_EQ(m.redact, std::vector<std::string>{"x-api-key"});
  EXPECT_TRUE(c->warnings.empty());

  auto writes =
      parse_proxy_config(base + "    mirror: { pool: modern, methods: [GET, POST] }\n", "p.yaml");
  ASSERT_TRUE(writes) << writes.error().message;
  ASSERT_EQ(writes->warnings.size(), 1u);
  EXPECT_NE(writes->warnings[0].find("methods[1]: POST requests change data"), std::string::npos)
      << writes->warnings[0];

  const std::string bad =
      errors_of(base +
                "    mirror:\n      pool: legacy\n      percent: 150\n      methods: [get]\n"
                "      compare: { ignore_json: [\"items\"], noise: { pool: legasy } }\n"
                "      sample: 1\n");
  EXPECT_NE(
      bad.find("proxy.yaml:8:13: error: routes[0].mirror.pool: 'legacy' is the pool the route "
               "sends to"),
      std::string::npos)
      << bad;
  EXPECT_NE(bad.find("mirror.percent: '150' is not a share above 0 and at most 100"),
            std::string::npos)
      << bad;
  EXPECT_NE(bad.find("mirror.methods[0]: 'get' is not an HTTP method in upper case"),
            std::string::npos)
      << bad;
  EXPECT_NE(bad.find("mirror.compare.ignore_json[0]: "), std::string::npos) << bad;
  EXPECT_NE(bad.find("mirror.compare.noise.pool: no pool named 'legasy' (did you mean 'legacy'?)"),
            std::string::npos)
      << bad;
  EXPECT_NE(bad.find("'sample'"), std::string::npos) << bad;

  // The noise instance is a second primary, asked only what is safe twice.
  const std::string noise =
      errors_of(base +
                "    mirror: { pool: modern, methods: [GET, POST], compare: { noise: { pool: "
                "legacy } }, max_in_flight: 0 }\n");
  EXPECT_NE(noise.find("compare.noise.pool: with POST in methods, every sampled write would "
                       "also reach pool 'legacy' a second time"),
            std::string::npos)
      << noise;
  EXPECT_NE(noise.find("mirror.max_in_flight"), std::string::npos) << noise;
  const std::string itself =
      errors_of(base + "    mirror: { pool: modern, compare: { noise: { pool: modern } } }\n");
  EXPECT_NE(itself.find("compare.noise.pool: 'modern' is the mirror pool"), std::string::npos)
      << itself;
}

TEST(ProxyConfig, WarnsThatARolloutWithoutStateDirIsForgottenOnRestart) {
  const std::string body =
      "pools: { legacy: { endpoints: [127.0.0.1:1] }, modern: { endpoints: [127.0.0.1:2] } }\n"
      "routes:\n  - name: users\n"
      "    split: [ { pool: legacy, weight: 100 }, { pool: modern, weight: 0 } ]\n"
      "    rollout: { to: modern, steps: [ { weight: 100 } ] }\n";
  auto c = parse_proxy_config("listen: :8080\n" + body, "p.yaml");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->warnings.size(), 1u);
  EXPECT_NE(c->warnings[0].find("p.yaml:4:5: warning: routes[0].rollout: without state_dir the "
                                "rollout's state (step, weights, verdicts) does not survive a "
                                "restart"),
            std::string::npos)
      << c->warnings[0];

  c = parse_proxy_config("listen: :8080\nstate_dir: /var/lib/ferry/proxy\n" + body, "p.yaml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->state_dir, "/var/lib/ferry/proxy");
  EXPECT_TRUE(c->warnings.empty());
  EXPECT_NE(errors_of("listen: :8080\nstate_dir: ''\n" + body)
                .find("proxy.yaml:2:12: error: state_dir: "),
            std::string::npos)
      << errors_of("listen: :8080\nstate_dir: ''\n" + body);
}

TEST(ProxyConfig, WarnsAboutRoutesThatCanNeverMatch) {
  auto c = parse_proxy_config(
      "listen: :8080\npools: { a: { endpoints: [127.0.0.1:1] } }\n"
      "routes:\n  - { name: all, match: { path_prefix: / }, to: a }\n"
      "  - { name: late, match: { path: /x }, to: a }\n",
      "p.yaml");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->warnings.size(), 1u);
  EXPECT_NE(c->warnings[0].find("p.yaml:5:5: warning: routes[1] ('late') can never match"),
            std::string::npos)
      << c->warnings[0];
}

// The files docs/proxy.md points newcomers to must load as they are.
TEST(ProxyConfig, EveryShippedExampleLoadsWithoutWarnings) {
  int loaded = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(FERRY_SOURCE_DIR) + "/examples/proxy")) {
    if (entry.path().extension() != ".yaml") continue;
    auto c = load_proxy_config(entry.path().string());
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_TRUE(c->warnings.empty()) << entry.path() << ": " << c->warnings[0];
    ++loaded;
  }
  EXPECT_GE(loaded, 5);
}

TEST(HostPort, ParsesTheUsualForms) {
  EXPECT_EQ(parse_host_port("127.0.0.1:80")->port, 80);
  EXPECT_EQ(parse_host_port("[::1]:8080")->host, "::1");
  EXPECT_EQ(parse_host_port(":9")->host, "");
  EXPECT_FALSE(parse_host_port("::1:80"));
  EXPECT_FALSE(parse_host_port("host"));
  EXPECT_FALSE(parse_host_port("host:70000"));
  EXPECT_FALSE(parse_host_port("a b:1"));
}

}  // namespace
}  // namespace ferry::proxy
