#include "core/calendar.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace ferry {
namespace {

CalendarDate date(const char* text) { return *parse_iso_date(text); }

TEST(Calendar, IsoDatesRoundTripAndBadOnesAreRefused) {
  EXPECT_EQ(iso_text(date("2027-01-04")), "2027-01-04");
  EXPECT_EQ(iso_text(date("2028-02-29")), "2028-02-29");
  EXPECT_EQ(date("1970-01-01").days, 0);
  for (const char* bad : {"2027-02-29", "2027-13-01", "2027-1-04", "27-01-04", "2027/01/04",
                          "2027-01-0x", "", "2027-01-04T00", "+027-01-04"})
    EXPECT_FALSE(parse_iso_date(bad)) << bad;
}

TEST(Calendar, WorkingDaysSkipWeekends) {
  // 2027-01-04 is a Monday.
  EXPECT_TRUE(is_working_day(date("2027-01-08")));
  EXPECT_FALSE(is_working_day(date("2027-01-09")));
  EXPECT_EQ(iso_text(add_working_days(date("2027-01-04"), 0)), "2027-01-04");
  EXPECT_EQ(iso_text(add_working_days(date("2027-01-04"), 4)), "2027-01-08");
  EXPECT_EQ(iso_text(add_working_days(date("2027-01-04"), 5)), "2027-01-11");
  EXPECT_EQ(iso_text(add_working_days(date("2027-01-07"), 3)), "2027-01-12");
  EXPECT_EQ(iso_text(add_working_days(date("2027-01-04"), 20)), "2027-02-01");
  // A weekend start counts from the Monday after.
  EXPECT_EQ(iso_text(next_working_day(date("2027-01-09"))), "2027-01-11");
  EXPECT_EQ(iso_text(add_working_days(date("2027-01-10"), 1)), "2027-01-12");
  // Against stepping one day at a time.
  for (int start = 0; start < 14; ++start) {
    for (int n = 0; n < 30; ++n) {
      CalendarDate d = next_working_day(CalendarDate{date("2027-01-04").days + start});
      for (int k = 0; k < n; ++k) {
        d.days += 1;
        d = next_working_day(d);
      }
      EXPECT_EQ(add_working_days(CalendarDate{date("2027-01-04").days + start}, n), d)
          << start << " " << n;
    }
  }
  const CalendarDate monday = next_monday_utc();
  EXPECT_TRUE(is_working_day(monday));
  EXPECT_FALSE(is_working_day(CalendarDate{monday.days - 1}));
}

TEST(Calendar, AWorkCalendarSkipsHolidaysToo) {
  // 2027-01-04 is a Monday; the 5th a holiday, the 9th a holiday on a Saturday.
  const WorkCalendar cal(date("2027-01-04"), {date("2027-01-09"), date("2027-01-05")});
  EXPECT_EQ(iso_text(cal.date_of(0)), "2027-01-04");
  EXPECT_EQ(iso_text(cal.date_of(1)), "2027-01-06");
  EXPECT_EQ(iso_text(cal.date_of(4)), "2027-01-11");
  EXPECT_EQ(cal.index_of(date("2027-01-05")), 1);  // a holiday: the next working day
  EXPECT_EQ(cal.index_of(date("2027-01-11")), 4);
  EXPECT_EQ(cal.index_of(date("2027-01-01")), 0);
  // A start on a holiday moves to the next working day.
  EXPECT_EQ(iso_text(WorkCalendar(date("2027-01-05"), {date("2027-01-05")}).start()), "2027-01-06");
  // Against stepping one day at a time, with holidays scattered over a year.
  std::vector<CalendarDate> holidays;
  for (int d = 3; d < 365; d += 17) holidays.push_back(CalendarDate{date("2027-01-04").days + d});
  const WorkCalendar year(date("2027-01-04"), holidays);
  CalendarDate step = date("2027-01-04");
  for (int day = 0; day < 240; ++day) {
    EXPECT_EQ(year.date_of(day), step) << day;
    EXPECT_EQ(year.index_of(step), day);
    do {
      step.days += 1;
    } while (!is_working_day(step) ||
             std::find(holidays.begin(), holidays.end(), step) != holidays.end());
  }
}

}  // namespace
}  // namespace ferry
