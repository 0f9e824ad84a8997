// The analysis behind a progressive rollout: one verdict on one window (the
// last `interval`), comparing the new side of a route with its old side in
// the proxy's own measurements. Pure: counts in, verdict out; the numbers
// behind it travel with it so every verdict can be logged and shown.
//
//   fewer than min_requests on either side      -> inconclusive (never a pass)
//   new error rate - old error rate > max_error_rate_increase (points) -> fail
//   new p99 > max_p99_ratio x old p99            -> fail
//   otherwise                                    -> pass
//
// An error is a 5xx answer, whether the upstream sent it or the proxy made
// it (502 on a connect error or reset, 504 on a timeout, 503 from an open
// breaker). p99 is read from the latency histogram (kLatencyBuckets) with
// linear interpolation inside the bucket, as Prometheus's
// histogram_quantile does; beyond the last bucket it is that bucket's bound.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "proxy/proxy_config.h"
#include "proxy/proxy_state.h"

namespace ferry::proxy {

// One side's requests over a window, or (as read from RequestStats) since
// the proxy started; a window is the difference of two readings.
struct SideCounts {
  int64_t requests = 0;
  int64_t errors = 0;  // 5xx
  std::array<int64_t, kLatencyBuckets.size() + 1> latency{};

  double error_rate_percent() const;
  // 0 without requests.
  double p99_ms() const;
  SideCounts operator-(const SideCounts& earlier) const;
  SideCounts& operator+=(const SideCounts& more);
};

// What RequestStats has counted so far (relaxed reads; a request being
// recorded at that moment may be in one counter and not yet in another).
SideCounts read_counts(const RequestStats& stats);

enum class VerdictKind { kPass, kFail, kInconclusive };
const char* verdict_name(VerdictKind k);

enum class VerdictReason { kNone, kTooFewRequests, kErrorRate, kP99Ratio };
const char* verdict_reason_name(VerdictReason r);

struct Verdict {
  VerdictKind kind = VerdictKind::kInconclusive;
  VerdictReason reason = VerdictReason::kTooFewRequests;
  int64_t requests_new = 0;
  int64_t requests_old = 0;
  double error_rate_new = 0;  // percent
  double error_rate_old = 0;
  double p99_ms_new = 0;
  double p99_ms_old = 0;
  AnalysisConfig policy;  // the thresholds it was judged by
};

Verdict analyse(const SideCounts& old_side, const SideCounts& new_side,
                const AnalysisConfig& policy);

// `verdict=fail reason=error_rate new_requests=... old_requests=... ...`:
// the numbers and thresholds, as key=value pairs for a log line.
std::string verdict_fields(const Verdict& v);
// The same without verdict= and reason=.
std::string verdict_numbers(const Verdict& v);

}  // namespace ferry::proxy
