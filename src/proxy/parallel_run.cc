#include "proxy/parallel_run.h"

#include <fmt/format.h>

#include <chrono>

#include "core/log.h"
#include "core/text.h"
#include "proxy/chunked_framing.h"
#include "proxy/proxy_config.h"

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

ParallelRunSample::ParallelRunSample(std::shared_ptr<const void> keep, std::string route,
                                     const MirrorConfig& config, std::shared_ptr<RouteDiffs> diffs,
                                     std::string method, std::string target, bool with_noise)
    : keep_(std::move(keep)),
      route_(std::move(route)),
      config_(config),
      diffs_(std::move(diffs)),
      method_(std::move(method)),
      target_(std::move(target)),
      with_noise_(with_noise),
      waiting_(with_noise ? 3 : 2) {}

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
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now().time_since_epoch());
  if (const int64_t n = diffs_->record_mirror_error(detail, now.count())) {
    log_warn(fmt::format("proxy: event=mirror_errors route={} mirror_pool={} errors={} last={}",
                         route_, config_.pool, n, log_value(detail)));
  }
}

void ParallelRunSample::judge() {
  ended_ = true;
  using Outcome = CapturedAnswer::Outcome;
  // What the client got failed: nothing to compare with, and not the mirror's fault.
  if (primary_.outcome == Outcome::kFailed) return;
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
  const AnswerToCompare primary = primary_.view();
  const AnswerToCompare candidate = candidate_.view();
  std::optional<std::vector<FieldDifference>> noise;
  if (with_noise_) noise = diff_answers(primary, noise_.view(), config_.compare);
  diffs_->record(diff_answers(primary, candidate, config_.compare), noise, iso_time(unix_now()),
                 method_, target_, primary, candidate);
}

}  // namespace ferry::proxy
