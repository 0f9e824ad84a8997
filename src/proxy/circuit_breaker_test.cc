// The circuit breaker's state machine with time driven by hand, and its
// config: no sockets, no clock.
#include "proxy/circuit_breaker.h"

#include <gtest/gtest.h>

#include <string>

#include "proxy/proxy_config.h"

namespace ferry::proxy {
namespace {

constexpr BreakerOutcome kOk{false, false};
constexpr BreakerOutcome kFail{true, false};
constexpr BreakerOutcome kSlow{false, true};

BreakerConfig policy(int min_requests = 10, double failure_rate = 0.5) {
  BreakerConfig p;
  p.window_ms = 10'000;
  p.min_requests = min_requests;
  p.failure_rate = failure_rate;
  p.open_for_ms = 15'000;
  p.half_open_requests = 3;
  p.fallback = "legacy";
  return p;
}

// Reports `n` outcomes at `now`; the last transition any of them caused.
std::optional<BreakerTransition> report(CircuitBreaker& b, int n, BreakerOutcome o, int64_t now) {
  std::optional<BreakerTransition> last;
  for (int i = 0; i < n; ++i) {
    if (auto t = b.on_outcome(o, 0, now)) last = t;
  }
  return last;
}

// Opens `b` at `now` with failures (min_requests of them).
void trip(CircuitBreaker& b, int64_t now) {
  report(b, b.policy().min_requests, kFail, now);
  ASSERT_EQ(b.state(), BreakerState::kOpen);
}

TEST(CircuitBreaker, StaysClosedBelowMinRequestsEvenAtEveryFailure) {
  CircuitBreaker b(policy(20));
  EXPECT_FALSE(report(b, 19, kFail, 1'000'000));
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  EXPECT_EQ(b.admit(1'000'000).verdict, BreakerVerdict::kPass);
  EXPECT_EQ(b.window(1'000'000).failures, 19);
}

TEST(CircuitBreaker, OpensWhenTheFailureRateReachesTheThreshold) {
  CircuitBreaker b(policy(10, 0.5));
  const int64_t now = 1'000'000;
  report(b, 6, kOk, now);
  EXPECT_FALSE(report(b, 5, kFail, now));  // 5 of 11: below 50%
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  auto t = b.on_outcome(kFail, 0, now);  // 6 of 12: 50%
  ASSERT_TRUE(t);
  EXPECT_EQ(t->to, BreakerState::kOpen);
  EXPECT_EQ(t->reason, TripReason::kFailureRate);
  EXPECT_EQ(t->window.requests, 12);
  EXPECT_EQ(t->window.failures, 6);
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  EXPECT_EQ(b.transitions(BreakerState::kOpen), 1u);
  const BreakerAdmission a = b.admit(now + 1000);
  EXPECT_EQ(a.verdict, BreakerVerdict::kDivert);
  EXPECT_EQ(a.retry_after_ms, 14'000);
}

TEST(CircuitBreaker, ASuccessThatBringsEnoughRequestsCanTripIt) {
  CircuitBreaker b(policy(10, 0.5));
  report(b, 9, kFail, 1'000'000);
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  auto t = b.on_outcome(kOk, 0, 1'000'000);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->to, BreakerState::kOpen);
}

TEST(CircuitBreaker, OpensOnTheSlowRate) {
  BreakerConfig p = policy(10, 0.5);
  p.slow = BreakerSlowConfig{1000, 0.8};
  CircuitBreaker b(p);
  report(b, 2, kOk, 1'000'000);
  auto t = report(b, 8, kSlow, 1'000'000);  // 8 of 10 slow, none failed
  ASSERT_TRUE(t);
  EXPECT_EQ(t->reason, TripReason::kSlowRate);
  EXPECT_EQ(t->window.slow, 8);
  const std::string line = breaker_event_line("modern", p, *t);
  EXPECT_NE(line.find("reason=slow_rate requests=10 slow=8 slow_rate=0.80 threshold=0.8 "
                      "slow_over=1s"),
            std::string::npos)
      << line;
}

TEST(CircuitBreaker, SlowAnswersDoNotTripWithoutASlowRule) {
  CircuitBreaker b(policy(10, 0.5));
  EXPECT_FALSE(report(b, 20, kSlow, 1'000'000));
  EXPECT_EQ(b.state(), BreakerState::kClosed);
}

TEST(CircuitBreaker, TheWindowSlidesAndForgetsOldBuckets) {
  CircuitBreaker b(policy(10, 0.5));
  const int64_t t0 = 1'000'000;
  report(b, 9, kFail, t0);
  EXPECT_EQ(b.window(t0 + 9'000).failures, 9);   // still inside 10 s
  EXPECT_EQ(b.window(t0 + 10'000).failures, 0);  // that second has left the window
  // Nine old failures and one new: the old ones no longer count.
  EXPECT_FALSE(report(b, 1, kFail, t0 + 10'000));
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  EXPECT_EQ(b.window(t0 + 10'000).requests, 1);
  // Spread over the window, they do count.
  for (int s = 0; s < 9; ++s) report(b, 1, kFail, t0 + 11'000 + s * 1000);
  EXPECT_EQ(b.state(), BreakerState::kOpen);
}

TEST(CircuitBreaker, GoesHalfOpenAfterOpenFor) {
  CircuitBreaker b(policy());
  const int64_t t0 = 1'000'000;
  trip(b, t0);
  EXPECT_EQ(b.admit(t0 + 14'999).verdict, BreakerVerdict::kDivert);
  EXPECT_EQ(b.open_remaining_ms(t0 + 14'000), 1000);
  const BreakerAdmission a = b.admit(t0 + 15'000);
  EXPECT_EQ(a.verdict, BreakerVerdict::kProbe);
  ASSERT_TRUE(a.transition);
  EXPECT_EQ(a.transition->to, BreakerState::kHalfOpen);
  EXPECT_EQ(b.state(), BreakerState::kHalfOpen);
  EXPECT_EQ(b.transitions(BreakerState::kHalfOpen), 1u);
}

TEST(CircuitBreaker, HalfOpenAdmitsOnlyHalfOpenRequests) {
  CircuitBreaker b(policy());  // 3 probes
  const int64_t t = 1'000'000 + 15'000;
  trip(b, 1'000'000);
  int probes = 0, diverted = 0;
  for (int i = 0; i < 10; ++i) {
    const BreakerAdmission a = b.admit(t);
    if (a.verdict == BreakerVerdict::kProbe) {
      ++probes;
    } else {
      ++diverted;
      EXPECT_GT(a.retry_after_ms, 0);
    }
  }
  EXPECT_EQ(probes, 3);
  EXPECT_EQ(diverted, 7);
}

TEST(CircuitBreaker, HalfOpenClosesWhenEveryProbeSucceeds) {
  CircuitBreaker b(policy());
  const int64_t t = 1'000'000 + 15'000;
  trip(b, 1'000'000);
  std::vector<uint64_t> tickets;
  for (int i = 0; i < 3; ++i) tickets.push_back(b.admit(t).probe_ticket);
  EXPECT_FALSE(b.on_outcome(kOk, tickets[0], t));
  EXPECT_FALSE(b.on_outcome(kOk, tickets[1], t));
  EXPECT_EQ(b.state(), BreakerState::kHalfOpen);
  auto closed = b.on_outcome(kOk, tickets[2], t);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->to, BreakerState::kClosed);
  EXPECT_EQ(closed->probes_succeeded, 3);
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  // The failures that opened it are forgotten.
  EXPECT_EQ(b.window(t).requests, 0);
  EXPECT_EQ(b.admit(t).verdict, BreakerVerdict::kPass);
}

TEST(CircuitBreaker, HalfOpenNeedsItsProbesNoMatterHowLittleTrafficThereIs) {
  CircuitBreaker b(policy(10));
  const int64_t t = 1'000'000 + 15'000;
  trip(b, 1'000'000);
  const uint64_t ticket = b.admit(t).probe_ticket;
  // One success is far below min_requests: still not a pass.
  EXPECT_FALSE(b.on_outcome(kOk, ticket, t));
  EXPECT_EQ(b.state(), BreakerState::kHalfOpen);
  // Long quiet: it waits for the other probes rather than deciding on none.
  EXPECT_EQ(b.admit(t + 600'000).verdict, BreakerVerdict::kProbe);
  EXPECT_EQ(b.state(), BreakerState::kHalfOpen);
}

TEST(CircuitBreaker, HalfOpenReopensOnOneFailure) {
  CircuitBreaker b(policy());
  const int64_t t = 1'000'000 + 15'000;
  trip(b, 1'000'000);
  const uint64_t first = b.admit(t).probe_ticket;
  const uint64_t second = b.admit(t).probe_ticket;
  EXPECT_FALSE(b.on_outcome(kOk, first, t));
  auto reopened = b.on_outcome(kFail, second, t + 10);
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->to, BreakerState::kOpen);
  EXPECT_EQ(reopened->reason, TripReason::kProbeFailed);
  EXPECT_EQ(reopened->probes, 2);
  EXPECT_EQ(reopened->probes_succeeded, 1);
  EXPECT_EQ(b.admit(t + 20).verdict, BreakerVerdict::kDivert);
  // open_for runs again from the reopening.
  EXPECT_EQ(b.admit(t + 10 + 14'999).verdict, BreakerVerdict::kDivert);
  EXPECT_EQ(b.admit(t + 10 + 15'000).verdict, BreakerVerdict::kProbe);
}

TEST(CircuitBreaker, ASlowProbeIsNotASuccess) {
  BreakerConfig p = policy();
  p.slow = BreakerSlowConfig{1000, 0.8};
  CircuitBreaker b(p);
  const int64_t t = 1'000'000 + 15'000;
  trip(b, 1'000'000);
  const uint64_t ticket = b.admit(t).probe_ticket;
  auto reopened = b.on_outcome(kSlow, ticket, t);
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->to, BreakerState::kOpen);
}

TEST(CircuitBreaker, AStaleProbeOrAReleasedOneDecidesNothing) {
  CircuitBreaker b(policy());
  const int64_t t = 1'000'000 + 15'000;
  trip(b, 1'000'000);
  const uint64_t stale = b.admit(t).probe_ticket;
  const uint64_t failing = b.admit(t).probe_ticket;
  b.on_outcome(kFail, failing, t);  // open again
  const uint64_t fresh = b.admit(t + 15'000).probe_ticket;
  EXPECT_NE(stale, fresh);
  EXPECT_FALSE(b.on_outcome(kOk, stale, t + 15'000));  // from the previous half-open period
  EXPECT_EQ(b.state(), BreakerState::kHalfOpen);
  // A probe whose client left gives its place back.
  b.admit(t + 15'000);
  b.admit(t + 15'000);
  EXPECT_EQ(b.admit(t + 15'000).verdict, BreakerVerdict::kDivert);
  b.release_probe(fresh);
  EXPECT_EQ(b.admit(t + 15'000).verdict, BreakerVerdict::kProbe);
}

TEST(CircuitBreaker, TheEventLineCarriesTheNumbersBehindTheDecision) {
  CircuitBreaker b(policy(40, 0.5));
  report(b, 15, kOk, 1'000'000);
  auto t = report(b, 25, kFail, 1'000'000);
  ASSERT_TRUE(t);
  EXPECT_EQ(breaker_event_line("modern", b.policy(), *t),
            "proxy: event=breaker_opened pool=modern reason=failure_rate requests=40 "
            "failures=25 failure_rate=0.62 threshold=0.5 window=10s open_for=15s "
            "fallback=legacy");
  BreakerTransition half{BreakerState::kHalfOpen, TripReason::kOpenForOver, {}, 0, 0};
  EXPECT_EQ(breaker_event_line("modern", b.policy(), half),
            "proxy: event=breaker_half_open pool=modern open_for=15s probes=3");
  BreakerTransition closed{BreakerState::kClosed, TripReason::kProbesPassed, {}, 3, 3};
  EXPECT_EQ(breaker_event_line("modern", b.policy(), closed),
            "proxy: event=breaker_closed pool=modern probes=3 succeeded=3");
  BreakerConfig no_fallback = policy();
  no_fallback.fallback.clear();
  EXPECT_NE(breaker_event_line("modern", no_fallback, *t).find("fallback=none answer=503"),
            std::string::npos);
}

// --- config

std::string config_with(const std::string& modern_breaker, const std::string& legacy_extra = "") {
  return "listen: 127.0.0.1:8080\n"
         "pools:\n"
         "  legacy: { endpoints: [127.0.0.1:18081]" +
         legacy_extra +
         " }\n"
         "  modern:\n"
         "    endpoints: [127.0.0.1:18082]\n"
         "    breaker: " +
         modern_breaker +
         "\n"
         "routes:\n"
         "  - { name: all, to: modern }\n";
}

std::string errors_of(const std::string& text) {
  auto c = parse_proxy_config(text, "proxy.yaml");
  return c ? std::string() : c.error().message;
}

TEST(BreakerConfig, ReadsTheDocumentedShape) {
  auto c = parse_proxy_config(
      config_with("{ window: 10s, min_requests: 20, failure_rate: 50%, slow: { over: 1s, rate: "
                  "80% }, open_for: 15s, half_open_requests: 5, fallback: legacy }"),
      "proxy.yaml");
  ASSERT_TRUE(c) << c.error().message;
  const auto& b = c->find_pool("modern")->breaker;
  ASSERT_TRUE(b);
  EXPECT_EQ(b->window_ms, 10'000);
  EXPECT_EQ(b->min_requests, 20);
  EXPECT_DOUBLE_EQ(b->failure_rate, 0.5);
  ASSERT_TRUE(b->slow);
  EXPECT_EQ(b->slow->over_ms, 1000);
  EXPECT_DOUBLE_EQ(b->slow->rate, 0.8);
  EXPECT_EQ(b->open_for_ms, 15'000);
  EXPECT_EQ(b->half_open_requests, 5);
  EXPECT_EQ(b->fallback, "legacy");
  EXPECT_FALSE(c->find_pool("legacy")->breaker);
}

TEST(BreakerConfig, DefaultsAndFractions) {
  auto c = parse_proxy_config(config_with("{ failure_rate: 0.25 }"), "proxy.yaml");
  ASSERT_TRUE(c) << c.error().message;
  const auto& b = *c->find_pool("modern")->breaker;
  EXPECT_DOUBLE_EQ(b.failure_rate, 0.25);
  EXPECT_EQ(b.window_ms, 10'000);
  EXPECT_EQ(b.min_requests, 20);
  EXPECT_FALSE(b.slow);
  EXPECT_TRUE(b.fallback.empty());
}

TEST(BreakerConfig, RejectsBadPercentages) {
  for (const char* bad : {"150%", "0%", "half", "50", "-0.1", "%"}) {
    const std::string e = errors_of(config_with(std::string("{ failure_rate: \"") + bad + "\" }"));
    EXPECT_NE(e.find("proxy.yaml:6"), std::string::npos) << bad << ": " << e;
    EXPECT_NE(e.find("pools.modern.breaker.failure_rate: '" + std::string(bad) +
                     "' is not a rate above 0 and at most 1"),
              std::string::npos)
        << e;
  }
  const std::string slow = errors_of(config_with("{ slow: { over: 1s, rate: 200% } }"));
  EXPECT_NE(slow.find("pools.modern.breaker.slow.rate: '200%'"), std::string::npos) << slow;
  const std::string no_rate = errors_of(config_with("{ slow: { over: 1s } }"));
  EXPECT_NE(no_rate.find("rate"), std::string::npos) << no_rate;
}

TEST(BreakerConfig, RejectsBadDurations) {
  const std::string e = errors_of(config_with("{ window: 500ms, open_for: soon }"));
  EXPECT_NE(e.find("pools.modern.breaker.window: '500ms' is not a duration of at least 1000 ms"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("pools.modern.breaker.open_for: 'soon'"), std::string::npos) << e;
}

TEST(BreakerConfig, TheFallbackMustBeAnotherExistingPool) {
  const std::string unknown = errors_of(config_with("{ fallback: legcy }"));
  EXPECT_NE(unknown.find("proxy.yaml:6"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("pools.modern.breaker.fallback: no pool named 'legcy'"), std::string::npos)
      << unknown;
  EXPECT_NE(unknown.find("legacy"), std::string::npos) << "did you mean: " << unknown;
  const std::string itself = errors_of(config_with("{ fallback: modern }"));
  EXPECT_NE(itself.find("'modern' is this pool itself"), std::string::npos) << itself;
}

TEST(BreakerConfig, RejectsAFallbackCycle) {
  const std::string e =
      errors_of(config_with("{ fallback: legacy }", ", breaker: { fallback: modern }"));
  EXPECT_NE(e.find("the fallbacks form a cycle (legacy -> modern -> legacy)"), std::string::npos)
      << e;
  EXPECT_EQ(e.find("(modern -> legacy -> modern)"), std::string::npos) << "reported once: " << e;
  // A chain that ends is fine.
  EXPECT_EQ(errors_of(config_with("{ fallback: legacy }", ", breaker: {}")), "");
}

TEST(BreakerConfig, UnknownKeysAreErrorsWithAHint) {
  const std::string e = errors_of(config_with("{ open_fr: 15s, min_request: 3 }"));
  EXPECT_NE(e.find("open_fr"), std::string::npos) << e;
  EXPECT_NE(e.find("open_for"), std::string::npos) << "did you mean: " << e;
  EXPECT_NE(e.find("min_requests"), std::string::npos) << e;
}

TEST(BreakerConfig, SamePolicyIgnoresWhereItWasWritten) {
  BreakerConfig a = policy(), b = policy();
  b.fallback_where.line = 42;
  EXPECT_TRUE(a.same_policy(b));
  b.open_for_ms = 1;
  EXPECT_FALSE(a.same_policy(b));
}

}  // namespace
}  // namespace ferry::proxy
