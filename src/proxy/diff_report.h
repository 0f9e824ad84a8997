// What the parallel run has found on one route: how many sampled requests
// were compared, identical, different, skipped (a body over max_body, or too
// many in flight), lost to a mirror error or abandoned (the client's exchange
// ended without a whole answer to compare); each field path's count of
// differences (at most kMaxFieldPaths paths, the rest counted under "other",
// so the metrics stay bounded); and the last kKeptSamples differing pairs,
// bodies cut to 4 KiB and the values of redacted headers masked.
//
// With a noise instance of the primary, each field also counts how often the
// two primaries differed on it, and it is reported as a difference only when
// it stands out of that noise (response_diff.h, judged on every sample so
// far); the others are listed apart, with their numbers.
//
// Shared by the workers and the comparison thread of one process (a mutex,
// taken once per compared request, off the client's path); rendered for
// GET /admin/diff and /metrics.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "proxy/response_diff.h"

namespace ferry {
class JsonWriter;
}

namespace ferry::proxy {

constexpr size_t kMaxFieldPaths = 100;
constexpr size_t kKeptSamples = 20;
constexpr size_t kSampleBodyBytes = 4096;

// Header values never shown in samples, whatever the route redacts as well.
inline const std::vector<std::string> kAlwaysRedacted{"authorization", "cookie",
                                                      "proxy-authorization", "set-cookie"};

// One side of a kept pair, as it will be shown.
struct ShownAnswer {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // at most kSampleBodyBytes
  bool body_cut = false;
};

struct DiffSample {
  std::string at;  // UTC, ISO 8601
  std::string method, target;
  std::vector<FieldDifference> differences;
  ShownAnswer primary, candidate;
};

struct FieldCount {
  std::string path;   // general (indices as [*]), or "other"
  int64_t count = 0;  // compared requests on which primary and candidate differed on it
  int64_t noise = 0;  // ... on which the two primaries did (0 without a noise pool)
};

struct RouteDiffSnapshot {
  bool with_noise = false;
  int64_t compared = 0, identical = 0, different = 0, skipped_large = 0, skipped_busy = 0,
          mirror_errors = 0, abandoned = 0;
  int64_t in_flight = 0;
  std::string last_mirror_error;         // what the latest one was, "" before any
  std::vector<FieldCount> fields;        // the differences, most first
  std::vector<FieldCount> noise_fields;  // differed, but not beyond the noise; most first
  std::vector<DiffSample> samples;       // newest last
};

class RouteDiffs {
 public:
  // `redact_headers` are masked in samples besides kAlwaysRedacted;
  // `with_noise`: every record() brings what the two primaries differed on.
  RouteDiffs(std::vector<std::string> redact_headers, bool with_noise);

  // A sampled request starts, unless `max_in_flight` are already under way
  // (then it is counted as skipped_busy); every true is followed by end().
  bool try_begin(int64_t max_in_flight);
  void end() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }

  // One compared request. `noise`: what two instances of the primary differed
  // on for it, when the route has a noise pool.
  void record(const std::vector<FieldDifference>& differences,
              const std::optional<std::vector<FieldDifference>>& noise, const std::string& at,
              const std::string& method, const std::string& target, const AnswerToCompare& primary,
              const AnswerToCompare& candidate);
  void record_skipped_large();
  // The comparison queue was full.
  void record_skipped_busy() { skipped_busy_.fetch_add(1, std::memory_order_relaxed); }
  void record_abandoned();
  // Counts a mirror error. Returns how many errors to report in one log line
  // now (those since the last line): the first error at once, then at most
  // one line a minute, so a dead mirror is said out loud without flooding
  // the log. 0: no line due.
  int64_t record_mirror_error(std::string detail, int64_t now_ms);

  RouteDiffSnapshot snapshot() const;
  void reset();

 private:
  ShownAnswer shown(const AnswerToCompare& a) const;

  struct Counts {
    int64_t candidate = 0, noise = 0;
  };
  // The slot of a general path: its own, or "other" once kMaxFieldPaths are taken.
  Counts& slot(const std::string& path);
  bool stands_out(const Counts& c) const;

  const std::vector<std::string> redact_;
  const bool with_noise_;
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> skipped_busy_{0};
  mutable std::mutex mu_;
  int64_t compared_ = 0, identical_ = 0, different_ = 0, skipped_large_ = 0, mirror_errors_ = 0,
          abandoned_ = 0;
  std::string last_mirror_error_;
  int64_t unreported_errors_ = 0;
  int64_t next_error_report_ms_ = 0;
  std::map<std::string, Counts> fields_;  // at most kMaxFieldPaths, then "other"
  std::deque<DiffSample> samples_;
};

// compared, identical, different, skipped_large, skipped_busy, mirror_errors,
// abandoned, in_flight, last_mirror_error, fields and noise_fields: [{path,
// count, noise, rate}], and samples: [...], into the object `w` has open.
void write_route_diff_fields(JsonWriter& w, const RouteDiffSnapshot& s);
// Appends the route's lines of ferry_mirror_requests_total{route,result} to
// `requests` and of ferry_mirror_field_differences_total{route,path} (the
// fields that stand out) to `fields`, without HELP/TYPE (the caller writes those once for all
// routes).
void append_route_diff_metrics(const std::string& route, const RouteDiffSnapshot& s,
                               std::string& requests, std::string& fields);

}  // namespace ferry::proxy
