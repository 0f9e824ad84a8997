#include "db/follow/insert_only_watch.h"

#include <gtest/gtest.h>

namespace ferry::db {
namespace {

using Kind = WatchEvent::Kind;

TEST(InsertOnlyWatch, FirstReadingBecomesTheBaseline) {
  InsertOnlyWatch w({}, {});
  auto events = w.observe({{"public.log", 7}});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::kBaseline);
  EXPECT_EQ(events[0].now, 7);
  EXPECT_TRUE(w.observe({{"public.log", 7}}).empty());
  EXPECT_TRUE(w.diverged().empty());
}

TEST(InsertOnlyWatch, OneUpdateOrDeleteDivergesOnceAndStays) {
  InsertOnlyWatch w({{"public.log", 3}}, {});
  auto events = w.observe({{"public.log", 4}});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::kDiverged);
  EXPECT_EQ(events[0].baseline, 3);
  EXPECT_EQ(events[0].now, 4);
  // Reported once; more changes do not repeat it, and it stays diverged.
  EXPECT_TRUE(w.observe({{"public.log", 9}}).empty());
  EXPECT_EQ(w.diverged(), std::set<std::string>{"public.log"});
}

TEST(InsertOnlyWatch, AlreadyReportedTablesAreNotReportedAgain) {
  InsertOnlyWatch w({{"public.log", 3}}, {"public.log"});
  EXPECT_TRUE(w.observe({{"public.log", 5}}).empty());
  EXPECT_EQ(w.diverged().count("public.log"), 1u);
}

TEST(InsertOnlyWatch, AStatisticsResetCannotBeToldFromQuietSoItDiverges) {
  // Too little data is never a pass: updates before the reset are unknown.
  InsertOnlyWatch w({{"public.log", 10}}, {});
  auto events = w.observe({{"public.log", 0}});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::kReset);
  EXPECT_EQ(w.diverged().count("public.log"), 1u);
  EXPECT_TRUE(w.observe({{"public.log", 1}}).empty());
  // A resync starts over; counting from there.
  w.restart("public.log", 1);
  auto after = w.observe({{"public.log", 2}});
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].kind, Kind::kDiverged);
}

TEST(InsertOnlyWatch, ARestartAfterAResyncClearsTheTable) {
  InsertOnlyWatch w({{"public.log", 1}}, {"public.log"});
  w.restart("public.log", 6);
  EXPECT_TRUE(w.diverged().empty());
  EXPECT_TRUE(w.observe({{"public.log", 6}}).empty());
  EXPECT_EQ(w.observe({{"public.log", 7}}).size(), 1u);
}

TEST(InsertOnlyWatch, TablesThatLeaveThePublicationAreForgotten) {
  InsertOnlyWatch w({{"public.a", 1}, {"public.b", 2}}, {});
  EXPECT_TRUE(w.observe({{"public.a", 1}}).empty());
  // public.b is watched afresh if it comes back: a new baseline, no alarm.
  auto events = w.observe({{"public.a", 1}, {"public.b", 50}});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::kBaseline);
}

}  // namespace
}  // namespace ferry::db
