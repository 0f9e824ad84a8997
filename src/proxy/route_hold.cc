#include "proxy/route_hold.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/text.h"
#include "core/yaml.h"

namespace ferry::proxy {

namespace {

// A duration field of the hold body, named in the error when it is not one.
Result<int64_t> duration_field(const YamlNode& value, std::string_view field) {
  const std::optional<int64_t> ms =
      value.is_scalar() ? parse_duration_ms(value.scalar()) : std::nullopt;
  if (!ms || *ms <= 0) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("{}: '{}' is not a positive duration (like 250ms, 5s, 1m)", field,
                            value.is_scalar() ? value.scalar() : "(not a single value)"));
  }
  return *ms;
}

// The rank-th smallest (1-based, clamped) of sorted values.
int64_t nearest_rank(const std::vector<int64_t>& sorted, double percent) {
  const auto rank =
      static_cast<size_t>(std::ceil(percent / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace

Result<HoldTerms> parse_hold_terms(std::string_view body) {
  static const std::vector<std::string> kFields = {"timeout", "max_hold"};
  auto doc = parse_yaml(body, "request body");
  if (!doc) return tl::unexpected(doc.error());
  if (!doc->is_mapping()) {
    return fail(ErrorCode::kInvalidInput,
                "expected a JSON object like {\"timeout\":\"5s\",\"max_hold\":\"30s\"}");
  }
  HoldTerms terms;
  bool has_timeout = false;
  for (size_t i = 0; i < doc->size(); ++i) {
    const std::string& field = doc->key(i).scalar();
    if (field == "timeout" || field == "max_hold") {
      auto ms = duration_field(doc->value(i), field);
      if (!ms) return tl::unexpected(ms.error());
      (field == "timeout" ? terms.timeout_ms : terms.max_hold_ms) = *ms;
      has_timeout = has_timeout || field == "timeout";
      continue;
    }
    return fail(ErrorCode::kInvalidInput, fmt::format("unknown field '{}'{}; expected timeout, "
                                                      "max_hold",
                                                      field, did_you_mean_hint(field, kFields)));
  }
  if (!has_timeout) {
    return fail(ErrorCode::kInvalidInput,
                "timeout: required (how long a held request may wait before it is answered "
                "503, like \"5s\")");
  }
  if (terms.max_hold_ms < terms.timeout_ms) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("max_hold: {} ms is shorter than the timeout ({} ms); a hold must "
                            "last at least as long as a request may wait in it",
                            terms.max_hold_ms, terms.timeout_ms));
  }
  return terms;
}

int64_t held_request_deadline_ms(int64_t held_at_ms, const HoldTerms& terms) {
  return held_at_ms + terms.timeout_ms;
}

int64_t hold_expiry_ms(int64_t since_ms, const HoldTerms& terms) {
  return since_ms + terms.max_hold_ms;
}

const char* hold_outcome_name(HoldOutcome outcome) {
  switch (outcome) {
    case HoldOutcome::kReleased:
      return "released";
    case HoldOutcome::kTimedOut:
      return "timed_out";
    case HoldOutcome::kClientGone:
      return "client_gone";
  }
  return "";
}

WaitSummary summarize_waits(std::vector<int64_t> waits_ms) {
  if (waits_ms.empty()) return {};
  std::sort(waits_ms.begin(), waits_ms.end());
  return {nearest_rank(waits_ms, 50), nearest_rank(waits_ms, 99), waits_ms.back()};
}

std::string hold_report_json(const HoldReport& r) {
  JsonWriter w;
  w.begin_object()
      .field("route", r.route)
      .field("held", r.held)
      .field("released", r.released)
      .field("timed_out", r.timed_out)
      .field("client_gone", r.client_gone)
      .field("p50", r.waits.p50_ms)
      .field("p99", r.waits.p99_ms)
      .field("max", r.waits.max_ms)
      .field("held_for_ms", r.held_for_ms)
      .end_object();
  return w.take();
}

std::string hold_report_fields(const HoldReport& r) {
  return fmt::format(
      "route={} held={} released={} timed_out={} client_gone={} p50_ms={} p99_ms={} max_ms={} "
      "held_for_ms={}",
      r.route, r.held, r.released, r.timed_out, r.client_gone, r.waits.p50_ms, r.waits.p99_ms,
      r.waits.max_ms, r.held_for_ms);
}

RouteHold::RouteHold(std::string route, HoldTerms terms, int64_t since_ms, double since_unix_s,
                     size_t workers)
    : route_(std::move(route)),
      terms_(terms),
      since_ms_(since_ms),
      since_unix_s_(since_unix_s),
      waits_ms_(workers) {}

void RouteHold::enter() {
  held_.fetch_add(1, std::memory_order_relaxed);
  waiting_.fetch_add(1, std::memory_order_relaxed);
}

void RouteHold::leave(size_t worker, HoldOutcome outcome, int64_t waited_ms) {
  waits_ms_[worker].push_back(waited_ms);
  outcomes_[static_cast<size_t>(outcome)].fetch_add(1, std::memory_order_relaxed);
  waiting_.fetch_sub(1, std::memory_order_relaxed);
}

uint64_t RouteHold::count(HoldOutcome outcome) const {
  return outcomes_[static_cast<size_t>(outcome)].load(std::memory_order_relaxed);
}

void RouteHold::write_state(JsonWriter& w, int64_t now_ms) const {
  w.key("hold").begin_object();
  w.field("since", iso_time(since_unix_s_, true));
  w.field("held_for_ms", now_ms - since_ms_);
  w.field("timeout_ms", terms_.timeout_ms);
  w.field("max_hold_ms", terms_.max_hold_ms);
  w.field("expires_in_ms", std::max<int64_t>(0, hold_expiry_ms(since_ms_, terms_) - now_ms));
  w.field("waiting", waiting());
  w.field("held", held_.load(std::memory_order_relaxed));
  w.field("timed_out", count(HoldOutcome::kTimedOut));
  w.field("client_gone", count(HoldOutcome::kClientGone));
  w.end_object();
}

HoldReport RouteHold::report(int64_t ended_ms) const {
  HoldReport r;
  r.route = route_;
  r.held = held_.load(std::memory_order_relaxed);
  r.released = count(HoldOutcome::kReleased);
  r.timed_out = count(HoldOutcome::kTimedOut);
  r.client_gone = count(HoldOutcome::kClientGone);
  std::vector<int64_t> all;
  for (const auto& waits : waits_ms_) all.insert(all.end(), waits.begin(), waits.end());
  r.waits = summarize_waits(std::move(all));
  r.held_for_ms = ended_ms - since_ms_;
  return r;
}

}  // namespace ferry::proxy
