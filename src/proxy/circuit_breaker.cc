#include "proxy/circuit_breaker.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/text.h"

namespace ferry::proxy {

namespace {

// Buckets of about a second; a window longer than a minute uses wider ones,
// so that a transition check never sums more than 60.
constexpr int64_t kMaxBuckets = 60;

int64_t bucket_count(int64_t window_ms) {
  return std::clamp<int64_t>(window_ms / 1000, 1, kMaxBuckets);
}

std::string fallback_text(const BreakerConfig& policy) {
  return policy.fallback.empty() ? "fallback=none answer=503" : "fallback=" + policy.fallback;
}

}  // namespace

const char* breaker_state_name(BreakerState s) {
  switch (s) {
    case BreakerState::kClosed:
      return "closed";
    case BreakerState::kOpen:
      return "open";
    case BreakerState::kHalfOpen:
      return "half_open";
  }
  return "";
}

TripReason should_trip(const BreakerConfig& policy, const BreakerCounts& window) {
  // Too little data is never a trip.
  if (window.requests <= 0 || window.requests < policy.min_requests) return TripReason::kNone;
  if (window.failure_rate() >= policy.failure_rate) return TripReason::kFailureRate;
  if (policy.slow && window.slow_rate() >= policy.slow->rate) return TripReason::kSlowRate;
  return TripReason::kNone;
}

std::string breaker_event_line(const std::string& pool, const BreakerConfig& policy,
                               const BreakerTransition& t) {
  const BreakerCounts& w = t.window;
  switch (t.reason) {
    case TripReason::kFailureRate:
      return fmt::format(
          "proxy: event=breaker_opened pool={} reason=failure_rate requests={} failures={} "
          "failure_rate={:.2f} threshold={} window={} open_for={} {}",
          pool, w.requests, w.failures, w.failure_rate(), policy.failure_rate,
          duration_text(policy.window_ms), duration_text(policy.open_for_ms),
          fallback_text(policy));
    case TripReason::kSlowRate:
      return fmt::format(
          "proxy: event=breaker_opened pool={} reason=slow_rate requests={} slow={} "
          "slow_rate={:.2f} threshold={} slow_over={} window={} open_for={} {}",
          pool, w.requests, w.slow, w.slow_rate(), policy.slow ? policy.slow->rate : 0,
          duration_text(policy.slow ? policy.slow->over_ms : 0), duration_text(policy.window_ms),
          duration_text(policy.open_for_ms), fallback_text(policy));
    case TripReason::kProbeFailed:
      return fmt::format(
          "proxy: event=breaker_opened pool={} reason=probe_failed probes={} succeeded={} "
          "open_for={} {}",
          pool, t.probes, t.probes_succeeded, duration_text(policy.open_for_ms),
          fallback_text(policy));
    case TripReason::kOpenForOver:
      return fmt::format("proxy: event=breaker_half_open pool={} open_for={} probes={}", pool,
                         duration_text(policy.open_for_ms), policy.half_open_requests);
    case TripReason::kProbesPassed:
      return fmt::format("proxy: event=breaker_closed pool={} probes={} succeeded={}", pool,
                         t.probes, t.probes_succeeded);
    case TripReason::kNone:
      break;
  }
  return fmt::format("proxy: event=breaker_{} pool={}", breaker_state_name(t.to), pool);
}

CircuitBreaker::CircuitBreaker(BreakerConfig policy)
    : policy_(std::move(policy)),
      bucket_ms_((policy_.window_ms + bucket_count(policy_.window_ms) - 1) /
                 bucket_count(policy_.window_ms)),
      buckets_(static_cast<size_t>(bucket_count(policy_.window_ms))) {}

void CircuitBreaker::count(BreakerOutcome outcome, int64_t now_ms) {
  const int64_t epoch = now_ms / bucket_ms_;
  Bucket& b = buckets_[static_cast<size_t>(epoch % static_cast<int64_t>(buckets_.size()))];
  if (b.epoch.load(std::memory_order_acquire) != epoch) {
    // The bucket still holds a second that left the window: the first
    // outcome of the new second resets it (once a second per breaker).
    std::lock_guard lock(mutex_);
    if (b.epoch.load(std::memory_order_relaxed) < epoch) {
      b.requests.store(0, std::memory_order_relaxed);
      b.failures.store(0, std::memory_order_relaxed);
      b.slow.store(0, std::memory_order_relaxed);
      b.epoch.store(epoch, std::memory_order_release);
    } else if (b.epoch.load(std::memory_order_relaxed) > epoch) {
      return;  // a thread whose clock lags a whole window: too old to count
    }
  }
  b.requests.fetch_add(1, std::memory_order_relaxed);
  if (outcome.failure) b.failures.fetch_add(1, std::memory_order_relaxed);
  if (outcome.slow) b.slow.fetch_add(1, std::memory_order_relaxed);
}

BreakerCounts CircuitBreaker::window(int64_t now_ms) const {
  const int64_t newest = now_ms / bucket_ms_;
  const int64_t oldest = newest - static_cast<int64_t>(buckets_.size()) + 1;
  BreakerCounts c;
  for (const Bucket& b : buckets_) {
    const int64_t epoch = b.epoch.load(std::memory_order_acquire);
    if (epoch < oldest || epoch > newest) continue;
    c.requests += b.requests.load(std::memory_order_relaxed);
    c.failures += b.failures.load(std::memory_order_relaxed);
    c.slow += b.slow.load(std::memory_order_relaxed);
  }
  return c;
}

void CircuitBreaker::clear_window() {
  for (Bucket& b : buckets_) b.epoch.store(-1, std::memory_order_release);
}

int64_t CircuitBreaker::open_remaining_ms(int64_t now_ms) const {
  if (state() != BreakerState::kOpen) return 0;
  return std::max<int64_t>(
      0, opened_at_ms_.load(std::memory_order_relaxed) + policy_.open_for_ms - now_ms);
}

BreakerTransition CircuitBreaker::enter(BreakerState to, TripReason reason, int64_t now_ms) {
  BreakerTransition t;
  t.to = to;
  t.reason = reason;
  t.probes = probes_admitted_;
  t.probes_succeeded = probes_succeeded_;
  switch (to) {
    case BreakerState::kOpen:
      opened_at_ms_.store(now_ms, std::memory_order_relaxed);
      break;
    case BreakerState::kHalfOpen:
      ++half_open_period_;
      probes_admitted_ = 0;
      probes_succeeded_ = 0;
      break;
    case BreakerState::kClosed:
      // What made it open must not open it again at once.
      clear_window();
      break;
  }
  state_.store(to, std::memory_order_release);
  transitions_[static_cast<size_t>(to)].fetch_add(1, std::memory_order_relaxed);
  return t;
}

BreakerAdmission CircuitBreaker::admit(int64_t now_ms) {
  BreakerState s = state_.load(std::memory_order_acquire);
  if (s == BreakerState::kClosed) return {};
  if (s == BreakerState::kOpen &&
      now_ms < opened_at_ms_.load(std::memory_order_relaxed) + policy_.open_for_ms) {
    return {BreakerVerdict::kDivert, 0, open_remaining_ms(now_ms), std::nullopt};
  }
  std::lock_guard lock(mutex_);
  BreakerAdmission a;
  s = state_.load(std::memory_order_relaxed);
  if (s == BreakerState::kClosed) return a;
  if (s == BreakerState::kOpen) {
    const int64_t until = opened_at_ms_.load(std::memory_order_relaxed) + policy_.open_for_ms;
    if (now_ms < until) return {BreakerVerdict::kDivert, 0, until - now_ms, std::nullopt};
    a.transition = enter(BreakerState::kHalfOpen, TripReason::kOpenForOver, now_ms);
  }
  if (probes_admitted_ < policy_.half_open_requests) {
    ++probes_admitted_;
    a.verdict = BreakerVerdict::kProbe;
    a.probe_ticket = half_open_period_;
    return a;
  }
  // Every probe is out: the rest wait for their verdict. A client retrying
  // in a second finds it decided.
  a.verdict = BreakerVerdict::kDivert;
  a.retry_after_ms = 1000;
  return a;
}

std::optional<BreakerTransition> CircuitBreaker::on_outcome(BreakerOutcome outcome,
                                                            uint64_t probe_ticket, int64_t now_ms) {
  count(outcome, now_ms);
  if (probe_ticket != 0) {
    std::lock_guard lock(mutex_);
    if (state_.load(std::memory_order_relaxed) != BreakerState::kHalfOpen ||
        probe_ticket != half_open_period_) {
      return std::nullopt;  // decided already, by another probe
    }
    // A slow probe is not a success: closing on it would trip again on the
    // same slowness once min_requests arrive.
    if (outcome.failure || outcome.slow) {
      return enter(BreakerState::kOpen, TripReason::kProbeFailed, now_ms);
    }
    ++probes_succeeded_;
    if (probes_succeeded_ >= policy_.half_open_requests) {
      return enter(BreakerState::kClosed, TripReason::kProbesPassed, now_ms);
    }
    return std::nullopt;
  }
  if (state_.load(std::memory_order_relaxed) != BreakerState::kClosed) return std::nullopt;
  const BreakerCounts counts = window(now_ms);
  const TripReason reason = should_trip(policy_, counts);
  if (reason == TripReason::kNone) return std::nullopt;
  std::lock_guard lock(mutex_);
  if (state_.load(std::memory_order_relaxed) != BreakerState::kClosed) return std::nullopt;
  BreakerTransition t = enter(BreakerState::kOpen, reason, now_ms);
  t.window = counts;
  return t;
}

void CircuitBreaker::release_probe(uint64_t probe_ticket) {
  if (probe_ticket == 0) return;
  std::lock_guard lock(mutex_);
  if (state_.load(std::memory_order_relaxed) == BreakerState::kHalfOpen &&
      probe_ticket == half_open_period_ && probes_admitted_ > probes_succeeded_) {
    --probes_admitted_;
  }
}

}  // namespace ferry::proxy
