#include "assess/data_plan.h"

#include <gtest/gtest.h>

namespace ferry::assess {
namespace {

const RuleSet& rules() {
  static const RuleSet r = *RuleSet::parse(std::string(builtin_rules_text()), "data/rules.yaml");
  return r;
}

DataStore store(const char* engine, double size_gb, double change = 0,
                std::optional<double> read_mb_per_s = std::nullopt) {
  return DataStore{"s", std::string(engine), size_gb, change, read_mb_per_s, {}};
}

TEST(DataPlan, TransferTimeIsBytesOverBandwidthTimesEfficiency) {
  // 1 TB = 8e12 bits; at 1 Gbps line rate that is 8000 s = 2.22 h, not the
  // 9.3 h some migration guides quote.
  EXPECT_NEAR(transfer_hours(1000, 1, 1.0), 2.222, 0.001);
  EXPECT_NEAR(transfer_hours(1000, 1, 0.7), 3.175, 0.001);
  EXPECT_NEAR(transfer_hours(16000, 10, 0.5), 7.111, 0.001);
}

TEST(DataPlan, SmallDatabaseWithinBudgetIsDumpedAndRestored) {
  PlanningDefaults d;
  auto item = plan_data_store(store("postgresql", 20), 60, d, rules(), 100);
  EXPECT_EQ(item.method, "dump_restore");
  // 20 GB at 0.7 Gbps = 228.6 s; dump + restore factor 2 -> 7.6 min of downtime.
  EXPECT_NEAR(item.downtime_minutes, 7.62, 0.01);
  EXPECT_TRUE(item.fits_budget);
}

TEST(DataPlan, DumpThatMissesTheBudgetMovesToLogicalReplication) {
  PlanningDefaults d;
  auto item = plan_data_store(store("postgresql", 800), 5, d, rules(), 100);
  EXPECT_EQ(item.method, "logical_replication");
  EXPECT_EQ(item.downtime_minutes, 1);
  EXPECT_NE(item.why.find("over the 5 min budget"), std::string::npos) << item.why;
}

TEST(DataPlan, SizeTiersFollowTheMigrationVelocityTable) {
  PlanningDefaults d;
  d.bandwidth_gbps = 100;  // keep the appliance out of it
  EXPECT_EQ(plan_data_store(store("postgresql", 5000), 5, d, rules(), 100).method,
            "logical_replication");
  EXPECT_EQ(plan_data_store(store("postgresql", 16000), 5, d, rules(), 100).method, "cdc");
  EXPECT_EQ(plan_data_store(store("postgresql", 150000), 5, d, rules(), 100).method,
            "physical_cdc");
  EXPECT_EQ(plan_data_store(store("nfs", 68000), 5, d, rules(), 100).method, "incremental_sync");
}

TEST(DataPlan, EnginesWithoutLogicalReplicationUseCdc) {
  PlanningDefaults d;
  auto item = plan_data_store(store("cassandra", 200), 5, d, rules(), 100);
  EXPECT_EQ(item.method, "cdc");
  EXPECT_NE(item.why.find("cassandra has no native logical replication"), std::string::npos)
      << item.why;
}

TEST(DataPlan, EnginesWithTheirOwnReplicationUseIt) {
  PlanningDefaults d;
  auto redis = plan_data_store(store("redis", 200), 5, d, rules(), 100);
  EXPECT_EQ(redis.method, "replica_sync");
  EXPECT_EQ(redis.downtime_minutes, 1);
  EXPECT_NE(redis.why.find("REPLICAOF"), std::string::npos) << redis.why;
  EXPECT_EQ(plan_data_store(store("elasticsearch", 3000), 5, d, rules(), 100).method,
            "snapshot_reindex");
  // Small enough to dump within the budget: no replication needed.
  EXPECT_EQ(plan_data_store(store("redis", 6), 30, d, rules(), 100).method, "dump_restore");
}

TEST(DataPlan, ASourceThatForbidsReplicationOutGetsTheFallback) {
  PlanningDefaults d;
  auto redis = plan_data_store(store("redis", 200), 5, d, rules(), 100,
                               {{"no_replication_out", "ElastiCache for Redis"}});
  EXPECT_EQ(redis.method, "key_copy");
  EXPECT_EQ(redis.downtime_minutes, 1);
  EXPECT_NE(redis.why.find("redis would replicate itself, but ElastiCache for Redis forbids it "
                           "(no_replication_out): copy the keys"),
            std::string::npos)
      << redis.why;
  // Another constraint does not block it.
  EXPECT_EQ(
      plan_data_store(store("redis", 200), 5, d, rules(), 100, {{"no_superuser", "RDS PostgreSQL"}})
          .method,
      "replica_sync");
}

TEST(DataPlan, CatchUpAccountsForTheChangeRate) {
  PlanningDefaults d;  // 1 Gbps x 0.7 = 7560 GB/day
  auto item = plan_data_store(store("postgresql", 5000, 560), 5, d, rules(), 100);
  // The rows while changes keep coming, then 7.5 h of index builds.
  EXPECT_NEAR(item.copy_hours, 5000.0 / (7560 - 560) * 24 + 7.5, 0.01);
  EXPECT_TRUE(item.can_catch_up);
  auto hopeless = plan_data_store(store("postgresql", 5000, 9000), 5, d, rules(), 100);
  EXPECT_FALSE(hopeless.can_catch_up);
}

TEST(DataPlan, FlagsAnApplianceWhenTheNetworkTakesOverAWeek) {
  PlanningDefaults d;  // 68 TB at 0.7 Gbps = 9 days
  EXPECT_TRUE(plan_data_store(store("nfs", 68000), 60, d, rules(), 100).appliance_recommended);
  EXPECT_FALSE(plan_data_store(store("nfs", 30000), 60, d, rules(), 100).appliance_recommended);
}

TEST(DataPlan, MissingSizeUsesTheAssumptionAndSaysSo) {
  PlanningDefaults d;
  DataStore s{"db", std::string("postgresql"), std::nullopt, std::nullopt, std::nullopt, {}};
  auto item = plan_data_store(s, 60, d, rules(), 100);
  EXPECT_TRUE(item.size_assumed);
  EXPECT_EQ(item.size_gb, 100);
  EXPECT_NE(item.why.find("size not given, 100 GB assumed"), std::string::npos);
}

TEST(DataPlan, ACopyIsAsFastAsTheSourceCanReadAndIndexesTakeTheirTime) {
  PlanningDefaults d;
  d.bandwidth_gbps = 10;  // 7 Gbps after efficiency: more than a source reads at 200 MB/s
  auto fast_link = plan_data_store(store("nfs", 1000), 60, d, rules(), 100);
  EXPECT_NEAR(fast_link.transfer_hours, 1000 * 8 / 1.6 / 3600, 1e-9);  // 1.6 Gbps
  EXPECT_NE(fast_link.why.find("at the source's read rate of 200 MB/s"), std::string::npos)
      << fast_link.why;
  auto quick_source = plan_data_store(store("nfs", 1000, 0, 2000), 60, d, rules(), 100);
  EXPECT_NEAR(quick_source.transfer_hours, 1000 * 8 / 7.0 / 3600, 1e-9);  // the link again
  // A 5 TB PostgreSQL by logical replication: rows, then 1.5 h of index builds per TB.
  PlanningDefaults slow;
  auto pg = plan_data_store(store("postgresql", 5000), 5, slow, rules(), 100);
  ASSERT_EQ(pg.method, "logical_replication");
  EXPECT_NEAR(pg.copy_hours, pg.transfer_hours + 7.5, 1e-6);
  EXPECT_NE(pg.why.find("then 7.5 h to build its indexes (1.5 h per TB)"), std::string::npos)
      << pg.why;
  // Files have no indexes.
  auto files = plan_data_store(store("nfs", 5000), 5, slow, rules(), 100);
  EXPECT_NEAR(files.copy_hours, files.transfer_hours, 1e-6);
}

TEST(DataPlan, ARecommendedApplianceShortensTheCopyWhenItEndsSooner) {
  PlanningDefaults d;  // 0.7 Gbps: 150 TB is 20 days over the link
  auto media = plan_data_store(store("nfs", 150000, 200), 60, d, rules(), 100);
  EXPECT_TRUE(media.appliance_recommended);
  EXPECT_TRUE(media.appliance_used);
  // 10 days for the appliance, then 2000 GB of changes at 7560 - 200 GB/day.
  EXPECT_NEAR(media.copy_hours, 240 + 2000.0 / (7560 - 200) * 24, 1e-6);
  EXPECT_NE(media.why.find("planned that way: 10 days for the appliance, then"), std::string::npos)
      << media.why;
  // 8 TB is 25 h over the link: no appliance.
  auto small = plan_data_store(store("nfs", 8000), 60, d, rules(), 100);
  EXPECT_FALSE(small.appliance_recommended);
  EXPECT_FALSE(small.appliance_used);
  // Recommended (68 TB: 9 days, over 7) but the appliance's 10 days would end later.
  auto close = plan_data_store(store("nfs", 68000, 200), 60, d, rules(), 100);
  EXPECT_TRUE(close.appliance_recommended);
  EXPECT_FALSE(close.appliance_used);
}

}  // namespace
}  // namespace ferry::assess
