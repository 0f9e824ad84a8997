// ferry assess --emit-runs end to end: the example estate's plans written,
// then each one checked by `ferry run PLAN --dry-run` against real servers:
// two PostgreSQL databases of the CTest fixture and a real `ferry proxy`
// whose routes are the ones the plans' headers give as examples. Only what a
// person fills in is filled in: the connection variables and the proxy's
// admin address.
#include <numeric>
#include <regex>
#include <set>

#include "pg_harness.h"
#include "proxy_harness.h"

namespace {

namespace fs = std::filesystem;

using pgtest::PgTest;
using pgtest::run_ferry;

std::vector<fs::path> plans_in(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".yaml") out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The route a plan's header gives as an example for the proxy's config,
// uncommented ("" for a plan without a route).
std::string example_route(const std::string& plan) {
  std::string out;
  bool in_example = false;
  std::istringstream lines(plan);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("#   - name: ", 0) == 0) in_example = true;
    if (in_example && line.rfind("#   ", 0) != 0) break;
    if (in_example) out += line.substr(1) + "\n";
  }
  return out;
}

class AssessEmitRuns : public PgTest {};

TEST_F(AssessEmitRuns, EveryPlanOfTheExampleEstatePassesItsDryRun) {
  make_source();
  make_target();
  const fs::path dir = dir_ / "plans";
  ferry_test::Outcome assess =
      run_ferry({"assess", "examples/estate.yaml", "--emit-runs", dir.string()});
  ASSERT_EQ(assess.status, 0) << assess.err;
  EXPECT_TRUE(pgtest::has(assess.out, "ferry assess: 36 workloads")) << "the plan still prints";
  EXPECT_TRUE(pgtest::has(assess.err, "run plans to " + dir.string())) << assess.err;
  const std::vector<fs::path> plans = plans_in(dir);
  ASSERT_GE(plans.size(), 3u);
  const std::string index = ferry_test::slurp(dir / "README.md");
  EXPECT_TRUE(pgtest::has(index, "MySQL: not yet supported by ferry db")) << index;

  // A proxy with every route the plans ask for, as their headers show it.
  std::string routes;
  for (const auto& plan : plans) routes += example_route(ferry_test::slurp(plan));
  proxytest::Backend legacy("legacy"), modern("modern");
  proxytest::Proxy proxy("pools:\n  legacy: { endpoints: [" + legacy.address() +
                         "] }\n  modern: { endpoints: [" + modern.address() + "] }\nroutes:\n" +
                         routes);
  const std::string admin = "127.0.0.1:" + std::to_string(proxy.admin_port());

  std::set<std::string> kinds_seen;
  for (const auto& plan : plans) {
    SCOPED_TRACE(plan.filename().string());
    std::string text = ferry_test::slurp(plan);
    text = std::regex_replace(text, std::regex("admin: 127\\.0\\.0\\.1:9901"), "admin: " + admin);
    std::ofstream(plan) << text;
    // Each store's two variables: the test's databases.
    ferry_test::Env env;
    const std::regex variable("\\$\\{([A-Z0-9_]+)_(SOURCE|TARGET)_URI\\}");
    for (std::sregex_iterator m(text.begin(), text.end(), variable), end; m != end; ++m) {
      env.emplace_back((*m)[0].str().substr(2, (*m)[0].length() - 3),
                       (*m)[2] == "SOURCE" ? source() : target());
    }
    ferry_test::Outcome r = run_ferry({"run", plan.string(), "--dry-run", "-f", "json"}, env);
    ASSERT_NE(r.status, 3) << "the plan is invalid:\n" << r.err;
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    const ferry::YamlNode doc = pgtest::parse_json(r.out);
    EXPECT_EQ(pgtest::field(doc, "ok"), "true");
    const ferry::YamlNode& steps = *doc.find("plan")->find("steps");
    ASSERT_GE(steps.size(), 3u);
    std::string kinds;
    for (size_t i = 0; i < steps.size(); ++i) kinds += pgtest::field(steps[i], "kind") + " ";
    kinds_seen.insert(kinds);
    const ferry::YamlNode& checks = *doc.find("preflight");
    for (size_t i = 0; i < checks.size(); ++i) {
      EXPECT_EQ(pgtest::field(checks[i], "ok"), "true")
          << pgtest::field(checks[i], "subject") << ": " << pgtest::field(checks[i], "detail");
    }
  }
  // A database with its application (all at once), a shared database (data
  // only), a stateless service (traffic only).
  const std::string seen =
      std::accumulate(kinds_seen.begin(), kinds_seen.end(), std::string(),
                      [](std::string a, const std::string& b) { return std::move(a) + "\n" + b; });
  EXPECT_TRUE(kinds_seen.count("clone follow verify approve cutover verify watch ")) << seen;
  EXPECT_TRUE(kinds_seen.count("clone follow verify approve cutover verify "));
  EXPECT_TRUE(kinds_seen.count("approve rollout watch "));
  // Nothing was changed: no journal directory, no replication slot.
  EXPECT_FALSE(fs::exists(dir / "state"));
  EXPECT_EQ(pgtest::psql(source(),
                         "SELECT count(*) FROM pg_replication_slots WHERE database = "
                         "current_database()"),
            "0");
}

}  // namespace
