#include "assess/traffic.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string>
#include <utility>

#include "core/text.h"

namespace ferry::assess {

namespace {

// Runs per day for schedule words.
std::optional<double> schedule_runs_per_day(const std::string& word) {
  static const std::array<std::pair<const char*, double>, 7> kSchedules{{
      {"hourly", 24},
      {"daily", 1},
      {"nightly", 1},
      {"weekly", 1.0 / 7},
      {"monthly", 1.0 / 30},
      {"continuous", 86400},
      {"realtime", 86400},
  }};
  for (const auto& [name, runs] : kSchedules) {
    if (word == name) return runs;
  }
  return std::nullopt;
}

std::optional<double> per_day_factor(std::string_view period) {
  static const std::array<std::pair<const char*, double>, 12> kPeriods{{
      {"s", 86400},
      {"sec", 86400},
      {"second", 86400},
      {"min", 1440},
      {"minute", 1440},
      {"h", 24},
      {"hr", 24},
      {"hour", 24},
      {"day", 1},
      {"d", 1},
      {"week", 1.0 / 7},
      {"month", 1.0 / 30},
  }};
  for (const auto& [name, factor] : kPeriods) {
    if (period == name) return factor;
  }
  return std::nullopt;
}

}  // namespace

std::optional<Traffic> parse_traffic(std::string_view raw) {
  const std::string text = to_lower(trim(raw));
  Traffic out;
  if (text.empty()) return std::nullopt;
  if (auto runs = schedule_runs_per_day(normalize_name(text))) {
    out.requests_per_day = *runs;
    out.scheduled = true;
    return out;
  }
  // <number>[k|m|b] <unit>[/<period>]
  double value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || !std::isfinite(value) || value < 0 || value > 1e12) return std::nullopt;
  if (ptr < end) {
    switch (*ptr) {
      case 'k':
        value *= 1e3;
        ++ptr;
        break;
      case 'm':
        value *= 1e6;
        ++ptr;
        break;
      case 'b':
        value *= 1e9;
        ++ptr;
        break;
      default:
        break;
    }
  }
  std::string rest = std::string(trim(std::string_view(ptr, end - ptr)));
  std::string unit = rest;
  std::optional<double> factor = 1.0;
  if (auto slash = rest.find_first_of("/"); slash != std::string::npos) {
    unit = std::string(trim(std::string_view(rest).substr(0, slash)));
    factor = per_day_factor(trim(std::string_view(rest).substr(slash + 1)));
  } else if (auto per = rest.find(" per "); per != std::string::npos) {
    unit = rest.substr(0, per);
    factor = per_day_factor(trim(std::string_view(rest).substr(per + 5)));
  }
  if (!factor) return std::nullopt;
  // Same ceiling as the YAML fields: anything larger is a typo, not traffic.
  if (value * (*factor) > 1e15) return std::nullopt;
  const std::string u = normalize_name(unit);
  if (u == "users" || u == "user" || u == "activeusers") {
    out.active_users = value;
  } else if (u == "req" || u == "reqs" || u == "requests" || u == "request" || u == "calls" ||
             u == "hits" || u == "rps" || u.empty()) {
    out.requests_per_day = value * (u == "rps" ? 86400 : *factor);
  } else {
    return std::nullopt;
  }
  return out;
}

}  // namespace ferry::assess
