// Harness for the end-to-end tests of a run's dashboard (run_dashboard_test.cc,
// run_dashboard_browser_test.cc): a plan and its journal written through the
// library as the engine writes it, and `ferry run ui` serving it.
// Compile definitions: FERRY_BINARY, FERRY_SOURCE_DIR.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "core/yaml.h"
#include "proxy_harness.h"
#include "run/run_journal.h"

namespace dashboardtest {

namespace fs = std::filesystem;
using namespace proxytest;

// `ferry run ui PLAN --listen ...` until the test ends; port() is where it
// listens (0 when it did not start: wait() says why).
class Dashboard {
 public:
  explicit Dashboard(const std::string& plan, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{FERRY_BINARY, "run", "ui", plan};
    if (std::find(extra.begin(), extra.end(), "--listen") == extra.end()) {
      argv.insert(argv.end(), {"--listen", "127.0.0.1:0"});
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    prefix_ = output_prefix();
    child_ = std::make_unique<Child>(argv, prefix_);
    const std::regex url("dashboard: http://[^:]+:([0-9]+)/");
    eventually(
        [&] {
          std::smatch m;
          const std::string out = slurp(prefix_.string() + ".out");
          if (std::regex_search(out, m, url)) port_ = std::stoi(m[1].str());
          return port_ != 0 || child_->exited();
        },
        10s);
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  Outcome stop() {
    child_->signal(SIGTERM);
    return child_->wait();
  }
  Outcome wait() { return child_->wait(); }

  std::string request(const std::string& method, const std::string& target,
                      const std::string& headers = "", const std::string& body = "") const {
    return round_trip(port_, method + " " + target +
                                 " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port_) + "\r\n" +
                                 headers + "Content-Length: " + std::to_string(body.size()) +
                                 "\r\nConnection: close\r\n\r\n" + body);
  }

 private:
  fs::path prefix_;
  std::unique_ptr<Child> child_;
  int port_ = 0;
};

inline ferry::YamlNode json(const std::string& text) {
  auto doc = ferry::parse_yaml(text, "answer");
  EXPECT_TRUE(doc) << text;
  return doc ? *doc : ferry::YamlNode();
}

// The last snapshot event's JSON in an event stream's bytes.
inline ferry::YamlNode last_snapshot(const std::string& stream) {
  const size_t at = stream.rfind("event: snapshot\n");
  std::string data;
  std::istringstream lines(stream.substr(at == std::string::npos ? 0 : at));
  for (std::string line; std::getline(lines, line) && !line.empty();) {
    if (line.starts_with("data: ")) data += line.substr(6) + "\n";
  }
  return json(data);
}

// A plan moving users-db (clone, follow, approve, cutover of route users)
// in a directory of the test's own, and its run's journal.
class RunScenario : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ferry_run_dashboard_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    plan_file_ = (dir_ / "shop.yaml").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write_plan(int admin_port) {
    std::ofstream(plan_file_) << "name: shop-users\nstate_dir: ./state\n"
                                 "databases:\n  users-db: { source: \"${SOURCE_URI}\", target: "
                                 "\"${TARGET_URI}\", route: users }\n"
                                 "proxy: { admin: 127.0.0.1:"
                              << admin_port
                              << " }\n"
                                 "steps:\n  - clone: users-db\n  - follow: users-db\n"
                                 "  - approve: \"data verified, cut over\"\n"
                                 "  - cutover: { database: users-db, route: users }\n";
  }

  // The plan, with its proxy's admin API on `admin_port`, and its journal
  // with the clone and the follow done and the approval waiting.
  ferry::run::Plan start_run(int admin_port) {
    write_plan(admin_port);
    auto plan = ferry::run::load_plan(plan_file_, ferry::run::placeholder_environment);
    EXPECT_TRUE(plan) << plan.error().message;
    auto journal = ferry::run::RunJournal::open(*plan);
    EXPECT_TRUE(journal) << journal.error().message;
    set_step(*journal, *plan, 0, ferry::run::StepState::kRunning, "");
    set_step(*journal, *plan, 0, ferry::run::StepState::kDone, "36 tables, 250048 rows");
    set_step(*journal, *plan, 1, ferry::run::StepState::kRunning, "");
    set_step(*journal, *plan, 1, ferry::run::StepState::kDone, "caught up, lag 0.3 s");
    set_step(*journal, *plan, 2, ferry::run::StepState::kWaiting, "");
    EXPECT_TRUE(journal->event("waiting", "step=3 approve=\"data verified, cut over\""));
    return *plan;
  }

  // One step's new state, as the engine journals it.
  static void set_step(ferry::run::RunJournal& journal, const ferry::run::Plan& plan, size_t step,
                       ferry::run::StepState state, const std::string& detail) {
    auto view = journal.view(plan);
    ASSERT_TRUE(view) << view.error().message;
    view->states[step] = state;
    ASSERT_TRUE(journal.record(*view, step, detail));
  }

  fs::path dir_;
  std::string plan_file_;
};

}  // namespace dashboardtest
