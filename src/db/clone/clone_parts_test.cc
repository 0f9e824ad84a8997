#include "db/clone/clone_parts.h"

#include <gtest/gtest.h>

namespace ferry::db {
namespace {

pg::Table table(const std::string& name, int64_t bytes, int64_t pages) {
  pg::Table t;
  t.schema = "public";
  t.name = name;
  t.bytes = bytes;
  t.pages = pages;
  return t;
}

TEST(PlanParts, LargeTablesAreSplitIntoContiguousBlockRangesCoveringTheWholeHeap) {
  const auto parts = plan_parts({table("big", 1000, 103), table("small", 10, 2)}, 300, 64);
  std::vector<PartRecord> big;
  for (const auto& p : parts)
    if (p.name == "big") big.push_back(p);
  ASSERT_EQ(big.size(), 4u);
  std::sort(big.begin(), big.end(), [](auto& a, auto& b) { return a.part_no < b.part_no; });
  EXPECT_EQ(big.front().block_lo, 0);
  for (size_t i = 1; i < big.size(); ++i) EXPECT_EQ(big[i].block_lo, big[i - 1].block_hi);
  // The last range is open-ended: rows past the measured end are not lost.
  EXPECT_EQ(big.back().block_hi, -1);
  // Largest first, so long copies start early.
  EXPECT_EQ(parts.back().name, "small");
  EXPECT_TRUE(parts.back().whole_table());
}

TEST(PlanParts, SplitCountIsCappedByPagesAndByTheLimit) {
  EXPECT_EQ(plan_parts({table("t", 1 << 30, 3)}, 1, 64).size(), 3u);
  EXPECT_EQ(plan_parts({table("t", 1 << 30, 100000)}, 1, 64).size(), 64u);
  EXPECT_EQ(plan_parts({table("t", 1 << 30, 100000)}, 0, 64).size(), 1u);
}

}  // namespace
}  // namespace ferry::db
