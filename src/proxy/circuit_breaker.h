// A pool's circuit breaker: closed (requests go to the pool), open (they go
// to the fallback pool, or get 503 at once), half-open (a few probes go to
// the pool; all succeeding closes it, the first failure opens it again).
//
// One CircuitBreaker per pool is shared by every worker thread, so the
// decision sees the whole process's traffic. Counting an outcome is a few
// relaxed atomic adds into a sliding window of buckets; the transition check
// that follows sums the window (one load per bucket) and takes a mutex only
// to change state, which is rare. Nothing here reads a clock: every call
// takes `now_ms`, so circuit_breaker_test.cc drives time by hand.
//
// Transitions are returned, not logged: the caller logs
// breaker_event_line() and the state report reads the counters.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "proxy/proxy_config.h"

namespace ferry::proxy {

enum class BreakerState { kClosed = 0, kOpen = 1, kHalfOpen = 2 };

const char* breaker_state_name(BreakerState s);

// What one attempt at the pool came to. A failure is a 5xx answer, a
// connect error, a reset or a timeout; `slow` is an answer (of any kind)
// that took longer than slow.over.
struct BreakerOutcome {
  bool failure = false;
  bool slow = false;
};

// Requests, failures and slow answers over the window.
struct BreakerCounts {
  int64_t requests = 0;
  int64_t failures = 0;
  int64_t slow = 0;

  double failure_rate() const {
    return requests > 0 ? static_cast<double>(failures) / static_cast<double>(requests) : 0;
  }
  double slow_rate() const {
    return requests > 0 ? static_cast<double>(slow) / static_cast<double>(requests) : 0;
  }
};

enum class TripReason {
  kNone,
  kFailureRate,   // closed -> open: failures over the window passed failure_rate
  kSlowRate,      // closed -> open: slow answers passed slow.rate
  kProbeFailed,   // half-open -> open: a probe failed
  kOpenForOver,   // open -> half-open: open_for has passed
  kProbesPassed,  // half-open -> closed: every probe succeeded
};

// The pure rule for leaving the closed state: enough requests in the window,
// and the failure rate (or the slow rate) at or above its threshold.
TripReason should_trip(const BreakerConfig& policy, const BreakerCounts& window);

// One change of state, with the numbers behind it (for the log line).
struct BreakerTransition {
  BreakerState to = BreakerState::kClosed;
  TripReason reason = TripReason::kNone;
  BreakerCounts window;  // the window's counts when it tripped (kFailureRate, kSlowRate)
  int probes = 0;        // half-open probes admitted (kProbeFailed, kProbesPassed)
  int probes_succeeded = 0;
};

// `proxy: event=breaker_opened pool=modern requests=40 failures=25 ...`.
std::string breaker_event_line(const std::string& pool, const BreakerConfig& policy,
                               const BreakerTransition& t);

// What a request (or a retry) bound for the pool should do.
enum class BreakerVerdict {
  kPass,    // closed: go to the pool
  kProbe,   // half-open: go to the pool as a probe (report with the ticket)
  kDivert,  // open, or half-open with every probe taken: fallback pool, or 503
};

struct BreakerAdmission {
  BreakerVerdict verdict = BreakerVerdict::kPass;
  // For kProbe: which half-open period the probe belongs to; an outcome
  // reported with a stale ticket (the breaker opened again meanwhile) counts
  // only toward the window.
  uint64_t probe_ticket = 0;
  // For kDivert: how long until the breaker lets probes through (Retry-After).
  int64_t retry_after_ms = 0;
  std::optional<BreakerTransition> transition;  // open -> half-open, when this call made it
};

class CircuitBreaker {
 public:
  explicit CircuitBreaker(BreakerConfig policy);
  CircuitBreaker(const CircuitBreaker&) = delete;
  CircuitBreaker& operator=(const CircuitBreaker&) = delete;

  const BreakerConfig& policy() const { return policy_; }

  // Before each attempt at the pool. Closed costs one atomic load.
  BreakerAdmission admit(int64_t now_ms);
  // After each attempt at the pool: counts it, and returns the transition it
  // caused, if any. `probe_ticket` is the admission's (0 when not a probe).
  std::optional<BreakerTransition> on_outcome(BreakerOutcome outcome, uint64_t probe_ticket,
                                              int64_t now_ms);
  // A probe that ends without an outcome (the client left first) gives its
  // place back, so half-open cannot wait forever for it.
  void release_probe(uint64_t probe_ticket);

  BreakerState state() const { return state_.load(std::memory_order_relaxed); }
  BreakerCounts window(int64_t now_ms) const;
  // Transitions so far, by the state entered (index: BreakerState).
  uint64_t transitions(BreakerState to) const {
    return transitions_[static_cast<size_t>(to)].load(std::memory_order_relaxed);
  }
  // While open: ms until half-open; 0 otherwise.
  int64_t open_remaining_ms(int64_t now_ms) const;

 private:
  struct Bucket {
    std::atomic<int64_t> epoch{-1};  // now_ms / bucket_ms_ of what it counts
    std::atomic<int64_t> requests{0};
    std::atomic<int64_t> failures{0};
    std::atomic<int64_t> slow{0};
  };

  void count(BreakerOutcome outcome, int64_t now_ms);
  void clear_window();
  BreakerTransition enter(BreakerState to, TripReason reason, int64_t now_ms);  // mutex_ held

  const BreakerConfig policy_;
  const int64_t bucket_ms_;
  std::vector<Bucket> buckets_;
  std::atomic<BreakerState> state_{BreakerState::kClosed};
  std::array<std::atomic<uint64_t>, 3> transitions_{};

  // Below: changed under mutex_ only.
  mutable std::mutex mutex_;
  std::atomic<int64_t> opened_at_ms_{0};
  uint64_t half_open_period_ = 0;  // the ticket of the current half-open period
  int probes_admitted_ = 0;
  int probes_succeeded_ = 0;
};

}  // namespace ferry::proxy
