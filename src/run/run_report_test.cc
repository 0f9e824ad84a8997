#include "run/run_report.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace ferry::run {
namespace {

namespace fs = std::filesystem;

TEST(ParseFields, ReadsPlainAndQuotedValuesAsEventsWriteThem) {
  const auto f = parse_fields(
      R"(step=3 kind=verify detail="every row equal: 2 tables, \"hot\" rows" then=pause words alone)");
  EXPECT_EQ(f.at("step"), "3");
  EXPECT_EQ(f.at("detail"), "every row equal: 2 tables, \"hot\" rows");
  EXPECT_EQ(f.at("then"), "pause");
  EXPECT_EQ(f.count("words"), 0u);
  EXPECT_TRUE(parse_fields("").empty());
}

class RunReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ferry_run_report_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    plan_.name = "shop";
    plan_.file = "shop.yaml";
    plan_.state_dir = dir_.string();
    for (StepKind k : {StepKind::kClone, StepKind::kVerify, StepKind::kCutover}) {
      PlanStep s;
      s.kind = k;
      s.database = "shop-db";
      s.route = k == StepKind::kCutover ? "shop" : "";
      plan_.steps.push_back(s);
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A run that went through: what the live runner keeps and journals.
  RunJournal finished_run() {
    auto j = RunJournal::open(plan_);
    EXPECT_TRUE(j);
    auto view = j->view(plan_);
    for (size_t i = 0; i < 3; ++i) {
      view->states[i] = StepState::kRunning;
      EXPECT_TRUE(j->record(*view, i, ""));
      step_finished(*view, i, true, "did step " + std::to_string(i + 1));
      EXPECT_TRUE(j->record(*view, i, "did step " + std::to_string(i + 1)));
    }
    const std::string zero = "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0";
    EXPECT_TRUE(j->remember("traffic.shop.start", "legacy=" + zero));
    // 100 requests on legacy before anything moved, 2 of them errors, all under 5 ms.
    EXPECT_TRUE(j->remember("traffic.shop.moved", "legacy=100 2 0 0 0 100 0 0 0 0 0 0 0 0 0 0 0"));
    EXPECT_TRUE(j->remember("traffic.shop.switched",
                            "legacy=150 2 0 0 0 150 0 0 0 0 0 0 0 0 0 0 0;modern=" + zero));
    EXPECT_TRUE(j->remember("traffic.shop.last",
                            "legacy=150 2 0 0 0 150 0 0 0 0 0 0 0 0 0 0 0;"
                            "modern=80 0 0 0 0 0 80 0 0 0 0 0 0 0 0 0 0"));
    EXPECT_TRUE(j->remember("step1.rows", "20383"));
    EXPECT_TRUE(j->remember("step3.cutover_write_unavailable_s", "0.775"));
    EXPECT_TRUE(j->remember("step3.hold",
                            "held=40 released=40 timed_out=0 client_gone=0 p50_ms=837 "
                            "p99_ms=877 max_ms=877 held_for_ms=883"));
    EXPECT_TRUE(j->event("verify_result",
                         "step=2 database=shop-db ok=yes rounds=2 tables=2 "
                         "rows=20576 in_flight=37 tracking=3 real=0 unsettled=0"));
    EXPECT_TRUE(j->event("command", "command=approve who=alice result=applied"));
    EXPECT_TRUE(j->event("step_started", "not a decision"));
    return std::move(*j);
  }

  fs::path dir_;
  Plan plan_;
};

TEST_F(RunReportTest, GathersTheKeyNumbersTheTimelineAndTheTrafficPerPhase) {
  RunJournal j = finished_run();
  auto r = gather_report(plan_, j);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->state, "done");
  EXPECT_EQ(r->requests, 230);
  EXPECT_EQ(r->errors, 2);
  EXPECT_EQ(r->rows_copied, 20383);
  ASSERT_EQ(r->write_unavailable_seconds.size(), 1u);
  EXPECT_DOUBLE_EQ(r->write_unavailable_seconds[0], 0.775);
  EXPECT_EQ(r->held.at("held"), 40);
  EXPECT_EQ(r->held.at("p99_ms"), 877);
  ASSERT_EQ(r->verifications.size(), 1u);
  EXPECT_EQ(r->verifications[0],
            "step 2: equal (20576 rows of 2 tables; 37 in flight, 3 hot, 0 real differences)");
  ASSERT_EQ(r->traffic.size(), 1u);
  const auto& phases = r->traffic[0].phases;
  ASSERT_EQ(phases.size(), 3u);
  EXPECT_EQ(phases[0].phase, "before");
  ASSERT_EQ(phases[0].pools.size(), 1u);
  EXPECT_EQ(phases[0].pools[0].requests, 100);
  EXPECT_DOUBLE_EQ(phases[0].pools[0].error_rate, 2.0);
  EXPECT_EQ(phases[1].phase, "during");
  EXPECT_EQ(phases[1].pools[0].requests, 50);
  EXPECT_EQ(phases[2].phase, "after");
  ASSERT_EQ(phases[2].pools.size(), 1u);  // legacy served nothing after
  EXPECT_EQ(phases[2].pools[0].pool, "modern");
  EXPECT_EQ(phases[2].pools[0].requests, 80);
  // Decisions only: the approval, the verify; not every step start.
  ASSERT_EQ(r->decisions.size(), 2u);
  EXPECT_EQ(r->decisions[1].kind, "command");
}

TEST_F(RunReportTest, RendersMarkdownHtmlAndJson) {
  RunJournal j = finished_run();
  auto r = gather_report(plan_, j);
  ASSERT_TRUE(r);
  const std::string md = render_report_markdown(*r);
  EXPECT_NE(md.find("# Migration report: shop"), std::string::npos) << md;
  EXPECT_NE(md.find("| write-unavailable time | 0.78 s |"), std::string::npos) << md;
  EXPECT_NE(md.find("| requests held | 40 requests waited (p50 837 ms, p99 877 ms, max 877 ms)"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| after | modern | 80 | 0 | 0.000 % |"), std::string::npos) << md;
  const std::string html = render_report_html(*r);
  EXPECT_EQ(html.rfind("<!doctype html>", 0), 0u);
  EXPECT_EQ(html.find("http"), std::string::npos);  // self-contained: nothing fetched
  EXPECT_NE(html.find("<td>0.78 s</td>"), std::string::npos) << html;
  const std::string json = render_report_json(*r);
  EXPECT_NE(json.find("\"write_unavailable_seconds\": [\n      0.775\n    ]"), std::string::npos)
      << json;
  EXPECT_NE(json.find("\"held\": 40"), std::string::npos) << json;
}

}  // namespace
}  // namespace ferry::run
