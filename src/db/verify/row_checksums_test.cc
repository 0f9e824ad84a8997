#include "db/verify/row_checksums.h"

#include <gtest/gtest.h>

namespace ferry::db {
namespace {

TEST(BucketSum, AddingIsOrderIndependentAndSeesDuplicates) {
  BucketSum a{1, 5, 7, 0x0f}, b{1, -3, 2, 0xf0};
  BucketSum x, y;
  x.add(a);
  x.add(b);
  y.add(b);
  y.add(a);
  EXPECT_EQ(x, y);
  BucketSum twice;
  twice.add(a);
  twice.add(a);
  // XOR alone would cancel a duplicated row; the count and sums do not.
  EXPECT_EQ(twice.x, 0);
  EXPECT_NE(twice, BucketSum{});
}

TEST(RowSql, KeysAreComparedAsTextNeverThroughACollation) {
  RowSql sql;
  sql.table = "\"public\".\"t\"";
  sql.columns = {"\"k\"", "\"v\""};
  sql.key = {"\"k\""};
  sql.scheme = BucketScheme::kKeyHash;
  sql.mask = 63;
  const std::string scan = sql.bucket_scan(0, -1);
  EXPECT_NE(scan.find("hashtextextended(\"k\"::text, 1) & 63"), std::string::npos) << scan;
  EXPECT_EQ(scan.find("ORDER BY"), std::string::npos) << scan;
  EXPECT_EQ(scan.find("COLLATE"), std::string::npos) << scan;
  EXPECT_NE(sql.bucket_scan(10, 20).find("ctid >= '(10,0)'::tid AND ctid < '(20,0)'::tid"),
            std::string::npos);
}

}  // namespace
}  // namespace ferry::db
