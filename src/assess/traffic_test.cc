#include "assess/traffic.h"

#include <gtest/gtest.h>

namespace ferry::assess {
namespace {

TEST(Traffic, ReadsTheSpellingsSpreadsheetsUse) {
  EXPECT_EQ(parse_traffic("10k req/day")->requests_per_day, 10000);
  EXPECT_EQ(parse_traffic("100 users")->active_users, 100);
  EXPECT_EQ(parse_traffic("2.5M requests/month")->requests_per_day, 2.5e6 / 30);
  EXPECT_EQ(parse_traffic("50 req/s")->requests_per_day, 50 * 86400);
  EXPECT_EQ(parse_traffic("3 rps")->requests_per_day, 3 * 86400);
  auto hourly = parse_traffic("Hourly");
  ASSERT_TRUE(hourly);
  EXPECT_EQ(hourly->requests_per_day, 24);
  EXPECT_TRUE(hourly->scheduled);
}

TEST(Traffic, RejectsWhatItDoesNotUnderstand) {
  EXPECT_FALSE(parse_traffic("lots"));
  EXPECT_FALSE(parse_traffic("10 elephants/day"));
  EXPECT_FALSE(parse_traffic("10 req/fortnight"));
  EXPECT_FALSE(parse_traffic(""));
  EXPECT_FALSE(parse_traffic("nan req/day"));
  EXPECT_FALSE(parse_traffic("inf users"));
}

}  // namespace
}  // namespace ferry::assess
