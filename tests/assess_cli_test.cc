// ferry assess's schedule outputs end to end: the CSV for trackers, what-ifs,
// `ferry assess diff`, bad dates, and the directory --emit-runs writes.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "cli_harness.h"
#include "core/csv.h"
#include "core/yaml.h"

namespace {

using namespace ferry_test;
using AssessCli = CliTest;

std::string example() { return slurp("examples/estate.yaml"); }

TEST_F(AssessCli, TheCsvHasEveryWaveAndTaskWithDatesPredecessorsAndTheCriticalPath) {
  Outcome csv = ferry("assess examples/estate.yaml --format csv");
  ASSERT_EQ(csv.status, 0) << csv.err;
  Outcome json = ferry("assess examples/estate.yaml --format json");
  ASSERT_EQ(json.status, 0) << json.err;
  auto plan = ferry::parse_yaml(json.out, "plan.json");
  ASSERT_TRUE(plan);
  auto table = ferry::parse_csv(csv.out, "plan.csv");
  ASSERT_TRUE(table) << table.error().to_string();
  EXPECT_EQ(table->header, (std::vector<std::string>{"ID", "Task", "Kind", "Parent", "Wave",
                                                     "Workload", "Team", "Start", "Finish",
                                                     "Working days", "Predecessors", "Critical"}));
  const size_t waves = plan->find("waves")->size();
  const size_t tasks = plan->find("schedule")->find("tasks")->size();
  ASSERT_EQ(table->rows.size(), waves + tasks);
  std::map<std::string, const ferry::CsvRow*> by_id;
  int critical = 0;
  for (const auto& row : table->rows) {
    by_id[row.cells[0]] = &row;
    critical += row.cells[11] == "yes" ? 1 : 0;
    EXPECT_LE(row.cells[7], row.cells[8]) << row.cells[1];  // ISO dates compare as text
  }
  EXPECT_GE(critical, 4);  // mobilisation, a build, a cutover, hypercare, decommissioning
  // Each task starts after its predecessors end; builds name a workload and its team.
  for (const auto& row : table->rows) {
    if (row.cells[2] == "build") {
      EXPECT_FALSE(row.cells[5].empty());
      EXPECT_FALSE(row.cells[6].empty());
      EXPECT_EQ(row.cells[3], "W" + row.cells[4]);
    }
    if (row.cells[2] != "cutover") continue;
    std::stringstream predecessors(row.cells[10]);
    std::string id;
    int count = 0;
    while (predecessors >> id) {
      ASSERT_TRUE(by_id.count(id)) << id;
      const auto& before = *by_id[id];
      if (before.cells[9] != "0") {
        EXPECT_LT(before.cells[8], row.cells[7]) << row.cells[1];
      }
      ++count;
    }
    EXPECT_GT(count, 0) << row.cells[1];
  }
}

TEST_F(AssessCli, HolidaysAreNotWorkingDaysAndNoCutoverTouchesAChangeFreeze) {
  // The example has Easter, Ascension and Whit Monday off, and a freeze from
  // 2027-05-10 to 2027-05-14 that wave 5 is ready to cut over into.
  Outcome json = ferry("assess examples/estate.yaml --format json");
  ASSERT_EQ(json.status, 0) << json.err;
  auto plan = ferry::parse_yaml(json.out, "plan.json");
  ASSERT_TRUE(plan);
  const ferry::YamlNode& tasks = *plan->find("schedule")->find("tasks");
  int waits = 0;
  for (size_t i = 0; i < tasks.size(); ++i) {
    const ferry::YamlNode& t = tasks[i];
    for (const char* holiday : {"2027-03-26", "2027-03-29", "2027-05-06", "2027-05-17"}) {
      EXPECT_NE(t.text_at("start"), holiday) << t.text_at("name");
      EXPECT_NE(t.text_at("finish"), holiday) << t.text_at("name");
    }
    if (t.text_at("kind") == "freeze") {
      ++waits;
      EXPECT_EQ(t.text_at("name"),
                "wave 5 waits for the change freeze (season finale launch week)");
      EXPECT_EQ(t.text_at("finish"), "2027-05-14");
    }
    if (t.text_at("kind") == "cutover") {
      EXPECT_TRUE(t.text_at("finish") < "2027-05-10" || t.text_at("start") > "2027-05-14")
          << t.text_at("name") << " " << t.text_at("start") << ".." << t.text_at("finish");
    }
  }
  EXPECT_EQ(waits, 1);
  // Wave 5 cuts over on the first working day after the freeze: the 17th is Whit Monday.
  EXPECT_EQ((*plan->find("waves"))[4].find("cutover")->text_at("start"), "2027-05-18");
  // A freeze that ends before it begins is refused with its place.
  const std::string bad =
      write("bad.yaml",
            "defaults:\n  change_freezes:\n    - { from: 2027-05-14, to: "
            "2027-05-10 }\n  holidays: [2027-13-01]\nworkloads:\n  - name: a\n");
  Outcome refused = ferry("assess " + bad);
  EXPECT_EQ(refused.status, 3);
  EXPECT_NE(refused.err.find("defaults.change_freezes[0]: ends (2027-05-10) before it begins "
                             "(2027-05-14)"),
            std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("bad.yaml:4:14: error: defaults.holidays[0]: '2027-13-01' is not a "
                             "date"),
            std::string::npos)
      << refused.err;
}

TEST_F(AssessCli, AWhatIfSaysWhatMovedAndTheInventoryIsUnchanged) {
  // At 10 Gbps web-db's 500 GB copies faster, as fast as the source reads (200 MB/s).
  Outcome r = ferry("assess examples/estate.yaml --bandwidth 10 --team-capacity 1");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("what if --team-capacity 1 --bandwidth 10: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  web-db: web-main copy 2.3 h -> 1.4 h\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  plan: end 2027-06-28 (122 working days) -> "), std::string::npos)
      << r.out;
  Outcome json = ferry("assess examples/estate.yaml --bandwidth 10 --format json");
  ASSERT_EQ(json.status, 0) << json.err;
  auto plan = ferry::parse_yaml(json.out, "plan.json");
  ASSERT_TRUE(plan);
  const ferry::YamlNode* what_if = plan->find("what_if");
  ASSERT_NE(what_if, nullptr);
  EXPECT_EQ(what_if->find("settings")->size(), 1u);
  bool found = false;
  for (size_t i = 0; i < what_if->find("changes")->size(); ++i) {
    const ferry::YamlNode& c = (*what_if->find("changes"))[i];
    found = found || (c.text_at("subject") == "web-db" && c.text_at("field") == "web-main copy" &&
                      c.text_at("after") == "1.4 h");
  }
  EXPECT_TRUE(found) << json.out;
  // Without a what-if there is no such section.
  Outcome plain = ferry("assess examples/estate.yaml --format json");
  EXPECT_EQ(plain.out.find("\"what_if\""), std::string::npos);
  // A start the inventory does not have is not a what-if: it is the start.
  Outcome csv = ferry("assess examples/spreadsheet-inventory.csv --start 2027-03-01");
  ASSERT_EQ(csv.status, 0) << csv.err;
  EXPECT_EQ(csv.out.find("what if"), std::string::npos) << csv.out;
  EXPECT_NE(csv.out.find("schedule: 2027-03-01 to "), std::string::npos) << csv.out;
}

TEST_F(AssessCli, DiffListsWhatAChangedInventoryChangesAndExitCodeFailsCi) {
  std::string changed = example();
  // The wiki is found to be bought software with a SaaS alternative, and a new workload appears.
  const std::string wiki = "    technology: MediaWiki 1.35 (PHP) on EC2\n";
  ASSERT_NE(changed.find(wiki), std::string::npos);
  changed.insert(changed.find(wiki) + wiki.size(),
                 "    commercial_off_the_shelf: true\n    saas_alternative: XWiki\n");
  changed += "  - name: status-page\n    kind: frontend\n    owner: SRE\n";
  const std::string after = write("estate.yaml", changed);
  Outcome r = ferry("assess diff examples/estate.yaml " + after);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("status-page: added ("), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  wiki: strategy rehost -> repurchase\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  wiki: wave 1 -> "), std::string::npos) << r.out;
  Outcome ci = ferry("assess diff examples/estate.yaml " + after + " --exit-code --format json");
  EXPECT_EQ(ci.status, 1) << ci.err;
  auto doc = ferry::parse_yaml(ci.out, "diff.json");
  ASSERT_TRUE(doc) << ci.out;
  EXPECT_GT(doc->find("changes")->size(), 2u);
  Outcome same = ferry("assess diff examples/estate.yaml examples/estate.yaml --exit-code");
  EXPECT_EQ(same.status, 0) << same.out;
  EXPECT_NE(same.out.find(": 0 changes"), std::string::npos) << same.out;
  Outcome missing = ferry("assess diff examples/estate.yaml nowhere.yaml");
  EXPECT_EQ(missing.status, 4) << missing.err;
  EXPECT_NE(missing.err.find("nowhere.yaml"), std::string::npos) << missing.err;
}

TEST_F(AssessCli, BadDatesAreRefusedWithTheirPlace) {
  Outcome flag = ferry("assess examples/estate.yaml --start 2027-02-30");
  EXPECT_EQ(flag.status, 2);
  EXPECT_NE(flag.err.find("'2027-02-30' is not a date; expected YYYY-MM-DD"), std::string::npos)
      << flag.err;
  const std::string bad = write("bad.yaml",
                                "defaults:\n  start: 2027-13-01\n  team_capacity: 0\n"
                                "workloads:\n  - name: a\n");
  Outcome file = ferry("assess " + bad);
  EXPECT_EQ(file.status, 3);
  EXPECT_NE(file.err.find("bad.yaml:2:10: error: defaults.start: '2027-13-01' is not a date"),
            std::string::npos)
      << file.err;
  EXPECT_NE(file.err.find("bad.yaml:3:18: error: defaults.team_capacity: 0 is out of range"),
            std::string::npos)
      << file.err;
}

TEST_F(AssessCli, TheRiskRegisterRatesOwnsAndMitigatesAndNamesSplitPlatforms) {
  Outcome json = ferry("assess examples/estate.yaml --format json");
  ASSERT_EQ(json.status, 0) << json.err;
  auto plan = ferry::parse_yaml(json.out, "plan.json");
  ASSERT_TRUE(plan);
  std::map<std::string, const ferry::YamlNode*> workloads;
  const ferry::YamlNode& list = *plan->find("workloads");
  for (size_t i = 0; i < list.size(); ++i) workloads[list[i].text_at("name")] = &list[i];
  auto risk = [&](const std::string& workload, const std::string& id) -> const ferry::YamlNode* {
    const ferry::YamlNode& risks = *workloads.at(workload)->find("risks");
    for (size_t i = 0; i < risks.size(); ++i) {
      if (risks[i].text_at("id") == id) return &risks[i];
    }
    return nullptr;
  };
  // catalog-db's 16 TB cannot be dumped in its budget, but the plan copies it by CDC.
  const ferry::YamlNode* slow_dump = risk("catalog-db", "online-sync-required");
  ASSERT_NE(slow_dump, nullptr);
  EXPECT_EQ(slow_dump->text_at("status"), "mitigated");
  EXPECT_EQ(slow_dump->text_at("severity"), "low");
  EXPECT_EQ(slow_dump->text_at("likelihood"), "high");
  EXPECT_NE(slow_dump->text_at("mitigated_by").find("copies online"), std::string::npos);
  // identity's budget is too tight for its file sync: that one stays open.
  const ferry::YamlNode* over = risk("identity", "over-budget");
  ASSERT_NE(over, nullptr);
  EXPECT_EQ(over->text_at("status"), "open");
  EXPECT_EQ(over->text_at("severity"), "high");
  // Owners are the workloads' owners.
  EXPECT_EQ(risk("billing-db", "sequences")->text_at("owner"), "Payments Team");
  // DNS propagation is not a secrets store's risk.
  EXPECT_EQ(risk("secrets", "dns-propagation"), nullptr);
  EXPECT_NE(risk("web-api", "dns-propagation"), nullptr);
  // The source platform's facts: Cognito's hashes, ElastiCache's replication.
  EXPECT_NE(risk("identity", "password-hashes-not-exportable"), nullptr);
  EXPECT_NE(risk("session-cache", "replication-out-forbidden"), nullptr);
  EXPECT_EQ(risk("web-api", "replication-out-forbidden"), nullptr);  // it owns no store
  // billing-db moves before billing, which calls it across the link meanwhile.
  bool split = false;
  const ferry::YamlNode& waves = *plan->find("waves");
  for (size_t w = 0; w < waves.size(); ++w) {
    const ferry::YamlNode& risks = *waves[w].find("risks");
    for (size_t i = 0; i < risks.size(); ++i) {
      const std::string title = risks[i].text_at("title");
      if (title.rfind("billing-db moves before what calls it", 0) == 0) {
        split = title.find("billing (wave ") != std::string::npos &&
                risks[i].text_at("severity") == "high";
      }
    }
  }
  EXPECT_TRUE(split) << "no split-platform risk for billing-db";
}

TEST_F(AssessCli, EmitRunsWritesOnlyOverItsOwnUnchangedFiles) {
  const std::string plans = (dir_ / "plans").string();
  Outcome first = ferry("assess examples/estate.yaml --emit-runs " + plans + " --out " +
                        (dir_ / "plan.md").string() + " --format markdown");
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_NE(slurp(dir_ / "plan.md").find("# "), std::string::npos) << "the plan is written too";
  const std::string web_api = plans + "/wave-04-web-api.yaml";
  ASSERT_TRUE(fs::exists(web_api));
  // Its own files, unchanged: written again.
  Outcome again = ferry("assess examples/estate.yaml --emit-runs " + plans);
  EXPECT_EQ(again.status, 0) << again.err;
  // A plan a person filled in is never written over; nothing else is either.
  std::ofstream(web_api, std::ios::app) << "# the proxy is proxy-1.internal\n";
  const std::string edited = slurp(web_api);
  fs::remove(plans + "/README.md");
  Outcome refused = ferry("assess examples/estate.yaml --emit-runs " + plans);
  EXPECT_EQ(refused.status, 4);
  EXPECT_NE(refused.err.find("--emit-runs: " + plans +
                             ": refusing to write there: it holds "
                             "files changed since ferry wrote them: wave-04-web-api.yaml"),
            std::string::npos)
      << refused.err;
  EXPECT_EQ(slurp(web_api), edited);
  EXPECT_FALSE(fs::exists(plans + "/README.md"));
  // With --format json the refusal is the one document on stdout.
  Outcome json = ferry("assess examples/estate.yaml --emit-runs " + plans + " --format json");
  EXPECT_EQ(json.status, 4);
  auto doc = ferry::parse_yaml(json.out, "stdout");
  ASSERT_TRUE(doc) << json.out;
  EXPECT_EQ(doc->find("error")->text_at("kind"), "io");
  // A directory holding anything else is refused the same way.
  write("notes.txt", "mine");
  Outcome foreign = ferry("assess examples/estate.yaml --emit-runs " + dir_.string());
  EXPECT_EQ(foreign.status, 4);
  EXPECT_NE(foreign.err.find("what ferry did not write: "), std::string::npos) << foreign.err;
  // The plan itself cannot go into that directory.
  Outcome inside =
      ferry("assess examples/estate.yaml --emit-runs " + plans + " --out " + plans + "/plan.md");
  EXPECT_EQ(inside.status, 2);
  EXPECT_NE(inside.err.find("is inside --emit-runs"), std::string::npos) << inside.err;
}

}  // namespace
