#include "proxy/endpoint_choice.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace ferry::proxy {
namespace {

constexpr int64_t kNow = 100'000;

// A pool of `n` endpoints, all healthy, none ejected, none busy.
struct Pool {
  explicit Pool(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      endpoints.push_back(std::make_shared<EndpointState>());
      endpoints.back()->address = "10.0.0." + std::to_string(i + 1) + ":80";
    }
  }
  EndpointState& operator[](size_t i) { return *endpoints[i]; }
  int choose(Balance balance, uint32_t start, const std::vector<EndpointState*>& tried = {}) {
    return choose_endpoint(endpoints, tried, balance, start, kNow);
  }
  std::vector<std::shared_ptr<EndpointState>> endpoints;
};

TEST(EndpointChoice, RoundRobinTakesTheFirstFromTheStartAndWraps) {
  Pool pool(3);
  EXPECT_EQ(pool.choose(Balance::kRoundRobin, 0), 0);
  EXPECT_EQ(pool.choose(Balance::kRoundRobin, 1), 1);
  EXPECT_EQ(pool.choose(Balance::kRoundRobin, 2), 2);
  // The caller's counter only grows; it is taken modulo the pool's size.
  EXPECT_EQ(pool.choose(Balance::kRoundRobin, 3), 0);
  EXPECT_EQ(pool.choose(Balance::kRoundRobin, 7), 1);
}

TEST(EndpointChoice, SkipsEndpointsActiveChecksTookOut) {
  Pool pool(3);
  pool[1].healthy = false;
  EXPECT_EQ(pool.choose(Balance::kRoundRobin, 1), 2);
  EXPECT_EQ(pool.choose(Balance::kLeastRequests, 1), 2);
}

TEST(EndpointChoice, SkipsEjectedEndpointsUntilTheirEjectionEnds) {
  Pool pool(2);
  pool[0].ejected_until_ms = kNow + 1;
  EXPECT_EQ(pool.choose(Balance::kRoundRobin, 0), 1);
  pool[0].ejected_until_ms = kNow;  // ends now: back in
  EXPECT_EQ(pool.choose(Balance::kRoundRobin, 0), 0);
}

TEST(EndpointChoice, SkipsEndpointsThisRequestTried) {
  Pool pool(3);
  EXPECT_EQ(pool.choose(Balance::kRoundRobin, 0, {&pool[0]}), 1);
  EXPECT_EQ(pool.choose(Balance::kRoundRobin, 0, {&pool[0], &pool[1]}), 2);
  // Least requests too, however idle the tried one is.
  pool[1].active_requests = 5;
  pool[2].active_requests = 5;
  EXPECT_EQ(pool.choose(Balance::kLeastRequests, 0, {&pool[0]}), 1);
}

TEST(EndpointChoice, NoneWhenNothingMayTakeTheAttempt) {
  Pool empty(0);
  EXPECT_EQ(empty.choose(Balance::kRoundRobin, 0), -1);
  EXPECT_EQ(empty.choose(Balance::kLeastRequests, 0), -1);

  Pool pool(3);
  EXPECT_EQ(pool.choose(Balance::kRoundRobin, 0, {&pool[0], &pool[1], &pool[2]}), -1);
  pool[0].healthy = false;
  pool[1].ejected_until_ms = kNow + 10'000;
  EXPECT_EQ(pool.choose(Balance::kRoundRobin, 0, {&pool[2]}), -1);
  EXPECT_EQ(pool.choose(Balance::kLeastRequests, 0, {&pool[2]}), -1);
}

TEST(EndpointChoice, LeastRequestsTakesTheLeastBusy) {
  Pool pool(3);
  pool[0].active_requests = 4;
  pool[1].active_requests = 1;
  pool[2].active_requests = 2;
  for (uint32_t start = 0; start < 3; ++start) {
    EXPECT_EQ(pool.choose(Balance::kLeastRequests, start), 1) << "start " << start;
  }
  // Round robin does not look at the load.
  EXPECT_EQ(pool.choose(Balance::kRoundRobin, 0), 0);
}

TEST(EndpointChoice, LeastRequestsLeavesOutTheUnavailableHoweverIdle) {
  Pool pool(3);
  pool[0].active_requests = 3;
  pool[1].active_requests = 0;
  pool[1].healthy = false;
  pool[2].active_requests = 2;
  EXPECT_EQ(pool.choose(Balance::kLeastRequests, 0), 2);
}

TEST(EndpointChoice, LeastRequestsBreaksTiesByTheRotation) {
  Pool pool(3);
  pool[0].active_requests = 1;
  pool[1].active_requests = 1;
  pool[2].active_requests = 3;
  EXPECT_EQ(pool.choose(Balance::kLeastRequests, 0), 0);
  EXPECT_EQ(pool.choose(Balance::kLeastRequests, 1), 1);
  EXPECT_EQ(pool.choose(Balance::kLeastRequests, 2), 0);  // 2 is busier; wraps to 0
}

}  // namespace
}  // namespace ferry::proxy
