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

void RouteDiffs::record(const std::vector<FieldDifference>& differences,
                        const std::optional<std::vector<FieldDifference>>& noise,
                        const std::string& at, const std::string& method, const std::string& target,
                        const AnswerToCompare& primary, const AnswerToCompare& candidate) {
  std::lock_guard lock(mu_);
  ++compared_;
  std::vector<FieldDifference> counted;
  if (noise) {
    noise_.observe(differences, *noise);
    for (const auto& d : differences)
      if (noise_.is_signal(d.path)) counted.push_back(d);
  } else {
    counted = differences;
  }
  if (counted.empty()) {
    ++identical_;
    return;
  }
  ++different_;
  // A field counts once per request however many array elements differ on
  // it, so its rate is the share of compared requests.
  std::set<std::string> paths;
  for (const auto& d : counted) paths.insert(general_path(d.path));
  for (const auto& path : paths) {
    auto it = fields_.find(path);
    if (it != fields_.end())
      ++it->second;
    else if (fields_.size() < kMaxFieldPaths)
      fields_.emplace(path, 1);
    else
      ++fields_["other"];
  }
  samples_.push_back({at, method, target, std::move(counted), shown(primary), shown(candidate)});
  if (samples_.size() > kKeptSamples) samples_.pop_front();
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
  RouteDiffSnapshot s{
      compared_,      identical_,         different_, skipped_large_,
      mirror_errors_, last_mirror_error_, {},         {samples_.begin(), samples_.end()}};
  for (const auto& [path, count] : fields_) s.fields.push_back({path, count});
  std::stable_sort(s.fields.begin(), s.fields.end(),
                   [](const FieldCount& a, const FieldCount& b) { return a.count > b.count; });
  return s;
}

void RouteDiffs::reset() {
  std::lock_guard lock(mu_);
  compared_ = identical_ = different_ = skipped_large_ = mirror_errors_ = 0;
  last_mirror_error_.clear();
  unreported_errors_ = 0;
  fields_.clear();
  noise_ = NoiseFilter();
  samples_.clear();
}

void write_route_diff_fields(JsonWriter& w, const RouteDiffSnapshot& s) {
  w.field("compared", s.compared)
      .field("identical", s.identical)
      .field("different", s.different)
      .field("skipped_large", s.skipped_large)
      .field("mirror_errors", s.mirror_errors)
      .field("last_mirror_error", s.last_mirror_error)
      .key("fields")
      .begin_array();
  for (const auto& f : s.fields)
    w.begin_object()
        .field("path", f.path)
        .field("count", f.count)
        .field("rate",
               s.compared ? static_cast<double>(f.count) / static_cast<double>(s.compared) : 0.0)
        .end_object();
  w.end_array().key("samples").begin_array();
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
  const std::pair<const char*, int64_t> results[] = {{"identical", s.identical},
                                                     {"different", s.different},
                                                     {"skipped_large", s.skipped_large},
                                                     {"mirror_error", s.mirror_errors}};
  for (const auto& [result, n] : results)
    requests +=
        fmt::format("ferry_mirror_requests_total{{route=\"{}\",result=\"{}\"}} {}\n", r, result, n);
  for (const auto& f : s.fields)
    fields += fmt::format("ferry_mirror_field_differences_total{{route=\"{}\",path=\"{}\"}} {}\n",
                          r, prometheus_label(f.path), f.count);
}

}  // namespace ferry::proxy
