#include "proxy/diff_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <utility>

#include "core/json_writer.h"
#include "core/metrics_endpoint.h"

namespace ferry::proxy {

namespace {

void write_answer(JsonWriter& w, const ShownAnswer& a) {
  w.begin_object().field("status", a.status).key("headers").begin_object();
  for (const auto& [name, value] : a.headers) w.field(name, value);
  w.end_object().field("body", a.body).field("body_cut", a.body_cut).end_object();
}

}  // namespace

ShownAnswer RouteDiffs::shown(const AnswerToCompare& a) const {
  ShownAnswer s;
  s.status = a.status;
  for (const auto& [name, value] : a.headers) {
    const bool secret = std::find(redact_.begin(), redact_.end(), name) != redact_.end();
    s.headers.emplace_back(name, secret ? "***" : value);
  }
  s.body_cut = a.body.size() > kSampleBodyBytes;
  s.body = std::string(a.body.substr(0, kSampleBodyBytes));
  return s;
}

RouteDiffs::RouteDiffs(std::vector<std::string> redact_headers, bool with_noise)
    : redact_(std::move(redact_headers)), with_noise_(with_noise) {}

bool RouteDiffs::try_begin(int64_t max_in_flight) {
  if (in_flight_.fetch_add(1, std::memory_order_relaxed) >= max_in_flight) {
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    skipped_busy_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

RouteDiffs::Counts& RouteDiffs::slot(const std::string& path) {
  auto it = fields_.find(path);
  if (it != fields_.end()) return it->second;
  if (fields_.size() < kMaxFieldPaths) return fields_[path];
  return fields_["other"];
}

bool RouteDiffs::stands_out(const Counts& c) const {
  return with_noise_ ? proxy::stands_out(c.candidate, c.noise, compared_) : c.candidate > 0;
}

void RouteDiffs::record(const std::vector<FieldDifference>& differences,
                        const std::optional<std::vector<FieldDifference>>& noise,
                        const std::string& at, const std::string& method, const std::string& target,
                        const AnswerToCompare& primary, const AnswerToCompare& candidate) {
  std::lock_guard lock(mu_);
  ++compared_;
  // A field counts once per request however many array elements differ on
  // it, so its rate is the share of compared requests.
  std::set<std::string> paths;
  for (const auto& d : differences) paths.insert(general_path(d.path));
  std::set<Counts*> counted;
  for (const auto& path : paths) {
    Counts& c = slot(path);
    if (counted.insert(&c).second) ++c.candidate;
  }
  if (noise) {
    std::set<Counts*> noisy;
    for (const auto& d : *noise) {
      Counts& c = slot(general_path(d.path));
      if (noisy.insert(&c).second) ++c.noise;
    }
  }
  // Judged on every sample so far, this one included.
  std::vector<FieldDifference> shown_differences;
  for (const auto& d : differences) {
    if (stands_out(slot(general_path(d.path)))) shown_differences.push_back(d);
  }
  if (shown_differences.empty()) {
    ++identical_;
    return;
  }
  ++different_;
  samples_.push_back(
      {at, method, target, std::move(shown_differences), shown(primary), shown(candidate)});
  if (samples_.size() > kKeptSamples) samples_.pop_front();
}

void RouteDiffs::record_abandoned() {
  std::lock_guard lock(mu_);
  ++abandoned_;
}

void RouteDiffs::record_skipped_large() {
  std::lock_guard lock(mu_);
  ++skipped_large_;
}

int64_t RouteDiffs::record_mirror_error(std::string detail, int64_t now_ms) {
  constexpr int64_t kReportEveryMs = 60'000;
  std::lock_guard lock(mu_);
  ++mirror_errors_;
  last_mirror_error_ = std::move(detail);
  ++unreported_errors_;
  if (now_ms < next_error_report_ms_) return 0;
  next_error_report_ms_ = now_ms + kReportEveryMs;
  return std::exchange(unreported_errors_, 0);
}

RouteDiffSnapshot RouteDiffs::snapshot() const {
  std::lock_guard lock(mu_);
  RouteDiffSnapshot s;
  s.with_noise = with_noise_;
  s.compared = compared_;
  s.identical = identical_;
  s.different = different_;
  s.skipped_large = skipped_large_;
  s.skipped_busy = skipped_busy_.load(std::memory_order_relaxed);
  s.mirror_errors = mirror_errors_;
  s.abandoned = abandoned_;
  s.in_flight = in_flight_.load(std::memory_order_relaxed);
  s.last_mirror_error = last_mirror_error_;
  s.samples.assign(samples_.begin(), samples_.end());
  for (const auto& [path, c] : fields_) {
    if (c.candidate == 0) continue;  // only the primaries differed on it
    (stands_out(c) ? s.fields : s.noise_fields).push_back({path, c.candidate, c.noise});
  }
  const auto most_first = [](const FieldCount& a, const FieldCount& b) {
    return a.count > b.count;
  };
  std::stable_sort(s.fields.begin(), s.fields.end(), most_first);
  std::stable_sort(s.noise_fields.begin(), s.noise_fields.end(), most_first);
  return s;
}

void RouteDiffs::reset() {
  std::lock_guard lock(mu_);
  compared_ = identical_ = different_ = skipped_large_ = mirror_errors_ = abandoned_ = 0;
  skipped_busy_.store(0, std::memory_order_relaxed);
  last_mirror_error_.clear();
  unreported_errors_ = 0;
  next_error_report_ms_ = 0;
  fields_.clear();
  samples_.clear();
}

void write_route_diff_fields(JsonWriter& w, const RouteDiffSnapshot& s) {
  w.field("compared", s.compared)
      .field("identical", s.identical)
      .field("different", s.different)
      .field("skipped_large", s.skipped_large)
      .field("skipped_busy", s.skipped_busy)
      .field("mirror_errors", s.mirror_errors)
      .field("abandoned", s.abandoned)
      .field("in_flight", s.in_flight)
      .field("last_mirror_error", s.last_mirror_error);
  const auto write_fields = [&](std::string_view key, const std::vector<FieldCount>& fields) {
    w.key(key).begin_array();
    for (const auto& f : fields)
      w.begin_object()
          .field("path", f.path)
          .field("count", f.count)
          .field("noise", f.noise)
          .field("rate",
                 s.compared ? static_cast<double>(f.count) / static_cast<double>(s.compared) : 0.0)
          .end_object();
    w.end_array();
  };
  write_fields("fields", s.fields);
  write_fields("noise_fields", s.noise_fields);
  w.key("samples").begin_array();
  for (const auto& sample : s.samples) {
    w.begin_object()
        .field("at", sample.at)
        .field("method", sample.method)
        .field("target", sample.target)
        .key("differences")
        .begin_array();
    for (const auto& d : sample.differences)
      w.begin_object()
          .field("path", d.path)
          .field("primary", d.primary)
          .field("candidate", d.candidate)
          .end_object();
    w.end_array().key("primary");
    write_answer(w, sample.primary);
    w.key("candidate");
    write_answer(w, sample.candidate);
    w.end_object();
  }
  w.end_array();
}

void append_route_diff_metrics(const std::string& route, const RouteDiffSnapshot& s,
                               std::string& requests, std::string& fields) {
  const std::string r = prometheus_label(route);
  const std::pair<const char*, int64_t> results[] = {
      {"identical", s.identical},         {"different", s.different},
      {"skipped_large", s.skipped_large}, {"skipped_busy", s.skipped_busy},
      {"mirror_error", s.mirror_errors},  {"abandoned", s.abandoned}};
  for (const auto& [result, n] : results)
    requests +=
        fmt::format("ferry_mirror_requests_total{{route=\"{}\",result=\"{}\"}} {}\n", r, result, n);
  for (const auto& f : s.fields)
    fields += fmt::format("ferry_mirror_field_differences_total{{route=\"{}\",path=\"{}\"}} {}\n",
                          r, prometheus_label(f.path), f.count);
}

}  // namespace ferry::proxy
