#include "proxy/rollout_analysis.h"

#include <fmt/format.h>

namespace ferry::proxy {

double SideCounts::error_rate_percent() const {
  return requests > 0 ? 100.0 * static_cast<double>(errors) / static_cast<double>(requests) : 0;
}

double SideCounts::p99_ms() const {
  int64_t total = 0;
  for (int64_t n : latency) total += n;
  if (total <= 0) return 0;
  const double rank = 0.99 * static_cast<double>(total);
  int64_t below = 0;
  for (size_t b = 0; b < latency.size(); ++b) {
    if (latency[b] <= 0 || static_cast<double>(below + latency[b]) < rank) {
      below += latency[b];
      continue;
    }
    if (b == kLatencyBuckets.size()) return kLatencyBuckets.back() * 1000;  // +Inf bucket
    const double lower = b == 0 ? 0 : kLatencyBuckets[b - 1];
    const double upper = kLatencyBuckets[b];
    const double within = (rank - static_cast<double>(below)) / static_cast<double>(latency[b]);
    return (lower + (upper - lower) * within) * 1000;
  }
  return kLatencyBuckets.back() * 1000;
}

SideCounts SideCounts::operator-(const SideCounts& earlier) const {
  SideCounts d;
  d.requests = requests - earlier.requests;
  d.errors = errors - earlier.errors;
  for (size_t b = 0; b < latency.size(); ++b) d.latency[b] = latency[b] - earlier.latency[b];
  return d;
}

SideCounts& SideCounts::operator+=(const SideCounts& more) {
  requests += more.requests;
  errors += more.errors;
  for (size_t b = 0; b < latency.size(); ++b) latency[b] += more.latency[b];
  return *this;
}

SideCounts read_counts(const RequestStats& stats) {
  SideCounts c;
  for (const auto& n : stats.by_class) {
    c.requests += static_cast<int64_t>(n.load(std::memory_order_relaxed));
  }
  c.errors = static_cast<int64_t>(stats.by_class[4].load(std::memory_order_relaxed));
  for (size_t b = 0; b < c.latency.size(); ++b) {
    c.latency[b] = static_cast<int64_t>(stats.latency[b].load(std::memory_order_relaxed));
  }
  return c;
}

const char* verdict_name(VerdictKind k) {
  switch (k) {
    case VerdictKind::kPass:
      return "pass";
    case VerdictKind::kFail:
      return "fail";
    case VerdictKind::kInconclusive:
      return "inconclusive";
  }
  return "";
}

const char* verdict_reason_name(VerdictReason r) {
  switch (r) {
    case VerdictReason::kNone:
      return "none";
    case VerdictReason::kTooFewRequests:
      return "too_few_requests";
    case VerdictReason::kErrorRate:
      return "error_rate";
    case VerdictReason::kP99Ratio:
      return "p99_ratio";
  }
  return "";
}

Verdict analyse(const SideCounts& old_side, const SideCounts& new_side,
                const AnalysisConfig& policy) {
  Verdict v;
  v.policy = policy;
  v.requests_new = new_side.requests;
  v.requests_old = old_side.requests;
  v.error_rate_new = new_side.error_rate_percent();
  v.error_rate_old = old_side.error_rate_percent();
  v.p99_ms_new = new_side.p99_ms();
  v.p99_ms_old = old_side.p99_ms();
  // Too little data is never a pass, and never a fail either.
  if (new_side.requests < policy.min_requests || old_side.requests < policy.min_requests ||
      new_side.requests <= 0 || old_side.requests <= 0) {
    v.kind = VerdictKind::kInconclusive;
    v.reason = VerdictReason::kTooFewRequests;
    return v;
  }
  // A tiny tolerance, so that "1.0 points more" with a 1.0 limit is not a
  // fail by a rounding error.
  if (v.error_rate_new - v.error_rate_old > policy.max_error_rate_increase + 1e-9) {
    v.kind = VerdictKind::kFail;
    v.reason = VerdictReason::kErrorRate;
    return v;
  }
  if (v.p99_ms_new > policy.max_p99_ratio * v.p99_ms_old + 1e-9) {
    v.kind = VerdictKind::kFail;
    v.reason = VerdictReason::kP99Ratio;
    return v;
  }
  v.kind = VerdictKind::kPass;
  v.reason = VerdictReason::kNone;
  return v;
}

std::string verdict_numbers(const Verdict& v) {
  return fmt::format(
      "requests_new={} requests_old={} new_error_rate={:.2f} old_error_rate={:.2f} "
      "max_error_rate_increase={} new_p99_ms={:.2f} old_p99_ms={:.2f} max_p99_ratio={} "
      "min_requests={}",
      v.requests_new, v.requests_old, v.error_rate_new, v.error_rate_old,
      v.policy.max_error_rate_increase, v.p99_ms_new, v.p99_ms_old, v.policy.max_p99_ratio,
      v.policy.min_requests);
}

std::string verdict_fields(const Verdict& v) {
  return fmt::format("verdict={} reason={} {}", verdict_name(v.kind), verdict_reason_name(v.reason),
                     verdict_numbers(v));
}

}  // namespace ferry::proxy
