// Holding a route's requests during a cutover (POST /admin/routes/NAME/hold,
// then /release): while a database cuts over and the route's weights move,
// the proxy keeps the route's new requests waiting instead of forwarding
// them, and once released sends each on, routed afresh, so they reach the
// new side and no client sees a failure.
//
// The pure parts are here and tested without sockets (route_hold_test.cc):
// the terms of a hold as the admin call gives them, when a held request
// times out and when a hold ends by itself, the waits summarised, and a
// hold's numbers as JSON and as log fields. RouteHold is the state of one
// hold that the threads share: the control thread creates it and publishes
// it in the routing snapshot (proxy_state.h), the workers count into it
// without locks, and hold_controller.h reads its report once every worker
// has let go of its requests.
#pragma once

#include <atomic>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/json_writer.h"

namespace ferry::proxy {

// A hold ends by itself after this long unless the body says otherwise, so
// that a cutover driver that crashed mid-way cannot leave a route blocked.
inline constexpr int64_t kDefaultMaxHoldMs = 30'000;

struct HoldTerms {
  int64_t timeout_ms = 0;  // a held request waits this long at most, then gets 503
  int64_t max_hold_ms = kDefaultMaxHoldMs;
};

// The body of POST /admin/routes/NAME/hold: {"timeout":"5s"}, optionally
// with "max_hold":"30s"; durations as in the config (250ms, 5s, 1m; a bare
// number is seconds). `timeout` is required and positive, `max_hold` at
// least the timeout. Errors name the field (and hint at a misspelt one).
Result<HoldTerms> parse_hold_terms(std::string_view body);

// When a request held at `held_at_ms` is answered 503, unless released first.
int64_t held_request_deadline_ms(int64_t held_at_ms, const HoldTerms& terms);
// When a hold that began at `since_ms` ends by itself, releasing what it holds.
int64_t hold_expiry_ms(int64_t since_ms, const HoldTerms& terms);

// How a held request left the hold.
enum class HoldOutcome {
  kReleased,    // routed and sent on when the hold was released or expired
  kTimedOut,    // answered 503 with Retry-After, never sent upstream
  kClientGone,  // the client closed its connection while it waited
};
inline constexpr HoldOutcome kHoldOutcomes[] = {HoldOutcome::kReleased, HoldOutcome::kTimedOut,
                                                HoldOutcome::kClientGone};
const char* hold_outcome_name(HoldOutcome outcome);

struct WaitSummary {
  int64_t p50_ms = 0;
  int64_t p99_ms = 0;
  int64_t max_ms = 0;
};
// Nearest-rank percentiles (each one a wait that happened, never an
// interpolation); all zero when nothing waited.
WaitSummary summarize_waits(std::vector<int64_t> waits_ms);

// What one hold did, from its start to its release or expiry.
struct HoldReport {
  std::string route;
  uint64_t held = 0;  // requests that waited: released + timed_out + client_gone
  uint64_t released = 0;
  uint64_t timed_out = 0;
  uint64_t client_gone = 0;
  WaitSummary waits;
  int64_t held_for_ms = 0;
};
// The answer of POST /admin/routes/NAME/release: the counts, the
// waits' p50, p99 and max (in ms), and held_for_ms.
std::string hold_report_json(const HoldReport& report);
// "route=users held=12 released=11 ... held_for_ms=2140", for the log lines.
std::string hold_report_fields(const HoldReport& report);

// One hold of one route, from POST .../hold to its release or expiry.
// Shared by the control thread and every worker: the terms are fixed at
// creation; the counters are relaxed atomics (read live by /admin/state and
// /metrics); each worker keeps the waits of its own requests in a list of
// its own, which the control thread reads only after that worker has
// released the hold (its acknowledgement, posted back to the control
// thread, orders the reads after the writes).
class RouteHold {
 public:
  RouteHold(std::string route, HoldTerms terms, int64_t since_ms, double since_unix_s,
            size_t workers);

  const std::string& route() const { return route_; }
  const HoldTerms& terms() const { return terms_; }
  int64_t since_ms() const { return since_ms_; }

  // From a worker: a request starts waiting.
  void enter();
  // From worker `worker`: a request that entered leaves, having waited `waited_ms`.
  void leave(size_t worker, HoldOutcome outcome, int64_t waited_ms);

  int64_t waiting() const { return waiting_.load(std::memory_order_relaxed); }
  uint64_t count(HoldOutcome outcome) const;

  // /admin/state's "hold" object of a held route, as of `now_ms`.
  void write_state(JsonWriter& w, int64_t now_ms) const;
  // The hold's numbers, ended at `ended_ms`. Only once every worker has
  // acknowledged the release (see above); before, the waits are incomplete.
  HoldReport report(int64_t ended_ms) const;

 private:
  const std::string route_;
  const HoldTerms terms_;
  const int64_t since_ms_;  // monotonic
  const double since_unix_s_;
  std::atomic<int64_t> waiting_{0};
  std::atomic<uint64_t> held_{0};
  std::atomic<uint64_t> outcomes_[std::size(kHoldOutcomes)] = {};
  std::vector<std::vector<int64_t>> waits_ms_;  // [worker]
};

}  // namespace ferry::proxy
