// One request of a route's parallel run (docs/proxy.md "Parallel run"): the
// answer the client got from the primary pool, the mirror pool's answer to
// the same request, and, with a noise pool, a second primary's. Each is
// captured as it arrives (AnswerCapture); the last to be complete compares
// them (response_diff.h) and records the outcome in the route's RouteDiffs.
// A part that never completes (the client went away mid-answer) records
// nothing: there is nothing to compare.
//
// Lives on one worker's thread; the comparison itself runs on the
// ComparisonQueue's thread, and RouteDiffs is shared.
//
// Names used throughout: the *primary* is the pool the route chose, whose
// answer the client gets; the *candidate* is the mirror pool (the new
// system); the *noise* instance is a second endpoint of the primary pool.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/diff_report.h"
#include "proxy/http_head.h"
#include "proxy/response_diff.h"

namespace ferry::proxy {

struct MirrorConfig;
class ComparisonQueue;

// One answer, whole, ready to compare.
struct CapturedAnswer {
  enum class Outcome { kComplete, kTooLarge, kFailed };
  Outcome outcome = Outcome::kFailed;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;                                          // the framing taken away
  std::string error;                                         // for kFailed

  AnswerToCompare view() const { return {status, headers, body}; }
};

// Collects an answer as it passes: the head, then the body bytes as framed
// on the wire, kept up to `max_body` bytes (beyond that it is too large to
// compare and nothing more is kept).
class AnswerCapture {
 public:
  explicit AnswerCapture(int64_t max_body) : max_body_(max_body) {}

  void head(const ResponseHead& head);
  // False once the body is past max_body.
  bool body(std::string_view framed);
  bool too_large() const { return too_large_; }
  // The answer, its body decoded.
  CapturedAnswer finish();

 private:
  int64_t max_body_;
  bool too_large_ = false;
  bool chunked_ = false;
  CapturedAnswer answer_;
};

class ParallelRunSample {
 public:
  enum class Part { kPrimary, kCandidate, kNoise };

  // A sample of `route`'s parallel run, or null when the route already has
  // config.max_in_flight samples under way (counted as skipped_busy).
  // `config` may alias the snapshot it belongs to, which it keeps alive.
  static std::shared_ptr<ParallelRunSample> start(std::shared_ptr<const MirrorConfig> config,
                                                  std::string route,
                                                  std::shared_ptr<RouteDiffs> diffs,
                                                  ComparisonQueue& comparisons, std::string method,
                                                  std::string target, bool with_noise);
  // A sample that ends without being judged (the client's exchange ended
  // without a whole answer, the worker shut down) is counted as abandoned.
  ~ParallelRunSample();
  ParallelRunSample(const ParallelRunSample&) = delete;
  ParallelRunSample& operator=(const ParallelRunSample&) = delete;

  const MirrorConfig& config() const { return *config_; }
  // One part's answer; the last of the expected parts has them compared.
  void complete(Part part, CapturedAnswer answer);
  // The request body was too large to send to the mirror: counted, and the
  // sample ends here.
  void skip_large_request();

 private:
  ParallelRunSample(std::shared_ptr<const MirrorConfig> config, std::string route,
                    std::shared_ptr<RouteDiffs> diffs, ComparisonQueue& comparisons,
                    std::string method, std::string target, bool with_noise);
  // Failures are counted here; whole answers go to the comparison queue.
  void judge();
  // Counted; logged as event=mirror_errors when RouteDiffs says a line is due.
  void mirror_error(const std::string& detail);

  std::shared_ptr<const MirrorConfig> config_;
  std::string route_;
  std::shared_ptr<RouteDiffs> diffs_;
  ComparisonQueue& comparisons_;
  std::string method_, target_;
  bool with_noise_;
  int waiting_;
  bool ended_ = false;
  CapturedAnswer primary_, candidate_, noise_;
};

}  // namespace ferry::proxy
