#include "assess/importers.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace ferry::assess {
namespace {

CsvTable table_of(std::string_view text) {
  auto table = parse_csv(text, "test.csv");
  EXPECT_TRUE(table) << table.error().to_string();
  return table ? *table : CsvTable{};
}

// Files for load_estate(), removed at the end of each test.
class TempDir {
 public:
  TempDir()
      : dir_(std::filesystem::temp_directory_path() /
             ("ferry_import_" + std::to_string(getpid()) + "_" + std::to_string(counter_++))) {
    std::filesystem::create_directories(dir_);
  }
  ~TempDir() { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    auto path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

 private:
  static inline int counter_ = 0;
  std::filesystem::path dir_;
};

TEST(NativeYaml, ReadsTheFullModel) {
  PlanningDefaults d;
  Diagnostics diags;
  auto ws =
      import_native_yaml(R"(defaults: { bandwidth_gbps: 10, link_efficiency: 0.5, pilot_size: 2 }
workloads:
  - name: web-api
    kind: service
    technology: Node.js 16
    criticality: high
    data_classification: tier1
    containerized: true
    remaining_lifespan_years: 6
    redundant_with: null
    saas_alternative: ~
    cloud_services: [RDS PostgreSQL, S3]
    data:
      - { name: main-db, engine: PostgreSQL, size_gb: 16000, change_rate_gb_per_day: 40.5 }
    depends_on: [user-db]
    depends_on_soft: [search]
    downtime_budget_minutes: 5
)",
                         "e.yaml", d, diags);
  ASSERT_FALSE(diags.has_errors()) << diags.to_string();
  ASSERT_EQ(ws.size(), 1u);
  const Workload& w = ws[0];
  EXPECT_EQ(d.bandwidth_gbps, 10);
  EXPECT_EQ(d.link_efficiency, 0.5);
  EXPECT_EQ(d.pilot_size, 2);
  EXPECT_EQ(w.kind, "service");
  EXPECT_EQ(w.criticality, "high");
  EXPECT_EQ(w.containerized, true);
  EXPECT_FALSE(w.stateful);
  EXPECT_EQ(w.redundant_with, "");  // null: known to be none
  EXPECT_EQ(w.saas_alternative, "");
  EXPECT_EQ(w.cloud_services, (std::vector<std::string>{"RDS PostgreSQL", "S3"}));
  ASSERT_EQ(w.data.size(), 1u);
  EXPECT_EQ(w.data[0].engine, "postgresql");
  EXPECT_EQ(w.data[0].change_rate_gb_per_day, 40.5);
  ASSERT_EQ(w.depends_on.size(), 1u);
  EXPECT_EQ(w.depends_on[0].where.to_string(), "e.yaml:15:18");
  EXPECT_EQ(w.depends_on_soft[0].name, "search");
}

TEST(NativeYaml, ReportsEveryProblemAtOnce) {
  PlanningDefaults d;
  Diagnostics diags;
  import_native_yaml(R"(defaults: { bandwith_gbps: 1 }
workloads:
  - name: a
    kind: servise
    criticallity: high
    containerized: maybe
    data: [ { name: db, size_gb: -1 } ]
  - kind: batch
)",
                     "bad.yaml", d, diags);
  const std::string all = diags.to_string();
  EXPECT_NE(all.find("bad.yaml:1:13: error: defaults: unknown key 'bandwith_gbps' (did you mean "
                     "'bandwidth_gbps'?)"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("bad.yaml:4:11: error: workloads[0].kind: unknown value 'servise' (did you "
                     "mean 'service'?)"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("bad.yaml:5:5: error: workloads[0]: unknown key 'criticallity' (did you mean "
                     "'criticality'?)"),
            std::string::npos)
      << all;
  EXPECT_NE(
      all.find(
          "bad.yaml:6:20: error: workloads[0].containerized: expected true or false, got 'maybe'"),
      std::string::npos)
      << all;
  EXPECT_NE(all.find("workloads[0].data[0].size_gb: -1 is out of range"), std::string::npos) << all;
  EXPECT_NE(all.find("bad.yaml:8:5: error: workloads[1]: missing required field 'name'"),
            std::string::npos)
      << all;
  EXPECT_EQ(diags.error_count(), 6u) << all;
}

TEST(SeedCsv, ReadsTheSeedInventory) {
  Diagnostics diags;
  auto ws = import_seed_csv(
      table_of(R"(Application,Technology,Dependencies,Traffic,Data Store,Critical,Owner
web-api,Node.js 16,PostgreSQL/Redis,10k req/day,RDS,High,Platform Team
admin-portal,React,web-api,100 users,None,Medium,Admin Team
batch-processor,Python,S3/SQS,Hourly,None,Low,Data Team
)"),
      "inv.csv", diags);
  ASSERT_FALSE(diags.has_errors()) << diags.to_string();
  ASSERT_EQ(ws.size(), 3u);
  EXPECT_EQ(ws[0].requests_per_day, 10000);
  EXPECT_EQ(ws[0].criticality, "high");
  // Dependencies and Data Store tokens are resolved once every file is loaded.
  ASSERT_EQ(ws[0].depends_on.size(), 3u);
  EXPECT_EQ(ws[0].depends_on[2].name, "RDS");
  EXPECT_TRUE(ws[0].depends_on[2].loose);
  EXPECT_EQ(ws[1].active_users, 100);
  EXPECT_EQ(ws[2].kind, "batch");
  EXPECT_EQ(ws[2].requests_per_day, 24);
  EXPECT_EQ(ws[2].where.to_string(), "inv.csv:4");
}

TEST(SeedCsv, MissingColumnsAndBadValuesAreNamed) {
  Diagnostics diags;
  import_seed_csv(table_of("Application,Technology,Dependencies,Data Store,Critical\nx,Go,,,,\n"),
                  "m.csv", diags);
  EXPECT_NE(diags.to_string().find("m.csv:1: error: missing column 'Traffic'"), std::string::npos)
      << diags.to_string();
  EXPECT_NE(diags.to_string().find("missing column 'Owner'"), std::string::npos);
  Diagnostics bad;
  import_seed_csv(table_of("Application,Technology,Dependencies,Traffic,Data "
                           "Store,Critical,Owner\na,Go,,lots,,Hgih,me\n"),
                  "b.csv", bad);
  EXPECT_NE(
      bad.to_string().find("b.csv:2: error: Critical: unknown value 'Hgih' (did you mean 'high'?)"),
      std::string::npos)
      << bad.to_string();
  EXPECT_NE(bad.to_string().find("b.csv:2: warning: Traffic: 'lots' not understood"),
            std::string::npos);
}

TEST(KonveyorCsv, ApplicationsTagsAndDirectedDependencies) {
  Diagnostics diags;
  auto ws =
      import_konveyor_csv(table_of("Record Type 1,Application Name,Description,Comments,Business "
                                   "Service,Dependency,Dependency Direction,"
                                   "Binary Group,Binary Artifact,Binary Version,Binary "
                                   "Packaging,Repository Type,Repository URL,"
                                   "Repository Branch,Repository Path,Owner,Contributors,Tag "
                                   "Category 1,Tag 1,Tag Category 2,Tag 2\n"
                                   "1,orders,Order capture,,Commerce,,,,,,,,,,,Jan Novak "
                                   "<jan@x.example>,,Language,Java,Runtime,Quarkus\n"
                                   "1,payments,,,,,,,,,,,,,,,,,,,\n"
                                   "1,ldap,,,,,,,,,,,,,,,,,,,\n"
                                   "2,orders,,,,payments,southbound,,,,,,,,,,,,,,\n"
                                   "2,ldap,,,,payments,Northbound,,,,,,,,,,,,,,\n"),
                          "k.csv", diags);
  ASSERT_FALSE(diags.has_errors()) << diags.to_string();
  ASSERT_EQ(ws.size(), 3u);
  EXPECT_EQ(ws[0].owner, "Jan Novak");
  EXPECT_EQ(ws[0].technology, "Java, Quarkus");
  EXPECT_EQ(ws[0].tags, (std::vector<std::string>{"Business Service/Commerce", "Language/Java",
                                                  "Runtime/Quarkus"}));
  ASSERT_EQ(ws[0].depends_on.size(), 1u);  // southbound: orders depends on payments
  EXPECT_EQ(ws[0].depends_on[0].name, "payments");
  ASSERT_EQ(ws[1].depends_on.size(), 1u);  // northbound: payments depends on ldap
  EXPECT_EQ(ws[1].depends_on[0].name, "ldap");
}

TEST(KonveyorCsv, BadRowsAreNamed) {
  Diagnostics diags;
  import_konveyor_csv(table_of("Record Type 1,Application Name,Description,Comments,Business "
                               "Service,Dependency,Dependency Direction\n"
                               "3,x,,,,,\n1,a,,,,,\n2,a,,,,b,sideways\n2,ghost,,,,a,southbound\n"),
                      "k.csv", diags);
  const std::string all = diags.to_string();
  EXPECT_NE(all.find("k.csv:2: error: Record Type: '3' is neither 1"), std::string::npos) << all;
  EXPECT_NE(all.find("k.csv:4: error: Dependency Direction: unknown value 'sideways'"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("k.csv:5: error: application 'ghost' has no record type 1 row"),
            std::string::npos)
      << all;
}

TEST(AwsDiscoveryCsv, GroupsServersIntoApplications) {
  Diagnostics diags;
  auto ws = import_aws_discovery_csv(
      table_of("ExternalId,IPAddress,HostName,CPU.NumberOfCores,RAM.TotalSizeInMB,OS.Name,OS."
               "Version,Applications,"
               "ApplicationWave,Tags\n"
               "1,10.0.0.1,app1,4,16384,Ubuntu,22.04,billing,Wave 2,\"owner:finance, "
               "criticality:high\"\n"
               "2,\"10.0.0.2, 10.0.0.3\",db1,8,65536,Ubuntu,22.04,\"billing, warehouse\",Wave "
               "2,critical:no\n"
               "3,10.0.0.4,orphan,2,2048,Ubuntu,22.04,,,\n"
               ",,,,,,,billing,,\n"),
      "aws.csv", diags);
  ASSERT_EQ(ws.size(), 2u);
  const Workload& billing = ws[0];
  EXPECT_EQ(billing.name, "billing");
  ASSERT_EQ(billing.servers.size(), 2u);
  EXPECT_EQ(billing.servers[1].ip, "10.0.0.2");
  EXPECT_EQ(billing.servers[1].cpus, 8);
  EXPECT_EQ(billing.servers[1].ram_gb, 64);
  EXPECT_EQ(billing.owner, "finance");
  EXPECT_EQ(billing.criticality, "high");
  EXPECT_EQ(billing.wave_hint, 2);
  EXPECT_EQ(billing.containerized, false);
  EXPECT_EQ(ws[1].name, "warehouse");
  EXPECT_EQ(ws[1].criticality, "low");
  const std::string all = diags.to_string();
  EXPECT_NE(all.find("aws.csv:4: warning: server orphan belongs to no application"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("aws.csv:5: error: a server needs one of ExternalId"), std::string::npos)
      << all;
}

TEST(LoadEstate, MergesFilesByNameAndResolvesCsvDependencies) {
  TempDir dir;
  auto csv = dir.write("inv.csv",
                       "Application,Technology,Dependencies,Traffic,Data Store,Critical,Owner\n"
                       "web-api,Node.js 16,PostgreSQL/Redis,10k req/day,RDS,High,Platform Team\n"
                       "admin-portal,React,Web-API,100 users,None,Medium,Admin Team\n"
                       "batch-processor,Python,S3/SQS,Hourly,None,Low,Data Team\n");
  auto yaml = dir.write(
      "more.yaml",
      "workloads:\n"
      "  - { name: web-api, criticality: critical, containerized: true, cloud_services: [S3],\n"
      "      data: [ { name: main-db, engine: postgresql, size_gb: 500 } ] }\n"
      "  - { name: search, depends_on: [web-api] }\n");
  Diagnostics warnings;
  auto estate = load_estate({csv, yaml}, warnings);
  ASSERT_TRUE(estate) << estate.error().to_string();
  ASSERT_EQ(estate->workloads.size(), 4u);
  const Workload& api = estate->workloads[0];
  EXPECT_EQ(api.criticality, "critical");  // the later file wins
  EXPECT_EQ(api.containerized, true);
  EXPECT_EQ(api.technology, "Node.js 16");  // kept from the CSV
  EXPECT_EQ(api.cloud_services, (std::vector<std::string>{"S3", "RDS"}));
  // PostgreSQL is the YAML's main-db, not a second, made-up store; Redis is new.
  ASSERT_EQ(api.data.size(), 2u);
  EXPECT_EQ(api.data[0].name, "main-db");
  EXPECT_EQ(api.data[1].name, "web-api-redis");
  EXPECT_FALSE(api.data[1].size_gb);
  EXPECT_TRUE(api.depends_on.empty());
  EXPECT_EQ(api.sources, (std::vector<std::string>{csv, yaml}));
  EXPECT_NE(
      warnings.to_string().find("web-api.criticality: this file's value replaces the one from"),
      std::string::npos);
  // "Web-API" names the workload web-api; S3/SQS are services, not workloads.
  ASSERT_EQ(estate->workloads[1].depends_on.size(), 1u);
  EXPECT_EQ(estate->workloads[1].depends_on[0].name, "web-api");
  EXPECT_TRUE(estate->workloads[2].depends_on.empty());
  EXPECT_EQ(estate->workloads[2].cloud_services, (std::vector<std::string>{"S3", "SQS"}));
}

TEST(LoadEstate, SpreadsheetTokenNamingAWorkloadIsAnEdgeNotAnEngine) {
  TempDir dir;
  auto csv = dir.write("inv.csv",
                       "Application,Technology,Dependencies,Traffic,Data Store,Critical,Owner\n"
                       "web-api,Node.js,redis,,,High,me\n"
                       "redis,Redis 7,,,,High,me\n");
  Diagnostics warnings;
  auto estate = load_estate({csv}, warnings);
  ASSERT_TRUE(estate) << estate.error().to_string();
  ASSERT_EQ(estate->workloads[0].depends_on.size(), 1u);
  EXPECT_EQ(estate->workloads[0].depends_on[0].name, "redis");
  EXPECT_TRUE(estate->workloads[0].data.empty());
}

TEST(LoadEstate, AMistypedWorkloadNameAndAShortRowAreSaid) {
  TempDir dir;
  auto csv = dir.write("inv.csv",
                       "Application,Technology,Dependencies,Traffic,Data Store,Critical,Owner\n"
                       "web-api,Node.js,S3,,,High,me\n"
                       "billing,Java,web-apii,,,High,me\n"
                       "reports,Python,web-api\n");
  Diagnostics warnings;
  auto estate = load_estate({csv}, warnings);
  ASSERT_TRUE(estate) << estate.error().to_string();
  const std::string text = warnings.to_string();
  EXPECT_NE(
      text.find("inv.csv:3: warning: billing.depends_on: 'web-apii' names no workload and is taken "
                "as a cloud service; did you mean the workload 'web-api'?"),
      std::string::npos)
      << text;
  EXPECT_EQ(text.find("'S3' names no workload"), std::string::npos) << text;  // a real service
  EXPECT_NE(
      text.find("inv.csv:4: warning: the row has 3 of the header's 7 cells; Traffic, Data Store, "
                "Critical, Owner read as empty"),
      std::string::npos)
      << text;
}

TEST(LoadEstate, TagsFillTheFieldsTheyStandForButNeverOverrideOne) {
  TempDir dir;
  auto yaml = dir.write("tags.yaml",
                        "workloads:\n"
                        "  - { name: old-erp, tags: [Lifecycle/EOL, business-critical, gdpr] }\n"
                        "  - { name: crm, tags: ['cots:yes', eol], remaining_lifespan_years: 4 }\n"
                        "  - { name: plain, tags: [team-a, 'env:prod'] }\n");
  Diagnostics warnings;
  auto estate = load_estate({yaml}, warnings);
  ASSERT_TRUE(estate) << estate.error().to_string();
  const Workload& erp = estate->workloads[0];
  EXPECT_EQ(erp.remaining_lifespan_years, 0.0);
  EXPECT_EQ(erp.criticality, "critical");
  EXPECT_EQ(erp.data_classification, "tier1");
  EXPECT_EQ(erp.from_tags, (std::vector<std::string>{"Lifecycle/EOL -> remaining_lifespan_years 0",
                                                     "business-critical -> criticality critical",
                                                     "gdpr -> data_classification tier1"}));
  const Workload& crm = estate->workloads[1];
  EXPECT_EQ(crm.commercial_off_the_shelf, true);
  EXPECT_EQ(crm.remaining_lifespan_years, 4.0);  // the field wins over the tag
  EXPECT_NE(warnings.to_string().find("crm: tag 'eol' says remaining_lifespan_years 0, the "
                                      "inventory says otherwise; the inventory wins"),
            std::string::npos)
      << warnings.to_string();
  EXPECT_TRUE(estate->workloads[2].from_tags.empty());
}

TEST(LoadEstate, DuplicateEdgesCollapseAndMutualRedundancyIsAnError) {
  TempDir dir;
  auto ok = dir.write("dup.yaml",
                      "workloads:\n"
                      "  - { name: a, depends_on: [b, b], depends_on_soft: [b, c] }\n"
                      "  - { name: b }\n  - { name: c }\n");
  Diagnostics warnings;
  auto estate = load_estate({ok}, warnings);
  ASSERT_TRUE(estate) << estate.error().to_string();
  ASSERT_EQ(estate->workloads[0].depends_on.size(), 1u);
  ASSERT_EQ(estate->workloads[0].depends_on_soft.size(), 1u);
  EXPECT_EQ(estate->workloads[0].depends_on_soft[0].name, "c");
  auto bad = dir.write("mutual.yaml",
                       "workloads:\n  - { name: old, redundant_with: new }\n  - { name: new, "
                       "redundant_with: old }\n");
  auto mutual = load_estate({bad}, warnings);
  ASSERT_FALSE(mutual);
  EXPECT_NE(
      mutual.error().message.find("redundant_with goes round in a circle (new -> old -> new)"),
      std::string::npos)
      << mutual.error().message;
  auto three = dir.write(
      "three.yaml",
      "workloads:\n  - { name: a, redundant_with: b }\n  - { name: b, redundant_with: c }\n"
      "  - { name: c, redundant_with: a }\n  - { name: d, redundant_with: a }\n");
  auto loop = load_estate({three}, warnings);
  ASSERT_FALSE(loop);
  EXPECT_NE(loop.error().message.find("(a -> b -> c -> a)"), std::string::npos)
      << loop.error().message;
  EXPECT_EQ(loop.error().message.find("has 2 errors"), std::string::npos) << loop.error().message;
}

TEST(LoadEstate, CsvParseErrorsAreReportedNotCalledEmpty) {
  TempDir dir;
  auto csv = dir.write("q.csv", "Application,\"Tech\nnology,Owner\nx,y\n");
  Diagnostics warnings;
  auto estate = load_estate({csv}, warnings);
  ASSERT_FALSE(estate);
  EXPECT_NE(estate.error().message.find("q.csv:1: error: quoted cell is never closed"),
            std::string::npos)
      << estate.error().message;
}

TEST(LoadEstate, ReferencesDuplicatesAndEmptyFilesFailTogether) {
  TempDir dir;
  auto a = dir.write("a.yaml",
                     "workloads:\n"
                     "  - { name: api, depends_on: [user-dbb], redundant_with: nobody }\n"
                     "  - { name: user-db }\n"
                     "  - { name: api }\n"
                     "  - { name: loop, depends_on: [loop] }\n");
  auto empty = dir.write("empty.yaml", "");
  auto csv = dir.write("x.csv", "Name,Size\nfoo,1\n");
  Diagnostics warnings;
  auto estate = load_estate({a, empty, csv, dir.write("notes.txt", "hello")}, warnings);
  ASSERT_FALSE(estate);
  const std::string m = estate.error().message;
  EXPECT_EQ(estate.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(
      m.find(a +
             ":2:31: error: api.depends_on: unknown workload 'user-dbb' (did you mean 'user-db'?)"),
      std::string::npos)
      << m;
  EXPECT_NE(m.find("api.redundant_with: unknown workload 'nobody'"), std::string::npos) << m;
  EXPECT_NE(
      m.find(a + ":4:5: error: duplicate workload name 'api' (first defined at " + a + ":2:5)"),
      std::string::npos)
      << m;
  EXPECT_NE(m.find("loop.depends_on: a workload cannot depend on itself"), std::string::npos) << m;
  EXPECT_NE(m.find(empty + ": error: the file is empty"), std::string::npos) << m;
  EXPECT_NE(m.find(csv + ":1: error: unrecognised CSV header 'Name,Size'"), std::string::npos) << m;
  EXPECT_NE(m.find("notes.txt: error: unknown inventory file type"), std::string::npos) << m;
}

TEST(LoadEstate, UnreadableFileIsReported) {
  Diagnostics warnings;
  auto estate = load_estate({"/nonexistent/estate.yaml"}, warnings);
  ASSERT_FALSE(estate);
  EXPECT_NE(estate.error().message.find(
                "/nonexistent/estate.yaml: error: cannot open file: No such file"),
            std::string::npos)
      << estate.error().message;
}

}  // namespace
}  // namespace ferry::assess

namespace ferry::assess {
namespace {

TEST(LoadEstate, NamesMustBePlainAndNearDuplicatesAreFlagged) {
  Diagnostics diags;
  PlanningDefaults d;
  import_native_yaml("workloads:\n  - name: \"\"\n  - name: \" padded\"\n  - name: \"a\\tb\"\n",
                     "n.yaml", d, diags);
  const std::string all = diags.to_string();
  EXPECT_NE(all.find("n.yaml:2:11: error: workloads[0].name: the name is empty"), std::string::npos)
      << all;
  EXPECT_NE(all.find("workloads[1].name: the name starts or ends with whitespace"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("workloads[2].name: the name contains a control character"), std::string::npos)
      << all;

  const auto dir =
      std::filesystem::temp_directory_path() / ("ferry_case_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "a.yaml") << "workloads:\n  - { name: web-api }\n  - { name: Web_API }\n";
  Diagnostics warnings;
  auto estate = load_estate({(dir / "a.yaml").string()}, warnings);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(estate) << estate.error().to_string();
  EXPECT_EQ(estate->workloads.size(), 2u);
  EXPECT_NE(warnings.to_string().find("'Web_API' and 'web-api'"), std::string::npos)
      << warnings.to_string();
}

}  // namespace
}  // namespace ferry::assess
