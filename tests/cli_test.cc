// Runs the real ferry binary: exit codes, messages, files written or not,
// and the plans for the example estates compared with golden files.
// FERRY_UPDATE_GOLDEN=1 rewrites the golden files instead of comparing.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "cli_harness.h"
#include "core/yaml.h"

namespace {

using namespace ferry_test;  // CliTest, Child, Outcome, slurp

using Cli = CliTest;

void expect_golden(const std::string& name, const std::string& actual) {
  const fs::path path = fs::path(FERRY_SOURCE_DIR) / "tests" / "golden" / name;
  if (const char* update = std::getenv("FERRY_UPDATE_GOLDEN");
      update && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  ASSERT_TRUE(fs::exists(path)) << path
                                << " is missing; run with FERRY_UPDATE_GOLDEN=1 to create it";
  const std::string expected = slurp(path);
  if (expected == actual) return;
  // Point at the first differing line rather than dumping two whole plans.
  std::istringstream e(expected), a(actual);
  std::string el, al;
  for (int line = 1;; ++line) {
    const bool more_e = static_cast<bool>(std::getline(e, el));
    const bool more_a = static_cast<bool>(std::getline(a, al));
    if (!more_e && !more_a) break;
    if (el != al || more_e != more_a) {
      FAIL() << name << " differs from the golden file at line " << line << ":\n  expected: " << el
             << "\n  actual:   " << al
             << "\n(FERRY_UPDATE_GOLDEN=1 rewrites it after a deliberate change)";
    }
  }
  // Every line matched, yet the texts differ: in how they end.
  FAIL() << name << " differs from the golden file only at its end (" << expected.size()
         << " bytes expected, " << actual.size() << " written; a final newline?)";
}

// Command-line mistakes read like every other ferry error: the command and
// the flag named, a hint, the usage line, exit 2; no CLI11 wording.
TEST_F(Cli, FlagMistakesReadLikeFerryErrors) {
  const std::string endpoints = "--source postgres://a@h/d --target postgres://a@h/e ";
  Outcome typo = ferry("db cutover " + endpoints + "--gracee 5");
  EXPECT_EQ(typo.status, 2);
  EXPECT_TRUE(typo.err.starts_with(
      "error: ferry db cutover: unknown option --gracee (did you mean '--grace'?)\n"
      "usage: ferry db cutover [OPTIONS]"))
      << typo.err;
  // The mistyped flag is named even when a required one is missing too.
  Outcome typo_first = ferry("db cutover --dir d --gracee 5");
  EXPECT_EQ(typo_first.status, 2);
  EXPECT_TRUE(typo_first.err.starts_with(
      "error: ferry db cutover: unknown option --gracee (did you mean '--grace'?)"))
      << typo_first.err;
  Outcome unit = ferry("db cutover " + endpoints + "--grace 5x");
  EXPECT_EQ(unit.status, 2);
  EXPECT_NE(unit.err.find("error: ferry db cutover: --grace: '5x' is not a duration"),
            std::string::npos)
      << unit.err;
  Outcome size = ferry("db clone " + endpoints + "--maintenance-work-mem 12xb");
  EXPECT_EQ(size.status, 2);
  EXPECT_NE(size.err.find("--maintenance-work-mem: '12xb' is not a size"), std::string::npos)
      << size.err;
  Outcome command = ferry("db folow");
  EXPECT_EQ(command.status, 2);
  EXPECT_NE(command.err.find("unknown command 'folow' (did you mean 'follow'?)"), std::string::npos)
      << command.err;
  for (const Outcome& r : {typo, unit, size, command}) {
    EXPECT_EQ(r.err.find("were not expected"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("Could not convert"), std::string::npos) << r.err;
  }
  // `ferry db` alone lists its commands; help footers name the command.
  Outcome db = ferry("db");
  EXPECT_EQ(db.status, 2);
  EXPECT_NE(db.err.find("cutover"), std::string::npos) << db.err;
  EXPECT_NE(db.err.find("Run 'ferry db COMMAND --help'"), std::string::npos) << db.err;
  // Durations show and take units; -q and -v after a subcommand.
  Outcome help = ferry("db cutover --help");
  EXPECT_NE(help.out.find("--grace DURATION=5s"), std::string::npos) << help.out;
  Outcome verbose = ferry("assess examples/estate.yaml -v --format json");
  EXPECT_EQ(verbose.status, 0) << verbose.err;
  EXPECT_NE(verbose.err.find("debug: step plan:"), std::string::npos) << verbose.err;
  // -q after a subcommand: warnings and errors only (follow says where its
  // metrics are at info level).
  const std::string unreachable_follow =
      "db follow --source postgres://u@127.0.0.1:1/a --target postgres://u@127.0.0.1:1/b "
      "--metrics-addr 127.0.0.1:0 --retry-for 1s --dir " +
      (dir_ / "q").string();
  Outcome loud = ferry(unreachable_follow);
  EXPECT_NE(loud.err.find("info: Prometheus metrics on"), std::string::npos) << loud.err;
  Outcome quiet = ferry(unreachable_follow + " -q");
  EXPECT_EQ(quiet.status, 5) << quiet.err;
  EXPECT_EQ(quiet.err.find("info:"), std::string::npos) << quiet.err;
  EXPECT_NE(quiet.err.find("error:"), std::string::npos) << quiet.err;
  // One command at a time: a second is a mistake, not a second run.
  Outcome two = ferry("db status --dir x check");
  EXPECT_EQ(two.status, 2) << two.err;
  // "text" is every reporting command's default name; assess keeps "table".
  EXPECT_EQ(ferry("assess examples/estate.yaml --format text").out,
            ferry("assess examples/estate.yaml --format table").out);
}

// Problems met before any server answers are said plainly, and quickly.
TEST_F(Cli, StatusFilesMissingFilesAndUnreachableServersAreClearErrors) {
  // A garbled status file is an error, not an empty status.
  std::ofstream(dir_ / "follow-status.json") << "garbage\n";
  Outcome garbled = ferry("db status --dir " + dir_.string());
  EXPECT_EQ(garbled.status, 3) << garbled.out << garbled.err;
  EXPECT_NE(garbled.err.find("follow-status.json: not a follow status"), std::string::npos)
      << garbled.err;
  EXPECT_EQ(garbled.out, "");
  // proxy --check names the file it cannot read.
  Outcome missing = ferry("proxy --check --config " + (dir_ / "nope.yaml").string());
  EXPECT_EQ(missing.status, 4);
  EXPECT_NE(missing.err.find((dir_ / "nope.yaml").string() + ": cannot open file"),
            std::string::npos)
      << missing.err;
  // db check tries both servers and reports both, as JSON too when asked.
  Outcome unreachable = ferry(
      "db check --source postgres://u@127.0.0.1:1/a --target "
      "postgres://u@127.0.0.1:2/b --format json");
  EXPECT_EQ(unreachable.status, 5);
  EXPECT_NE(unreachable.out.find("\"side\": \"source\""), std::string::npos) << unreachable.out;
  EXPECT_NE(unreachable.out.find("\"side\": \"target\""), std::string::npos) << unreachable.out;
  EXPECT_NE(unreachable.err.find("error: target: connecting to postgres://u@127.0.0.1:2/b"),
            std::string::npos)
      << unreachable.err;
  // With --format json an error is JSON on stdout too, where a script looks.
  Outcome json_error = ferry("db status --dir " + (dir_ / "none").string() + " --format json");
  EXPECT_EQ(json_error.status, 4);
  EXPECT_NE(json_error.out.find("\"ok\": false"), std::string::npos) << json_error.out;
  EXPECT_NE(json_error.out.find("\"kind\": \"io\""), std::string::npos) << json_error.out;
  EXPECT_NE(json_error.out.find("no follow status here"), std::string::npos) << json_error.out;
  // Connection strings may come from the environment (no password in `ps`).
  Outcome from_env = run({"env", "FERRY_SOURCE=postgres://u@127.0.0.1:1/a",
                          "FERRY_TARGET=postgres://u@127.0.0.1:2/b", FERRY_BINARY, "db", "check"});
  EXPECT_EQ(from_env.status, 5) << from_env.err;
  EXPECT_NE(from_env.err.find("error: source: connecting to postgres://u@127.0.0.1:1/a"),
            std::string::npos)
      << from_env.err;
  // A follow that never connected gives up after a short, stated time.
  const std::string nowhere =
      "--source postgres://u@127.0.0.1:1/a --target postgres://u@127.0.0.1:1/b";
  Outcome never =
      ferry("db follow " + nowhere + " --dir " + (dir_ / "f").string() + " --retry-for 2s");
  EXPECT_EQ(never.status, 5) << never.err;
  EXPECT_NE(never.err.find("reconnecting for up to 2 s (never connected yet)"), std::string::npos)
      << never.err;
  EXPECT_NE(never.err.find("still failing after 2 s of retries (never connected)"),
            std::string::npos)
      << never.err;
  // Stopped while retrying, it exits 0 as for any stop. Meanwhile its probes
  // answer: alive, but not ready (it has never connected).
  Child retrying({FERRY_BINARY, "db", "follow", "--source", "postgres://u@127.0.0.1:1/a",
                  "--target", "postgres://u@127.0.0.1:1/b", "--dir", (dir_ / "g").string(),
                  "--metrics-addr", "127.0.0.1:0"},
                 dir_ / "retrying");
  std::string metrics_url;
  for (int i = 0; i < 50 && metrics_url.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const std::string status = slurp(dir_ / "g" / "follow-status.json");
    const auto at = status.find("\"metrics_url\": \"");
    if (at != std::string::npos) {
      const auto start = at + 16;
      metrics_url = status.substr(start, status.find('"', start) - start);
    }
  }
  ASSERT_FALSE(metrics_url.empty());
  const std::string base = metrics_url.substr(0, metrics_url.rfind('/'));
  auto http_status = [](const std::string& url) {
    return trim(ferry_test::run({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--noproxy",
                                 "*", "--max-time", "5", url})
                    .out);
  };
  EXPECT_EQ(http_status(base + "/healthz"), "200");
  EXPECT_EQ(http_status(base + "/readyz"), "503");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  retrying.signal(SIGTERM);
  Outcome stopped = retrying.wait();
  EXPECT_EQ(stopped.status, 0) << stopped.err;
  EXPECT_NE(stopped.out.find("stopped"), std::string::npos) << stopped.out;
}

TEST_F(Cli, HelpAndVersion) {
  Outcome help = ferry("--help");
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("assess"), std::string::npos);
  EXPECT_NE(help.out.find("Exit status: 0 ok"), std::string::npos);
  Outcome version = ferry("--version");
  EXPECT_EQ(version.status, 0);
  EXPECT_EQ(version.out.rfind("ferry 0.", 0), 0u) << version.out;
  Outcome assess_help = ferry("assess --help");
  EXPECT_EQ(assess_help.status, 0);
  for (const char* needle :
       {"--format", "--out", "--rules", "--catalog", "Konveyor", "ExternalId"}) {
    EXPECT_NE(assess_help.out.find(needle), std::string::npos) << needle;
  }
}

// --log-format json, after the subcommand like -v: every stderr line is one
// JSON object, an error listing several problems included; in text every
// line starts with its level.
TEST_F(Cli, LogLinesAreOneLineEachAndJsonOnRequest) {
  const std::string bad = write("bad.yaml",
                                "workloads:\n  - name: a\n    kind: vm\n    bogus: 1\n"
                                "  - name: a\n    kind: vm\n");
  Outcome json = ferry("assess " + bad + " --log-format json");
  EXPECT_EQ(json.status, 3) << json.err;
  std::istringstream lines(json.err);
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    auto doc = ferry::parse_yaml(line, "stderr");
    ASSERT_TRUE(doc && doc->is_mapping()) << line;
    ASSERT_NE(doc->find("time"), nullptr) << line;
    ASSERT_NE(doc->find("msg"), nullptr) << line;
    EXPECT_EQ(doc->find("level")->scalar(), "error") << line;
    EXPECT_NE(doc->find("msg")->scalar().find("bogus"), std::string::npos) << line;
  }
  EXPECT_EQ(count, 1) << json.err;
  Outcome text = ferry("assess " + bad);
  EXPECT_EQ(text.status, 3);
  // One line per problem, each with the level in front.
  std::istringstream text_lines(text.err);
  int text_count = 0;
  for (std::string line; std::getline(text_lines, line); ++text_count)
    EXPECT_EQ(line.rfind("error: ", 0), 0u) << line;
  EXPECT_EQ(text_count, 5) << text.err;
  EXPECT_EQ(ferry("assess " + bad + " --log-format xml").status, 2);
}

TEST_F(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(ferry("").status, 2);
  EXPECT_EQ(ferry("assess").status, 2);
  EXPECT_EQ(ferry("frobnicate").status, 2);
  Outcome bad_format = ferry("assess examples/estate.yaml --format pdf");
  EXPECT_EQ(bad_format.status, 2);
  EXPECT_NE(bad_format.err.find("--format: unknown format 'pdf'"), std::string::npos)
      << bad_format.err;
}

TEST_F(Cli, InvalidInventoryExitsThreeListsEveryProblemAndWritesNothing) {
  const std::string bad = write("bad.yaml",
                                "workloads:\n"
                                "  - name: api\n"
                                "    kind: servise\n"
                                "    depends_on: [dbb]\n"
                                "    colour: blue\n"
                                "  - name: db\n"
                                "  - name: api\n");
  const std::string out = (dir_ / "plan.md").string();
  Outcome r = ferry("assess " + bad + " --format markdown --out " + out);
  EXPECT_EQ(r.status, 3);
  EXPECT_TRUE(r.out.empty());
  for (const std::string& needle :
       {bad + ":3:11: error: workloads[0].kind: unknown value 'servise' (did you mean 'service'?)",
        bad + ":5:5: error: workloads[0]: unknown key 'colour'",
        bad + ":7:5: error: duplicate workload name 'api' (first defined at " + bad + ":2:5)",
        std::string("api.depends_on: unknown workload 'dbb' (did you mean 'db'?)")}) {
    EXPECT_NE(r.err.find(needle), std::string::npos) << needle << "\nin:\n" << r.err;
  }
  EXPECT_FALSE(fs::exists(out));
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename().string().find("plan.md"), std::string::npos)
        << "left behind: " << entry.path();
  }
}

// With --format json a failed assess is JSON on stdout too, one document for
// every input's problems, each problem with its file, line, column and field.
TEST_F(Cli, AssessErrorsAreJsonOnStdoutWithFormatJson) {
  auto error_of = [](const Outcome& r) -> std::optional<ferry::YamlNode> {
    auto doc = ferry::parse_yaml(r.out, "stdout");  // JSON is YAML
    const ferry::YamlNode* error = doc && doc->is_mapping() ? doc->find("error") : nullptr;
    if (!error || !error->is_mapping()) {
      ADD_FAILURE() << "no JSON error object on stdout: " << r.out;
      return std::nullopt;
    }
    const ferry::YamlNode* ok = doc->find("ok");
    EXPECT_TRUE(ok && ok->as_bool() == false) << r.out;
    for (const char* key : {"kind", "exit_status", "message", "sqlstate", "problems"})
      EXPECT_TRUE(error->find(key)) << "no error." << key << " in " << r.out;
    EXPECT_EQ(error->find("exit_status")->as_integer(), r.status) << r.out;
    return *error;
  };
  auto problem = [](const ferry::YamlNode& error, size_t i, const char* key) {
    return error.find("problems")->operator[](i).find(key)->scalar();
  };

  const std::string missing = (dir_ / "missing.yaml").string();
  Outcome gone = ferry("assess " + missing + " --format json");
  EXPECT_EQ(gone.status, 4);
  EXPECT_NE(gone.err.find(missing + ": error: cannot open file"), std::string::npos) << gone.err;
  if (auto error = error_of(gone)) {
    EXPECT_EQ(error->find("kind")->scalar(), "io");
    ASSERT_EQ(error->find("problems")->size(), 1u) << gone.out;
    EXPECT_EQ(problem(*error, 0, "file"), missing);
    EXPECT_EQ(problem(*error, 0, "line"), "0");
    EXPECT_NE(problem(*error, 0, "message").find("cannot open file"), std::string::npos);
  }

  const std::string bad = write("bad.yaml",
                                "workloads:\n"
                                "  - name: api\n"
                                "    kind: servise\n"
                                "    depends_on: [dbb]\n"
                                "  - name: db\n");
  const std::string syntax = write("syntax.yaml", "workloads:\n  - name: a\n   kind: x\n");
  Outcome invalid = ferry("assess " + syntax + " " + bad + " --format json");
  EXPECT_EQ(invalid.status, 3);
  if (auto error = error_of(invalid)) {
    EXPECT_EQ(error->find("kind")->scalar(), "invalid_input");
    ASSERT_EQ(error->find("problems")->size(), 3u) << invalid.out;
    // In reading order: the files as given, then by line.
    EXPECT_EQ(problem(*error, 0, "file"), syntax);
    EXPECT_EQ(problem(*error, 0, "line"), "3");
    EXPECT_EQ(problem(*error, 0, "field"), "");
    EXPECT_EQ(problem(*error, 1, "file"), bad);
    EXPECT_EQ(problem(*error, 1, "line"), "3");
    EXPECT_EQ(problem(*error, 1, "column"), "11");
    EXPECT_EQ(problem(*error, 1, "field"), "workloads[0].kind");
    EXPECT_EQ(problem(*error, 1, "message").rfind("unknown value 'servise'", 0), 0u);
    EXPECT_EQ(problem(*error, 2, "field"), "api.depends_on");
  }

  // A bad rules file and a bad inventory: one document with both files' problems.
  const std::string rules = write("rules.yaml", "decisions: []\n");
  Outcome both = ferry("assess " + bad + " --rules " + rules + " --format json");
  EXPECT_EQ(both.status, 3);
  if (auto error = error_of(both)) {
    std::set<std::string> files;
    const ferry::YamlNode& problems = *error->find("problems");
    for (size_t i = 0; i < problems.size(); ++i) files.insert(problem(*error, i, "file"));
    EXPECT_EQ(files, (std::set<std::string>{rules, bad})) << both.out;
  }

  // Without --format json, stdout stays empty.
  EXPECT_EQ(ferry("assess " + missing).out, "");
}

TEST_F(Cli, FailedRunLeavesAnExistingOutputUntouched) {
  const std::string out = write("plan.json", "previous plan\n");
  Outcome r = ferry("assess " + write("empty.yaml", "") + " --format json --out " + out);
  EXPECT_EQ(r.status, 3);
  EXPECT_NE(r.err.find("empty.yaml: error: the file is empty"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(out), "previous plan\n");
}

TEST_F(Cli, BadRulesAndCatalogAreReportedWithTheInventoryProblems) {
  const std::string rules =
      write("rules.yaml",
            "decisions: { strategy: { options: [rehost], fallback: rehost,\n"
            "  rules: [ { id: x, when: { lifespan: 1 }, vote: { rehost: 1 }, because: b } ] } }\n"
            "data_methods: { by_size: [ { method: dump_restore } ] }\n");
  const std::string catalog =
      write("catalog.yaml", "services:\n  - { name: S3, to: MinIO, complexity: trivial }\n");
  const std::string csv = write(
      "inv.csv", "Application,Technology,Dependencies,Traffic,Data Store,Critical\nx,Go,,,,\n");
  Outcome r = ferry("assess " + csv + " --rules " + rules + " --catalog " + catalog);
  EXPECT_EQ(r.status, 3);
  EXPECT_NE(r.err.find(rules + ":2:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("unknown fact 'lifespan'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(catalog + ":2:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("unknown value 'trivial'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(csv + ":1: error: missing column 'Owner'"), std::string::npos) << r.err;
}

TEST_F(Cli, MissingFileAndUnwritableOutputAreIoProblems) {
  Outcome missing = ferry("assess /nonexistent/estate.yaml");
  EXPECT_EQ(missing.status, 4);
  EXPECT_NE(missing.err.find("/nonexistent/estate.yaml: error: cannot open file"),
            std::string::npos);
  Outcome unwritable = ferry("assess examples/estate.yaml --out /nonexistent/dir/plan.md");
  EXPECT_EQ(unwritable.status, 4);
  EXPECT_NE(unwritable.err.find("/nonexistent/dir/plan.md: cannot create file"), std::string::npos)
      << unwritable.err;
}

TEST_F(Cli, DirectoriesAndParseErrorsAreReportedPlainly) {
  Outcome dir = ferry("assess " + dir_.string());
  EXPECT_EQ(dir.status, 4);
  EXPECT_NE(dir.err.find("is a directory, not a file"), std::string::npos) << dir.err;
  const std::string dup =
      write("dup.json", "{\"workloads\": [{\"name\": \"a\", \"name\": \"b\"}]}\n");
  Outcome parse = ferry("assess " + dup);
  EXPECT_EQ(parse.status, 3);
  EXPECT_NE(parse.err.find(dup + ":1:30: error: duplicate key 'name' (first at line 1)"),
            std::string::npos)
      << parse.err;
  EXPECT_EQ(parse.err.find(dup + ": error: " + dup), std::string::npos)
      << "location given twice: " << parse.err;
}

TEST_F(Cli, RulesOverrideChangesTheDecision) {
  // The same workload under a house rule that retires everything not containerized.
  const std::string inv =
      write("one.yaml", "workloads:\n  - { name: old-vm, containerized: false }\n");
  Outcome builtin = ferry("assess " + inv + " --format json");
  ASSERT_EQ(builtin.status, 0) << builtin.err;
  EXPECT_NE(builtin.out.find("\"strategy\": \"replatform\""), std::string::npos);
  const std::string rules =
      write("house.yaml",
            "decisions:\n  strategy:\n    options: [retire, rehost]\n"
            "    fallback: rehost\n    rules:\n"
            "      - { id: no-vms, when: { containerized: false }, vote: { retire: 1 },"
            " because: \"house rule: VMs are retired\" }\n"
            "  cutover: { options: [all_at_once], fallback: all_at_once }\n"
            "  pattern: { options: [stay], fallback: stay }\n"
            "data_methods:\n  by_size: [ { method: dump_restore } ]\n"
            "  cutover_minutes: { logical_replication: 1, cdc: 5, physical_cdc: 5,"
            " incremental_sync: 15, replica_sync: 1, snapshot_reindex: 5 }\n"
            "confidence: { facts: [containerized], levels: [0.2, 0.4, 0.6, 0.8] }\n"
            "effort_days: { retire: 5, rehost: 5 }\n");
  Outcome house = ferry("assess " + inv + " --format json --rules " + rules);
  ASSERT_EQ(house.status, 0) << house.err;
  EXPECT_NE(house.out.find("\"strategy\": \"retire\""), std::string::npos);
  EXPECT_NE(house.out.find("house rule: VMs are retired"), std::string::npos);
}

TEST_F(Cli, JsonInventoriesReadLikeYamlWithPositions) {
  const std::string good =
      write("estate.json",
            "{\"workloads\": [\n"
            "  {\"name\": \"api\", \"kind\": \"service\", \"depends_on\": [\"db\"]},\n"
            "  {\"name\": \"db\", \"kind\": \"database\",\n"
            "   \"data\": [{\"name\": \"main\", \"engine\": \"postgresql\", \"size_gb\": 50}]}\n"
            "]}\n");
  Outcome ok = ferry("assess " + good + " --format json");
  ASSERT_EQ(ok.status, 0) << ok.err;
  EXPECT_NE(ok.out.find("\"method\": \"dump_restore\""), std::string::npos);
  const std::string bad =
      write("bad.json", "{\"workloads\": [\n  {\"name\": \"api\", \"kind\": 7,}\n]}\n");
  Outcome err = ferry("assess " + bad);
  EXPECT_EQ(err.status, 3);
  EXPECT_NE(err.err.find(bad + ":2:"), std::string::npos) << err.err;
}

TEST_F(Cli, NeverWritesOverAnInput) {
  const std::string inv = write("estate.yaml", "workloads:\n  - { name: a }\n");
  Outcome r = ferry("assess " + inv + " --format json --out " + inv);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("is one of the inputs"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(inv), "workloads:\n  - { name: a }\n");
  Outcome dash = ferry("assess " + inv + " --format json --out -");
  EXPECT_EQ(dash.status, 0);
  EXPECT_EQ(dash.out.rfind("{", 0), 0u);
  EXPECT_FALSE(fs::exists(dir_ / "-"));
}

TEST_F(Cli, WritesTheOutputFileAtomically) {
  const std::string out = (dir_ / "plan.html").string();
  Outcome r = ferry("assess examples/estate.yaml --format html --out " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("wrote " + out), std::string::npos);
  const std::string html = slurp(out);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<svg id=\"dependency-graph\""), std::string::npos);
}

// Golden plans: a deliberate change to rules, catalog, examples or rendering
// shows up here as a reviewable diff.
TEST_F(Cli, GoldenExampleEstate) {
  for (const auto& [format, file] :
       std::vector<std::pair<std::string, std::string>>{{"table", "estate.txt"},
                                                        {"markdown", "estate.md"},
                                                        {"json", "estate.json"},
                                                        {"html", "estate.html"}}) {
    Outcome r = ferry("assess examples/estate.yaml --format " + format);
    ASSERT_EQ(r.status, 0) << r.err;
    expect_golden(file, r.out);
  }
}

TEST_F(Cli, GoldenCsvInventories) {
  // A CSV has no start date: one is given, or the plan would move with the calendar.
  Outcome spreadsheet =
      ferry("assess examples/spreadsheet-inventory.csv --format json --start 2027-01-04");
  ASSERT_EQ(spreadsheet.status, 0) << spreadsheet.err;
  expect_golden("spreadsheet-inventory.json", spreadsheet.out);
  Outcome merged = ferry(
      "assess examples/konveyor-import.csv examples/aws-discovery-import.csv --format table "
      "--start 2027-01-04");
  ASSERT_EQ(merged.status, 0) << merged.err;
  expect_golden("konveyor-aws.txt", merged.out);
}

}  // namespace
