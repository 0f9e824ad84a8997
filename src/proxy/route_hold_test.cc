#include "proxy/route_hold.h"

#include <gtest/gtest.h>

#include <numeric>

namespace ferry::proxy {
namespace {

std::string error_of(std::string_view body) {
  auto terms = parse_hold_terms(body);
  EXPECT_FALSE(terms) << body;
  return terms ? "" : terms.error().to_string();
}

TEST(HoldTerms, ReadsDurationsAsTheConfigDoes) {
  auto terms = parse_hold_terms(R"({"timeout":"250ms"})");
  ASSERT_TRUE(terms) << terms.error().to_string();
  EXPECT_EQ(terms->timeout_ms, 250);
  EXPECT_EQ(terms->max_hold_ms, kDefaultMaxHoldMs);
  terms = parse_hold_terms(R"({"timeout":"5s","max_hold":"1m"})");
  ASSERT_TRUE(terms);
  EXPECT_EQ(terms->timeout_ms, 5000);
  EXPECT_EQ(terms->max_hold_ms, 60'000);
  // A bare number is seconds, as in the config.
  terms = parse_hold_terms(R"({"timeout":2,"max_hold":2})");
  ASSERT_TRUE(terms);
  EXPECT_EQ(terms->timeout_ms, 2000);
  EXPECT_EQ(terms->max_hold_ms, 2000);
}

TEST(HoldTerms, ErrorsNameTheField) {
  EXPECT_NE(error_of("{}").find("timeout: required"), std::string::npos);
  EXPECT_NE(error_of("").find("expected a JSON object"), std::string::npos);
  EXPECT_NE(error_of(R"(["5s"])").find("expected a JSON object"), std::string::npos);
  EXPECT_NE(error_of(R"({"timeout":"soon"})").find("timeout: 'soon' is not a positive duration"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"timeout":"0s"})").find("timeout: '0s'"), std::string::npos);
  EXPECT_NE(error_of(R"({"timeout":{"s":5}})").find("timeout: '(not a single value)'"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"timeout":"5s","max_hold":"-1s"})").find("max_hold: '-1s'"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"timeout":"5s","max_hold":"2s"})")
                .find("max_hold: 2000 ms is shorter than the timeout (5000 ms)"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"timeot":"5s"})").find("unknown field 'timeot' (did you mean 'timeout'?)"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"timeout":"5s",)").find("request body"), std::string::npos);
}

TEST(HoldTerms, ARequestTimesOutAfterItsTimeoutAndTheHoldEndsAfterMaxHold) {
  const HoldTerms terms{.timeout_ms = 5000, .max_hold_ms = 30'000};
  EXPECT_EQ(held_request_deadline_ms(1000, terms), 6000);
  EXPECT_EQ(hold_expiry_ms(1000, terms), 31'000);
  // A request held late in the hold would time out after the hold's end:
  // the expiry releases it first, so it is sent on rather than refused.
  EXPECT_GT(held_request_deadline_ms(29'000, terms), hold_expiry_ms(1000, terms));
}

TEST(WaitSummary, NearestRankPercentilesOfTheWaits) {
  EXPECT_EQ(summarize_waits({}).max_ms, 0);
  const WaitSummary one = summarize_waits({42});
  EXPECT_EQ(one.p50_ms, 42);
  EXPECT_EQ(one.p99_ms, 42);
  EXPECT_EQ(one.max_ms, 42);
  std::vector<int64_t> hundred(100);
  std::iota(hundred.begin(), hundred.end(), 1);
  std::reverse(hundred.begin(), hundred.end());  // the order they left in does not matter
  const WaitSummary s = summarize_waits(hundred);
  EXPECT_EQ(s.p50_ms, 50);
  EXPECT_EQ(s.p99_ms, 99);
  EXPECT_EQ(s.max_ms, 100);
  // Fewer than 100: the p99 is the largest wait, never beyond it.
  const WaitSummary few = summarize_waits({300, 10, 20});
  EXPECT_EQ(few.p50_ms, 20);
  EXPECT_EQ(few.p99_ms, 300);
}

TEST(RouteHold, CountsEachWorkersRequestsAndReportsThem) {
  RouteHold hold("users", {.timeout_ms = 5000, .max_hold_ms = 30'000}, 10'000, 1.7e9, 2);
  for (int i = 0; i < 4; ++i) hold.enter();
  EXPECT_EQ(hold.waiting(), 4);
  hold.leave(0, HoldOutcome::kTimedOut, 5000);
  hold.leave(1, HoldOutcome::kClientGone, 300);
  hold.leave(0, HoldOutcome::kReleased, 1200);
  hold.leave(1, HoldOutcome::kReleased, 1100);
  EXPECT_EQ(hold.waiting(), 0);
  const HoldReport r = hold.report(11'500);
  EXPECT_EQ(r.route, "users");
  EXPECT_EQ(r.held, 4u);
  EXPECT_EQ(r.released, 2u);
  EXPECT_EQ(r.timed_out, 1u);
  EXPECT_EQ(r.client_gone, 1u);
  EXPECT_EQ(r.waits.p50_ms, 1100);
  EXPECT_EQ(r.waits.max_ms, 5000);
  EXPECT_EQ(r.held_for_ms, 1500);
  EXPECT_EQ(hold_report_json(r),
            "{\n  \"route\": \"users\",\n  \"held\": 4,\n  \"released\": 2,\n  \"timed_out\": 1,\n"
            "  \"client_gone\": 1,\n  \"p50\": 1100,\n  \"p99\": 5000,\n  \"max\": 5000,\n"
            "  \"held_for_ms\": 1500\n}\n");
  EXPECT_EQ(hold_report_fields(r),
            "route=users held=4 released=2 timed_out=1 client_gone=1 p50_ms=1100 p99_ms=5000 "
            "max_ms=5000 held_for_ms=1500");
}

TEST(RouteHold, StateShowsTheTermsAndWhatWaitsNow) {
  RouteHold hold("users", {.timeout_ms = 5000, .max_hold_ms = 30'000}, 10'000, 0, 1);
  hold.enter();
  hold.enter();
  hold.leave(0, HoldOutcome::kTimedOut, 5000);
  JsonWriter w(0);
  w.begin_object();
  hold.write_state(w, 12'000);
  w.end_object();
  EXPECT_EQ(w.take(),
            "{\"hold\": {\"since\": \"1970-01-01T00:00:00.000Z\", \"held_for_ms\": 2000, "
            "\"timeout_ms\": 5000, \"max_hold_ms\": 30000, \"expires_in_ms\": 28000, "
            "\"waiting\": 1, \"held\": 2, \"timed_out\": 1, \"client_gone\": 0}}\n");
}

}  // namespace
}  // namespace ferry::proxy
