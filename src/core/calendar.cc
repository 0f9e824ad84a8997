#include "core/calendar.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>

namespace ferry {

namespace {

namespace chr = std::chrono;

// 0 is Monday.
int weekday_of(CalendarDate date) {
  return static_cast<int>(chr::weekday(chr::sys_days(chr::days(date.days))).iso_encoding()) - 1;
}

std::optional<int> digits(std::string_view text) {
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<CalendarDate> parse_iso_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const auto y = digits(text.substr(0, 4)), m = digits(text.substr(5, 2)),
             d = digits(text.substr(8, 2));
  if (!y || !m || !d) return std::nullopt;
  const chr::year_month_day ymd{chr::year(*y), chr::month(static_cast<unsigned>(*m)),
                                chr::day(static_cast<unsigned>(*d))};
  if (!ymd.ok()) return std::nullopt;
  return CalendarDate{static_cast<int>(chr::sys_days(ymd).time_since_epoch().count())};
}

std::string iso_text(CalendarDate date) {
  const chr::year_month_day ymd{chr::sys_days(chr::days(date.days))};
  char out[16];
  std::snprintf(out, sizeof out, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return out;
}

bool is_working_day(CalendarDate date) { return weekday_of(date) < 5; }

CalendarDate next_working_day(CalendarDate date) {
  const int weekday = weekday_of(date);
  return weekday < 5 ? date : CalendarDate{date.days + 7 - weekday};
}

CalendarDate add_working_days(CalendarDate date, int n) {
  date = next_working_day(date);
  const int weekday = weekday_of(date);
  // Whole weeks first, then the days left, stepping over one weekend if they cross it.
  const int weeks = n / 5, rest = n % 5;
  int days = date.days + weeks * 7 + rest;
  if (weekday + rest >= 5) days += 2;
  return CalendarDate{days};
}

CalendarDate next_monday_utc() {
  const auto today = chr::floor<chr::days>(chr::system_clock::now());
  const CalendarDate date{static_cast<int>(today.time_since_epoch().count())};
  return CalendarDate{date.days + 7 - weekday_of(date)};
}

WorkCalendar::WorkCalendar(CalendarDate start, std::vector<CalendarDate> holidays)
    : start_(start), holidays_(std::move(holidays)) {
  auto by_day = [](CalendarDate a, CalendarDate b) { return a.days < b.days; };
  std::sort(holidays_.begin(), holidays_.end(), by_day);
  holidays_.erase(std::unique(holidays_.begin(), holidays_.end()), holidays_.end());
  // Day 0 is a working day that is no holiday.
  start_ = next_working_day(start_);
  while (is_holiday(start_)) start_ = add_working_days(start_, 1);
  // The holidays that take a working day away: on weekdays, from the start on.
  for (CalendarDate h : holidays_) {
    if (h.days >= start_.days && is_working_day(h)) counted_.push_back(h.days);
  }
}

bool WorkCalendar::is_holiday(CalendarDate date) const {
  return std::binary_search(holidays_.begin(), holidays_.end(), date,
                            [](CalendarDate a, CalendarDate b) { return a.days < b.days; });
}

int WorkCalendar::holidays_until(CalendarDate date) const {
  return static_cast<int>(std::upper_bound(counted_.begin(), counted_.end(), date.days) -
                          counted_.begin());
}

CalendarDate WorkCalendar::date_of(int day) const {
  // Each holiday up to the date found pushes it one working day further,
  // which may pass more holidays: repeat until it stops moving.
  int skipped = 0;
  CalendarDate date = add_working_days(start_, day);
  for (int seen = holidays_until(date); seen != skipped; seen = holidays_until(date)) {
    skipped = seen;
    date = add_working_days(start_, day + skipped);
  }
  return date;
}

int WorkCalendar::index_of(CalendarDate date) const {
  if (date.days <= start_.days) return 0;
  // date_of grows with the day: the first day whose date is not before `date`.
  int low = 0, high = date.days - start_.days + 1;
  while (low < high) {
    const int mid = (low + high) / 2;
    if (date_of(mid).days < date.days)
      low = mid + 1;
    else
      high = mid;
  }
  return low;
}

}  // namespace ferry
