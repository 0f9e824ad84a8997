#include "core/text.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

TEST(Text, NormalizeNameIgnoresCaseAndPunctuation) {
  EXPECT_EQ(normalize_name("RDS PostgreSQL"), "rdspostgresql");
  EXPECT_EQ(normalize_name("rds-postgresql"), "rdspostgresql");
}

TEST(Text, SplitTrimmedDropsEmptyPieces) {
  EXPECT_EQ(split_trimmed(" PostgreSQL/ Redis //", "/"),
            (std::vector<std::string>{"PostgreSQL", "Redis"}));
}

TEST(Text, DidYouMeanFindsCloseCandidatesOnly) {
  std::vector<std::string> keys{"criticality", "containerized", "kind"};
  EXPECT_EQ(did_you_mean("criticallity", keys), "criticality");
  EXPECT_EQ(did_you_mean("KIND", keys), "kind");
  EXPECT_FALSE(did_you_mean("bandwidth", keys));
  EXPECT_EQ(did_you_mean_hint("contanerized", keys), " (did you mean 'containerized'?)");
}

TEST(Text, EditDistance) {
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
}

TEST(GlobMatch, StarMatchesAnyRunIncludingDotsAndNothing) {
  EXPECT_TRUE(glob_match("public.orders", "public.orders"));
  EXPECT_TRUE(glob_match("public.orders", "public.*"));
  EXPECT_TRUE(glob_match("sales.order_items", "sales.order*"));
  EXPECT_TRUE(glob_match("Sales Data.order.items", "*.order.items"));
  EXPECT_TRUE(glob_match("public.t", "*"));
  EXPECT_FALSE(glob_match("public.orders", "public.order"));
  EXPECT_FALSE(glob_match("audit.orders", "public.*"));
  EXPECT_FALSE(glob_match("public.orders", "*.users"));
}

}  // namespace
}  // namespace ferry

namespace ferry {
namespace {

TEST(IsoTime, SecondsOrMilliseconds) {
  EXPECT_EQ(iso_time(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(iso_time(1796644803.25, true), "2026-12-07T12:00:03.250Z");
  EXPECT_EQ(iso_time(1796644803.0, true), "2026-12-07T12:00:03.000Z");
}

}  // namespace
}  // namespace ferry
