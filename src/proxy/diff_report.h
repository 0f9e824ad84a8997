// What the parallel run has found on one route: how many mirrored requests
// were compared, identical, different, skipped as too large or lost to a
// mirror error; each field path's count of differences (at most
// kMaxFieldPaths paths, the rest counted under "other", so the metrics stay
// bounded); and the last kKeptSamples differing pairs, bodies cut to 4 KiB and
// the values of `redact` headers masked. With a noise instance of the primary
// (NoiseFilter), a field counts only once primary and candidate differ on it
// more often than the two primaries do.
//
// Shared by the workers of one process (a mutex: it is taken once per
// compared request, off the client's path); rendered for GET /admin/diff
// and /metrics.
#pragma once

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
  std::string path;  // general (indices as [*]), or "other"
  int64_t count = 0;
};

struct RouteDiffSnapshot {
  int64_t compared = 0, identical = 0, different = 0, skipped_large = 0, mirror_errors = 0;
  std::string last_mirror_error;    // what the latest one was, "" before any
  std::vector<FieldCount> fields;   // most differences first
  std::vector<DiffSample> samples;  // newest last
};

class RouteDiffs {
 public:
  explicit RouteDiffs(std::vector<std::string> redact_headers)
      : redact_(std::move(redact_headers)) {}

  // One compared request. `noise`: what two instances of the primary differed
  // on for it, when the route has a noise pool.
  void record(const std::vector<FieldDifference>& differences,
              const std::optional<std::vector<FieldDifference>>& noise, const std::string& at,
              const std::string& method, const std::string& target, const AnswerToCompare& primary,
              const AnswerToCompare& candidate);
  void record_skipped_large();
  // Counts a mirror error. Returns how many errors to report in one log line
  // now (those since the last line): the first error at once, then at most
  // one line a minute, so a dead mirror is said out loud without flooding
  // the log. 0: no line due.
  int64_t record_mirror_error(std::string detail, int64_t now_ms);

  RouteDiffSnapshot snapshot() const;
  void reset();

 private:
  ShownAnswer shown(const AnswerToCompare& a) const;

  const std::vector<std::string> redact_;
  mutable std::mutex mu_;
  int64_t compared_ = 0, identical_ = 0, different_ = 0, skipped_large_ = 0, mirror_errors_ = 0;
  std::string last_mirror_error_;
  int64_t unreported_errors_ = 0;
  int64_t next_error_report_ms_ = 0;
  std::map<std::string, int64_t> fields_;  // at most kMaxFieldPaths, then "other"
  NoiseFilter noise_;
  std::deque<DiffSample> samples_;
};

// compared, identical, different, skipped_large, mirror_errors,
// fields: [{path, count, rate}] and samples: [...], into the object `w` has open.
void write_route_diff_fields(JsonWriter& w, const RouteDiffSnapshot& s);
// Appends the route's lines of ferry_mirror_requests_total{route,result} to
// `requests` and of ferry_mirror_field_differences_total{route,path} to
// `fields`, without HELP/TYPE (the caller writes those once for all routes).
void append_route_diff_metrics(const std::string& route, const RouteDiffSnapshot& s,
                               std::string& requests, std::string& fields);

}  // namespace ferry::proxy
