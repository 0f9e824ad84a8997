// The rollout state machine with fake time and hand-made verdicts: steps,
// rollback on a fail, pausing on inconclusive, and the admin actions.
#include "proxy/rollout.h"

#include <gtest/gtest.h>

namespace ferry::proxy {
namespace {

RolloutConfig config() {
  RolloutConfig c;
  c.to = "modern";
  c.from = "legacy";
  c.steps = {{10, 60'000}, {50, 60'000}, {100, 0}};
  c.analysis.interval_ms = 10'000;
  c.analysis.min_requests = 100;
  c.analysis.inconclusive_for_ms = 30'000;
  return c;
}

const PoolWeights kStart{{"legacy", 100}, {"modern", 0}};

Verdict verdict(VerdictKind kind) {
  Verdict v;
  v.kind = kind;
  v.reason = kind == VerdictKind::kFail           ? VerdictReason::kErrorRate
             : kind == VerdictKind::kInconclusive ? VerdictReason::kTooFewRequests
                                                  : VerdictReason::kNone;
  v.requests_new = kind == VerdictKind::kInconclusive ? 3 : 150;
  v.requests_old = 900;
  v.error_rate_new = kind == VerdictKind::kFail ? 12.5 : 0;
  v.policy = config().analysis;
  return v;
}

std::string all_events(const RolloutActions& a) {
  std::string out;
  for (const auto& e : a.events) out += e + "\n";
  return out;
}

TEST(Rollout, WaitsForStartThenSetsTheFirstStep) {
  Rollout r("users", config());
  EXPECT_EQ(r.phase(), RolloutPhase::kPending);
  EXPECT_FALSE(r.analysing());
  EXPECT_TRUE(r.on_verdict(1000, verdict(VerdictKind::kPass)).events.empty());
  auto a = r.start(1000, kStart);
  ASSERT_TRUE(a);
  EXPECT_EQ(r.phase(), RolloutPhase::kRunning);
  EXPECT_EQ(r.step(), 0);
  ASSERT_TRUE(a->set_weights);
  EXPECT_EQ(*a->set_weights, (PoolWeights{{"legacy", 90}, {"modern", 10}}));
  EXPECT_NE(all_events(*a).find("event=rollout_started route=users to=modern from=legacy steps=3 "
                                "interval=10s starting_weights: legacy=100 modern=0"),
            std::string::npos)
      << all_events(*a);
  EXPECT_NE(all_events(*a).find("event=rollout_step route=users step=1 of=3 weight=10 pause=1m "
                                "weights: legacy=90 modern=10"),
            std::string::npos)
      << all_events(*a);
  EXPECT_FALSE(r.start(2000, kStart)) << "already running";
}

TEST(Rollout, AdvancesOnlyOnceThePauseHasPassedAndTheLatestVerdictPasses) {
  Rollout r("users", config());
  ASSERT_TRUE(r.start(0, kStart));
  // Passes during the pause do not advance it.
  for (int64_t t = 10'000; t < 60'000; t += 10'000) {
    EXPECT_FALSE(r.on_verdict(t, verdict(VerdictKind::kPass)).set_weights) << t;
  }
  EXPECT_EQ(r.step(), 0);
  // The pause is over, but the latest verdict is inconclusive: it waits.
  EXPECT_FALSE(r.on_verdict(60'000, verdict(VerdictKind::kInconclusive)).set_weights);
  EXPECT_EQ(r.step(), 0);
  auto a = r.on_verdict(70'000, verdict(VerdictKind::kPass));
  ASSERT_TRUE(a.set_weights);
  EXPECT_EQ(*a.set_weights, (PoolWeights{{"legacy", 50}, {"modern", 50}}));
  EXPECT_EQ(r.step(), 1);
  EXPECT_EQ(r.step_started_ms(), 70'000);
  // The verdict that ended step 1 does not count for step 2.
  for (int64_t t = 80'000; t < 130'000; t += 10'000) {
    EXPECT_FALSE(r.on_verdict(t, verdict(VerdictKind::kPass)).set_weights);
  }
  // Step 2 passes; step 3 (100, no pause) passes as soon as it is set.
  a = r.on_verdict(130'000, verdict(VerdictKind::kPass));
  ASSERT_TRUE(a.set_weights);
  EXPECT_EQ(*a.set_weights, (PoolWeights{{"legacy", 0}, {"modern", 100}}));
  EXPECT_EQ(r.phase(), RolloutPhase::kPromoted);
  EXPECT_NE(all_events(a).find("event=rollout_promoted route=users by=analysis steps=3 weights: "
                               "legacy=0 modern=100"),
            std::string::npos)
      << all_events(a);
  EXPECT_FALSE(r.analysing());
}

TEST(Rollout, AFailRestoresTheStartingWeightsAtOnce) {
  Rollout r("users", config());
  // Started from weights set by hand before, not the file's: those come back.
  const PoolWeights before{{"legacy", 95}, {"modern", 5}};
  ASSERT_TRUE(r.start(0, before));
  r.on_verdict(10'000, verdict(VerdictKind::kPass));
  ASSERT_TRUE(r.on_verdict(60'000, verdict(VerdictKind::kPass)).set_weights);  // step 2
  auto a = r.on_verdict(70'000, verdict(VerdictKind::kFail));
  ASSERT_TRUE(a.set_weights);
  EXPECT_EQ(*a.set_weights, before);
  EXPECT_EQ(r.phase(), RolloutPhase::kAborted);
  EXPECT_EQ(r.reason(), "error_rate");
  const std::string events = all_events(a);
  EXPECT_NE(events.find("event=rollout_verdict route=users step=2 verdict=fail reason=error_rate "
                        "requests_new=150 requests_old=900 new_error_rate=12.50"),
            std::string::npos)
      << events;
  EXPECT_NE(
      events.find("event=rollout_aborted route=users step=2 reason=error_rate requests_new=150"),
      std::string::npos)
      << events;
  EXPECT_NE(events.find("weights: legacy=95 modern=5"), std::string::npos) << events;
  // Aborted: no more verdicts; it may be started again.
  EXPECT_TRUE(r.on_verdict(80'000, verdict(VerdictKind::kFail)).events.empty());
  EXPECT_FALSE(r.abort(80'000, "by hand"));
  EXPECT_TRUE(r.start(90'000, before));
}

TEST(Rollout, InconclusiveForTooLongPausesAndNeverPromotes) {
  Rollout r("users", config());
  ASSERT_TRUE(r.start(0, kStart));
  RolloutActions a;
  for (int64_t t = 10'000; t <= 30'000; t += 10'000)
    a = r.on_verdict(t, verdict(VerdictKind::kInconclusive));
  EXPECT_EQ(r.phase(), RolloutPhase::kPaused);
  EXPECT_FALSE(a.set_weights) << "pausing keeps the step's weights";
  EXPECT_NE(all_events(a).find("event=rollout_paused route=users step=1 reason=inconclusive "
                               "for=30s inconclusive_for=30s requests_new=3 requests_old=900 "
                               "min_requests=100"),
            std::string::npos)
      << all_events(a);
  EXPECT_NE(r.reason().find("inconclusive"), std::string::npos);
  // Paused: passes do not move it on (only resume does).
  for (int64_t t = 40'000; t < 200'000; t += 10'000) r.on_verdict(t, verdict(VerdictKind::kPass));
  EXPECT_EQ(r.phase(), RolloutPhase::kPaused);
  EXPECT_EQ(r.step(), 0);
  // A fail while paused still rolls back: the new side has its share.
  a = r.on_verdict(200'000, verdict(VerdictKind::kFail));
  EXPECT_EQ(r.phase(), RolloutPhase::kAborted);
  ASSERT_TRUE(a.set_weights);
  EXPECT_EQ(*a.set_weights, kStart);
}

TEST(Rollout, AConclusiveVerdictResetsTheInconclusiveClock) {
  Rollout r("users", config());
  ASSERT_TRUE(r.start(0, kStart));
  r.on_verdict(10'000, verdict(VerdictKind::kInconclusive));
  r.on_verdict(20'000, verdict(VerdictKind::kPass));
  r.on_verdict(30'000, verdict(VerdictKind::kInconclusive));
  r.on_verdict(40'000, verdict(VerdictKind::kInconclusive));
  EXPECT_EQ(r.phase(), RolloutPhase::kRunning);
  r.on_verdict(50'000, verdict(VerdictKind::kInconclusive));
  EXPECT_EQ(r.phase(), RolloutPhase::kPaused);
}

TEST(Rollout, PauseResumePromoteAndAbortByHand) {
  Rollout r("users", config());
  EXPECT_FALSE(r.pause(0, "admin")) << "pending";
  EXPECT_FALSE(r.abort(0, "admin")) << "pending: nothing to roll back";
  ASSERT_TRUE(r.start(0, kStart));
  auto p = r.pause(5'000, "admin");
  ASSERT_TRUE(p);
  EXPECT_EQ(r.phase(), RolloutPhase::kPaused);
  EXPECT_NE(all_events(*p).find("event=rollout_paused route=users step=1 reason=admin"),
            std::string::npos);
  EXPECT_FALSE(r.pause(6'000, "admin"));
  // Resume starts the step's pause over.
  ASSERT_TRUE(r.resume(100'000));
  EXPECT_EQ(r.step_started_ms(), 100'000);
  EXPECT_FALSE(r.on_verdict(150'000, verdict(VerdictKind::kPass)).set_weights);
  EXPECT_TRUE(r.on_verdict(160'000, verdict(VerdictKind::kPass)).set_weights);
  EXPECT_EQ(r.step(), 1);

  auto ab = r.abort(170'000, "admin");
  ASSERT_TRUE(ab);
  ASSERT_TRUE(ab->set_weights);
  EXPECT_EQ(*ab->set_weights, kStart);
  EXPECT_EQ(r.reason(), "admin");

  Rollout q("users", config());
  auto pr = q.promote(0);
  ASSERT_TRUE(pr);
  ASSERT_TRUE(pr->set_weights);
  EXPECT_EQ(*pr->set_weights, (PoolWeights{{"legacy", 0}, {"modern", 100}}));
  EXPECT_EQ(q.phase(), RolloutPhase::kPromoted);
  EXPECT_FALSE(q.promote(1));
  EXPECT_FALSE(q.start(1, kStart));
}

TEST(Rollout, KeepsTheLatestVerdicts) {
  Rollout r("users", config());
  ASSERT_TRUE(r.start(0, kStart));
  for (int i = 1; i <= 50; ++i) r.on_verdict(i * 100, verdict(VerdictKind::kPass));
  EXPECT_EQ(r.verdicts().size(), 20u);
  EXPECT_EQ(r.verdicts().back().at_ms, 5'000);
}

}  // namespace
}  // namespace ferry::proxy
