#include "core/calendar.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace ferry
