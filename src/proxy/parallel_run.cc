#include "proxy/parallel_run.h"

#include <fmt/format.h>

#include "core/log.h"
#include "core/text.h"
#include "proxy/chunked_framing.h"
#include "proxy/comparison_queue.h"
#include "proxy/proxy_config.h"
#include "proxy/proxy_state.h"

namespace ferry::proxy {

void AnswerCapture::head(const ResponseHead& head) {
  answer_.status = head.status;
  answer_.headers.clear();
  for (const HeaderField& f : head.headers)
    answer_.headers.emplace_back(to_lower(f.name), std::string(f.value));
  chunked_ = head.framing.body == BodyFraming::kChunked;
}

bool AnswerCapture::body(std::string_view framed) {
  if (too_large_) return false;
  if (static_cast<int64_t>(answer_.body.size() + framed.size()) > max_body_) {
    too_large_ = true;
    answer_.body.clear();
    answer_.body.shrink_to_fit();
    return false;
  }
  answer_.body.append(framed);
  return true;
}

CapturedAnswer AnswerCapture::finish() {
  CapturedAnswer a = std::move(answer_);
  if (too_large_) {
    a.outcome = CapturedAnswer::Outcome::kTooLarge;
    return a;
  }
  a.outcome = CapturedAnswer::Outcome::kComplete;
  if (chunked_) {
    if (auto data = decode_chunked(a.body)) {
      a.body = std::move(*data);
    } else {
      a.outcome = CapturedAnswer::Outcome::kFailed;
      a.error = "the chunked body could not be decoded";
    }
  }
  return a;
}

namespace {

// On the comparison thread: everything the sample had, by value.
void compare_and_record(const MirrorConfig& config, RouteDiffs& diffs, const std::string& method,
                        const std::string& target, const std::string& at,
                        const CapturedAnswer& primary, const CapturedAnswer& candidate,
                        const std::optional<CapturedAnswer>& noise) {
  const AnswerToCompare p = primary.view();
  std::vector<AnswerToCompare> others{candidate.view()};
  if (noise) others.push_back(noise->view());
  auto differences = diff_answers(p, others, config.compare);
  std::optional<std::vector<FieldDifference>> noise_differences;
  if (noise) noise_differences = std::move(differences[1]);
  diffs.record(differences[0], noise_differences, at, method, target, p, others[0]);
}

}  // namespace

std::shared_ptr<ParallelRunSample> ParallelRunSample::start(
    std::shared_ptr<const MirrorConfig> config, std::string route,
    std::shared_ptr<RouteDiffs> diffs, ComparisonQueue& comparisons, std::string method,
    std::string target, bool with_noise) {
  if (!diffs->try_begin(config->max_in_flight)) return nullptr;
  return std::shared_ptr<ParallelRunSample>(
      new ParallelRunSample(std::move(config), std::move(route), std::move(diffs), comparisons,
                            std::move(method), std::move(target), with_noise));
}

ParallelRunSample::ParallelRunSample(std::shared_ptr<const MirrorConfig> config, std::string route,
                                     std::shared_ptr<RouteDiffs> diffs,
                                     ComparisonQueue& comparisons, std::string method,
                                     std::string target, bool with_noise)
    : config_(std::move(config)),
      route_(std::move(route)),
      diffs_(std::move(diffs)),
      comparisons_(comparisons),
      method_(std::move(method)),
      target_(std::move(target)),
      with_noise_(with_noise),
      waiting_(with_noise ? 3 : 2) {}

ParallelRunSample::~ParallelRunSample() {
  if (!ended_) diffs_->record_abandoned();
  diffs_->end();
}

void ParallelRunSample::skip_large_request() {
  if (ended_) return;
  ended_ = true;
  diffs_->record_skipped_large();
}

void ParallelRunSample::complete(Part part, CapturedAnswer answer) {
  if (ended_) return;
  switch (part) {
    case Part::kPrimary:
      primary_ = std::move(answer);
      break;
    case Part::kCandidate:
      candidate_ = std::move(answer);
      break;
    case Part::kNoise:
      noise_ = std::move(answer);
      break;
  }
  if (--waiting_ == 0) judge();
}

void ParallelRunSample::mirror_error(const std::string& detail) {
  if (const int64_t n = diffs_->record_mirror_error(detail, monotonic_ms())) {
    log_warn(fmt::format("proxy: event=mirror_errors route={} mirror_pool={} errors={} last={}",
                         route_, config_->pool, n, log_value(detail)));
  }
}

void ParallelRunSample::judge() {
  ended_ = true;
  using Outcome = CapturedAnswer::Outcome;
  // What the client got failed: nothing to compare with, and not the mirror's fault.
  if (primary_.outcome == Outcome::kFailed) {
    diffs_->record_abandoned();
    return;
  }
  if (candidate_.outcome == Outcome::kFailed) {
    mirror_error(candidate_.error);
    return;
  }
  if (with_noise_ && noise_.outcome == Outcome::kFailed) {
    mirror_error("noise: " + noise_.error);
    return;
  }
  if (primary_.outcome == Outcome::kTooLarge || candidate_.outcome == Outcome::kTooLarge ||
      (with_noise_ && noise_.outcome == Outcome::kTooLarge)) {
    diffs_->record_skipped_large();
    return;
  }
  std::optional<CapturedAnswer> noise;
  if (with_noise_) noise = std::move(noise_);
  const bool queued = comparisons_.push([config = config_, diffs = diffs_,
                                         method = std::move(method_), target = std::move(target_),
                                         at = unix_now(), primary = std::move(primary_),
                                         candidate = std::move(candidate_),
                                         noise = std::move(noise)] {
    // Formatted here, off the worker's thread, like the comparison.
    compare_and_record(*config, *diffs, method, target, iso_time(at), primary, candidate, noise);
  });
  if (!queued) diffs_->record_skipped_busy();
}

}  // namespace ferry::proxy
