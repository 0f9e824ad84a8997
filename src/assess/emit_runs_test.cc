#include "assess/emit_runs.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "assess/importers.h"
#include "core/yaml.h"

namespace ferry::assess {
namespace {

namespace fs = std::filesystem;

// An estate with one of each case: an application with the only user of its
// database, small (all at once) and big (layer by layer); a database two
// applications share; engines, kinds and strategies ferry cannot carry.
constexpr const char* kEstate = R"(
defaults: { start: 2027-01-04, pilot_size: 0 }
workloads:
  - name: shop-db
    kind: database
    data: [ { name: shop-main, engine: postgresql, size_gb: 50, change_rate_gb_per_day: 1 } ]
  - name: shop
    kind: service
    requests_per_day: 10000
    depends_on: [shop-db]
  - name: orders-db
    kind: database
    data: [ { name: orders-main, engine: postgresql, size_gb: 2000 } ]
  - name: orders
    kind: service
    requests_per_day: 5000000
    depends_on: [orders-db]
    data: [ { name: order-files, engine: s3, size_gb: 10 } ]
  - name: ledger-db
    kind: database
    data: [ { name: ledger, engine: postgresql, size_gb: 100 } ]
  - name: invoices
    kind: service
    depends_on: [ledger-db]
  - name: reports
    kind: frontend
    depends_on: [ledger-db]
  - name: wiki-db
    kind: database
    data: [ { name: wiki-mysql, engine: mysql, size_gb: 20 } ]
  - name: nightly
    kind: batch
  - name: crm
    kind: cots
    commercial_off_the_shelf: true
    saas_alternative: Odoo
  - name: old-tool
    kind: service
    redundant_with: shop
  - name: mystery
)";

struct Fixture {
  RuleSet rules = *RuleSet::parse(std::string(builtin_rules_text()), "data/rules.yaml");
  Catalog catalog = *Catalog::parse(std::string(builtin_catalog_text()), "data/catalog.yaml");
  Estate estate;  // the plan points into it
  Plan plan;
  EmittedRuns runs;

  Fixture() {
    const fs::path file =
        fs::temp_directory_path() / ("ferry_emit_runs_" + std::to_string(getpid()) + ".yaml");
    std::ofstream(file) << kEstate;
    Diagnostics warnings;
    auto loaded = load_estate({file.string()}, warnings);
    fs::remove(file);
    EXPECT_TRUE(loaded) << loaded.error().to_string();
    estate = std::move(*loaded);
    plan = build_plan(estate, rules, catalog, {});
    runs = emit_runs(plan, {{"estate.yaml"}, "plans"});
  }

  const std::string& name(size_t i) const { return plan.workloads[i].workload->name; }
  const RunPlan* run_of(const std::string& workload) const {
    for (const RunPlan& r : runs.plans) {
      if (name(r.workload) == workload) return &r;
    }
    return nullptr;
  }
  std::string text(const std::string& file) const {
    for (const auto& f : runs.files) {
      if (f.name == file) return f.text;
    }
    return "(no " + file + ")";
  }
  // "what: reason" of every exclusion of a workload.
  std::vector<std::string> excluded(const std::string& workload) const {
    std::vector<std::string> out;
    for (const RunExclusion& x : runs.exclusions) {
      if (name(x.workload) == workload) out.push_back(x.what + ": " + x.reason);
    }
    return out;
  }
  // The steps of a plan as `ferry run` reads them: "clone shop-main", ...
  std::vector<std::string> steps(const RunPlan& run) const {
    auto doc = parse_yaml(text(run.file), run.file);
    EXPECT_TRUE(doc) << doc.error().to_string();
    std::vector<std::string> out;
    const YamlNode& list = *doc->find("steps");
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string kind = list[i].key(0).scalar();
      const YamlNode& v = list[i].value(0);
      const YamlNode* what = v.is_scalar() ? &v : v.find(kind == "cutover" ? "database" : "route");
      out.push_back(kind + (kind == "approve" ? "" : " " + what->scalar()));
    }
    return out;
  }
};

TEST(EmitRuns, EveryWorkloadIsInAPlanOrListedWithItsReason) {
  Fixture f;
  std::map<std::string, std::string> where;
  for (const RunPlan& r : f.runs.plans) {
    where[f.name(r.workload)] = r.file;
    for (size_t j : r.carried) where[f.name(j)] = r.file;
  }
  for (const RunExclusion& x : f.runs.exclusions) {
    EXPECT_FALSE(x.reason.empty()) << f.name(x.workload);
    where.emplace(f.name(x.workload), x.what);
  }
  for (size_t i = 0; i < f.plan.workloads.size(); ++i) {
    EXPECT_TRUE(where.count(f.name(i))) << f.name(i) << " is in no plan and not listed";
  }
  const std::string index = f.text("README.md");
  for (const RunPlan& r : f.runs.plans) {
    EXPECT_NE(index.find("[" + r.file + "](" + r.file + ")"), std::string::npos) << r.file;
  }
  for (const RunExclusion& x : f.runs.exclusions) {
    EXPECT_NE(index.find(x.reason), std::string::npos) << x.reason;
  }
}

TEST(EmitRuns, ADatabaseMovesInThePlanOfItsOnlyApplicationElseInItsOwn) {
  Fixture f;
  const RunPlan* shop = f.run_of("shop");
  ASSERT_TRUE(shop);
  ASSERT_EQ(shop->carried.size(), 1u);
  EXPECT_EQ(f.name(shop->carried[0]), "shop-db");
  ASSERT_EQ(shop->databases.size(), 1u);
  EXPECT_EQ(shop->databases[0].name, "shop-main");
  EXPECT_EQ(shop->databases[0].variable, "SHOP_MAIN");
  EXPECT_EQ(shop->route, "shop");
  EXPECT_FALSE(f.run_of("shop-db")) << "a store is moved by one plan only";
  // Shared by two: a plan of its own, data only; each user moves its traffic.
  const RunPlan* ledger = f.run_of("ledger-db");
  ASSERT_TRUE(ledger);
  EXPECT_TRUE(ledger->route.empty());
  EXPECT_EQ(f.steps(*ledger),
            (std::vector<std::string>{"clone ledger", "follow ledger", "verify ledger", "approve",
                                      "cutover ledger", "verify ledger"}));
  EXPECT_NE(f.text(ledger->file).find("several workloads use it"), std::string::npos);
  ASSERT_TRUE(f.run_of("invoices"));
  EXPECT_EQ(f.steps(*f.run_of("invoices")),
            (std::vector<std::string>{"approve", "rollout invoices", "watch invoices"}));
  ASSERT_TRUE(f.run_of("reports"));
}

TEST(EmitRuns, WhatFerryCannotCarryIsListedWithTheReason) {
  Fixture f;
  EXPECT_EQ(f.excluded("wiki-db"),
            (std::vector<std::string>{"data store wiki-mysql (MySQL, 20 GB): MySQL: not yet "
                                      "supported by ferry db; move it by dump/restore by hand"}));
  ASSERT_EQ(f.excluded("nightly").size(), 1u);
  EXPECT_EQ(f.excluded("nightly")[0].rfind("traffic: a batch job: no HTTP traffic", 0), 0u);
  ASSERT_EQ(f.excluded("crm").size(), 1u);
  EXPECT_EQ(f.excluded("crm")[0].rfind("the workload: a repurchase: replaced by Odoo", 0), 0u);
  EXPECT_EQ(f.excluded("old-tool"),
            (std::vector<std::string>{"the workload: retired: not moving; its data is archived"}));
  ASSERT_EQ(f.excluded("mystery").size(), 1u);
  EXPECT_NE(f.excluded("mystery")[0].find("its kind is not in the inventory"), std::string::npos);
  // A plan's own store that ferry cannot move is listed, and named in its header.
  ASSERT_EQ(f.excluded("orders").size(), 1u);
  EXPECT_EQ(f.excluded("orders")[0].rfind("data store order-files (s3, 10 GB): files, not a "
                                          "database",
                                          0),
            0u);
  EXPECT_NE(f.text(f.run_of("orders")->file).find("Not in this plan: data store order-files"),
            std::string::npos);
  // Not moving comes last.
  EXPECT_EQ(f.name(f.runs.exclusions.back().workload), "old-tool");
}

TEST(EmitRuns, TheStepsFollowTheCutoverStyle) {
  Fixture f;
  const RunPlan* shop = f.run_of("shop");
  ASSERT_TRUE(shop);
  EXPECT_FALSE(shop->layer_by_layer);
  EXPECT_EQ(f.steps(*shop), (std::vector<std::string>{
                                "clone shop-main", "follow shop-main", "verify shop-main",
                                "approve", "cutover shop-main", "verify shop-main", "watch shop"}));
  // 2 TB of data: the application layer first, on the old database, then the data.
  const RunPlan* orders = f.run_of("orders");
  ASSERT_TRUE(orders);
  EXPECT_TRUE(orders->layer_by_layer);
  EXPECT_EQ(f.steps(*orders), (std::vector<std::string>{
                                  "clone orders-main", "follow orders-main", "verify orders-main",
                                  "approve", "rollout orders", "watch orders",
                                  "cutover orders-main", "verify orders-main", "watch orders"}));
  // The cutover holds the route's requests and keeps the way back.
  auto doc = parse_yaml(f.text(shop->file), shop->file);
  ASSERT_TRUE(doc);
  const YamlNode& cutover = *(*doc->find("steps"))[4].find("cutover");
  EXPECT_EQ(cutover.find("route")->scalar(), "shop");
  EXPECT_EQ(cutover.find("hold_requests")->scalar(), "5s");
  EXPECT_EQ(cutover.find("reverse")->scalar(), "true");
  EXPECT_EQ(doc->find("databases")->find("shop-main")->find("source")->scalar(),
            "${SHOP_MAIN_SOURCE_URI}");
  EXPECT_EQ(doc->find("state_dir")->scalar(), "./state/shop");
  EXPECT_EQ(doc->find("proxy")->find("admin")->scalar(), "127.0.0.1:9901");
}

TEST(EmitRuns, FilesSortInWaveOrderAndSayWhereTheyCameFrom) {
  Fixture f;
  ASSERT_FALSE(f.runs.plans.empty());
  for (size_t i = 1; i < f.runs.plans.size(); ++i) {
    EXPECT_LE(f.plan.workloads[f.runs.plans[i - 1].workload].wave,
              f.plan.workloads[f.runs.plans[i].workload].wave);
    EXPECT_LT(f.runs.plans[i - 1].file, f.runs.plans[i].file);
  }
  const RunPlan& shop = *f.run_of("shop");
  EXPECT_EQ(shop.file, fmt::format("wave-{:02}-shop.yaml", f.plan.workloads[shop.workload].wave));
  const std::string text = f.text(shop.file);
  for (const char* expected : {"# ferry run plan for shop: wave ", "from estate.yaml",
                               "#   ferry run plans/wave-", "cutover window 2027-", "Strategy ",
                               "shop-db moves in this plan because shop is the only "
                               "workload",
                               "SHOP_MAIN_SOURCE_URI", "FERRY_ADMIN_TOKEN", "#   - name: shop",
                               "Data integrity errors: Any occurrence", "ferry run abort"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
  }
  EXPECT_EQ(f.runs.files.back().name, "README.md");
}

TEST(WatchSettings, TheRollbackCriteriaBecomeTheThresholds) {
  const std::vector<RollbackRule> rules{
      {"Error rate increase", "> 2% above baseline", "Halt", {}},
      {"Latency increase", "> 100% P99 increase", "Halt", {}},
      {"Data integrity errors", "Any occurrence", "Immediate rollback", {}}};
  const WatchSettings w = watch_settings(rules, 1e6);
  EXPECT_EQ(w.max_error_rate_increase, 2);
  EXPECT_EQ(w.max_p99_ratio, 2);
  EXPECT_EQ(w.error_rate_from, "Error rate increase > 2% above baseline");
  EXPECT_TRUE(watch_checks(rules[0]));
  EXPECT_TRUE(watch_checks(rules[1]));
  EXPECT_FALSE(watch_checks(rules[2])) << "for a person: no number ferry can watch";
  // Without such criteria, ferry run's own defaults (seed 000's).
  const WatchSettings none = watch_settings({}, 1e6);
  EXPECT_EQ(none.max_error_rate_increase, 1);
  EXPECT_EQ(none.max_p99_ratio, 1.5);
  EXPECT_TRUE(none.error_rate_from.empty());
}

TEST(WatchSettings, WindowsHoldEnoughRequestsForAVerdict) {
  // A million a day: 347 in 30 s, plenty.
  WatchSettings busy = watch_settings({}, 1e6);
  EXPECT_EQ(busy.interval_seconds, 30);
  EXPECT_EQ(busy.for_seconds, 1800);
  EXPECT_EQ(busy.min_requests, 100);
  // 10,000 a day: 200 requests take 29 minutes, and the watch three windows.
  WatchSettings quiet = watch_settings({}, 10000);
  EXPECT_EQ(quiet.interval_seconds, 29 * 60);
  EXPECT_EQ(quiet.for_seconds, 3 * 29 * 60);
  EXPECT_EQ(quiet.min_requests, 100);
  // 1,000 a day: the longest window, an hour, holds 41, and 20 make a verdict.
  WatchSettings thin = watch_settings({}, 1000);
  EXPECT_EQ(thin.interval_seconds, 3600);
  EXPECT_EQ(thin.min_requests, 20);
  // No figure: the defaults, and the note says what they assume.
  WatchSettings unknown = watch_settings({}, std::nullopt);
  EXPECT_EQ(unknown.interval_seconds, 30);
  EXPECT_NE(unknown.traffic_note.find("gives no traffic figure"), std::string::npos);
}

}  // namespace
}  // namespace ferry::assess
