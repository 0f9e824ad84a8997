// Calendar dates for plans: ISO 8601 days (YYYY-MM-DD) and working days
// (Monday to Friday; no public holidays: the plan's margin covers them).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry {

struct CalendarDate {
  int days = 0;  // since 1970-01-01
  friend bool operator==(CalendarDate, CalendarDate) = default;
};

// Strict YYYY-MM-DD with a day that exists (2027-02-29 is refused).
std::optional<CalendarDate> parse_iso_date(std::string_view text);
std::string iso_text(CalendarDate date);

bool is_working_day(CalendarDate date);
// The date itself when it is a working day, else the Monday after.
CalendarDate next_working_day(CalendarDate date);
// `n` working days after `date` (a weekend `date` counts from the Monday after).
CalendarDate add_working_days(CalendarDate date, int n);
// The Monday after today (UTC): when a plan starts if nobody says.
CalendarDate next_monday_utc();

// Working days counted from a start: weekends and the given holidays are
// skipped. Day 0 is the start (or the first working day after it).
class WorkCalendar {
 public:
  WorkCalendar() = default;
  WorkCalendar(CalendarDate start, std::vector<CalendarDate> holidays);

  CalendarDate start() const { return date_of(0); }
  CalendarDate date_of(int day) const;
  // The working day a date falls on, or the next one when it is not one.
  int index_of(CalendarDate date) const;
  const std::vector<CalendarDate>& holidays() const { return holidays_; }

 private:
  bool is_holiday(CalendarDate date) const;
  // Holidays on working days from the start up to `date`, inclusive.
  int holidays_until(CalendarDate date) const;

  CalendarDate start_;
  std::vector<CalendarDate> holidays_;  // sorted, each once
  std::vector<int> counted_;            // those on working days from the start, as days
};

}  // namespace ferry
