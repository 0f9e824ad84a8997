// `ferry proxy rollout` against a real proxy: the status table and each
// action through the admin API, the API's refusals as the command's errors
// (exit 3), JSON passed through, an address nobody listens on (exit 4), and
// the admin token from a file or the environment.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "proxy_harness.h"

namespace proxytest {
namespace {

// Two routes with a rollout each: orders (/orders) and users (the rest).
std::string two_rollouts(const Backend& legacy, const Backend& modern) {
  return "pools:\n  legacy: { endpoints: [" + legacy.address() +
         "] }\n"
         "  modern: { endpoints: [" +
         modern.address() +
         "] }\n"
         "routes:\n"
         "  - name: orders\n    match: { path_prefix: /orders }\n"
         "    split: [ { pool: legacy, weight: 100 }, { pool: modern, weight: 0 } ]\n"
         "    rollout: { to: modern, steps: [ { weight: 50, pause: 1m }, { weight: 100 } ] }\n"
         "  - name: users\n"
         "    split: [ { pool: legacy, weight: 100 }, { pool: modern, weight: 0 } ]\n"
         "    rollout:\n      to: modern\n"
         "      steps: [ { weight: 20, pause: 10m }, { weight: 50, pause: 10m }, { weight: 100 } "
         "]\n"
         "      analysis: { interval: 200ms, min_requests: 1, max_p99_ratio: 1000 }\n";
}

Outcome rollout_cli(const Proxy& proxy, std::vector<std::string> args, const Env& env = {}) {
  std::vector<std::string> argv{FERRY_BINARY, "proxy", "rollout"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--admin");
  argv.push_back("127.0.0.1:" + std::to_string(proxy.admin_port()));
  return run(argv, env);
}

TEST(ProxyRolloutCli, ShowsAndDrivesTheRolloutsOfARunningProxy) {
  Backend legacy("legacy"), modern("modern");
  Proxy proxy(two_rollouts(legacy, modern));

  Outcome o = rollout_cli(proxy, {"status"});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out,
            "ROUTE   STATE    STEP  WEIGHTS              LAST VERDICT\n"
            "orders  pending  0/2   legacy=100 modern=0  -\n"
            "users   pending  0/3   legacy=100 modern=0  -\n");

  o = rollout_cli(proxy, {"start", "users"});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_NE(o.out.find("users  running  1/3 ("), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(" of 10m)  legacy=80 modern=20  -\n"), std::string::npos) << o.out;

  // Traffic, until a verdict with its numbers shows.
  ASSERT_TRUE(eventually(
      [&] {
        for (int i = 0; i < 10; ++i) proxy.get("/users/1");
        return rollout_cli(proxy, {"status", "users"}).out.find("pass ") != std::string::npos;
      },
      10s));
  o = rollout_cli(proxy, {"status", "users"});
  EXPECT_EQ(o.out.find("orders"), std::string::npos) << "one route asked for:\n" << o.out;
  EXPECT_NE(o.out.find(" ago: modern "), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("% 5xx p99 "), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(", legacy "), std::string::npos) << o.out;

  o = rollout_cli(proxy, {"pause", "users"});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_NE(o.out.find("users  paused  1/3   legacy=80 modern=20  "), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("\n       reason: admin\n"), std::string::npos) << o.out;

  // The API's refusals, with its message.
  o = rollout_cli(proxy, {"pause", "users"});
  EXPECT_EQ(o.status, 3);
  EXPECT_NE(o.err.find("answered 409: cannot pause the rollout of 'users': it is paused"),
            std::string::npos)
      << o.err;
  o = rollout_cli(proxy, {"start", "nope"});
  EXPECT_EQ(o.status, 3);
  EXPECT_NE(o.err.find("answered 404: no rollout on a route named 'nope'"), std::string::npos)
      << o.err;
  o = rollout_cli(proxy, {"status", "nope", "-f", "json"});
  EXPECT_EQ(o.status, 3);
  EXPECT_NE(o.out.find("\"ok\": false"), std::string::npos) << o.out;

  // JSON as the API gives it.
  o = rollout_cli(proxy, {"status", "users", "-f", "json"});
  ASSERT_EQ(o.status, 0) << o.err;
  const std::string api = body_of(proxy.admin("GET", "/admin/rollouts/users"));
  EXPECT_EQ(o.out.substr(0, o.out.find("\"step_elapsed_ms\"")),
            api.substr(0, api.find("\"step_elapsed_ms\"")));
  EXPECT_NE(o.out.find("\"state\": \"paused\""), std::string::npos) << o.out;

  o = rollout_cli(proxy, {"abort", "users"});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_NE(o.out.find("users  aborted  1/3   legacy=100 modern=0"), std::string::npos) << o.out;
  o = rollout_cli(proxy, {"promote", "orders"});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_NE(o.out.find("orders  promoted  2/2   legacy=0 modern=100  -\n"), std::string::npos)
      << o.out;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(backend_of(proxy.get("/orders/1")), "modern");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(backend_of(proxy.get("/users/1")), "legacy");
}

TEST(ProxyRolloutCli, AnAddressNobodyListensOnIsNamed) {
  const std::string address = "127.0.0.1:" + std::to_string(free_port());
  const Outcome o = run({FERRY_BINARY, "proxy", "rollout", "status", "--admin", address});
  EXPECT_EQ(o.status, 4) << o.err;
  EXPECT_NE(o.err.find("the admin API at " + address + ": connecting: Connection refused"),
            std::string::npos)
      << o.err;
  EXPECT_TRUE(o.out.empty()) << o.out;
}

TEST(ProxyRolloutCli, TheTokenComesFromAFileOrTheEnvironment) {
  Backend legacy("legacy"), modern("modern");
  Proxy proxy(two_rollouts(legacy, modern), "", {{"FERRY_ADMIN_TOKEN", "s3cret"}});
  Outcome o = rollout_cli(proxy, {"status"});
  EXPECT_EQ(o.status, 3);
  EXPECT_NE(o.err.find("answered 401: missing or wrong token"), std::string::npos) << o.err;

  const fs::path token = scratch_dir() / ("token_" + std::to_string(proxy.port()));
  std::ofstream(token) << "s3cret\n";
  o = rollout_cli(proxy, {"status", "--token-file", token.string()});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_NE(o.out.find("users   pending"), std::string::npos) << o.out;
  o = rollout_cli(proxy, {"start", "orders"}, {{"FERRY_ADMIN_TOKEN", "s3cret"}});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_NE(o.out.find("orders  running"), std::string::npos) << o.out;

  o = rollout_cli(proxy, {"status", "--token-file", token.string() + ".missing"});
  EXPECT_EQ(o.status, 4);
  EXPECT_NE(o.err.find("--token-file " + token.string() + ".missing"), std::string::npos) << o.err;
  fs::remove(token);
}

}  // namespace
}  // namespace proxytest
