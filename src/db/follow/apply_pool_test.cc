// The apply pool's ordering and conflict handling against fake workers: no
// server, but the pool's real threads, with random delays (seed printed) so
// that the workers race as they do on a real target.
#include "db/follow/apply_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

namespace ferry::db {
namespace {

using Kind = Change::Kind;

// What the fake workers saw, shared by all of them.
struct FakeTarget {
  std::mutex mu;
  std::vector<int64_t> committed;  // seqs, in commit order
  std::set<int64_t> committed_set;
  // seq -> the seqs that must have committed before it is executed.
  std::map<int64_t, std::set<int64_t>> after;
  std::map<int64_t, int> conflicts_left;  // seq -> conflicts its execute() reports
  std::set<int64_t> broken;               // seq -> an error that is not a conflict
  std::vector<std::string> violations;
  std::vector<size_t> group_sizes;
  int executing = 0, most_executing = 0;
  std::mt19937 random;
  // execute() of the group holding `hold` waits until `released`.
  int64_t hold = 0;
  bool released = false;
  std::set<int64_t> executed;
  std::condition_variable changed;
};

class FakeApplier final : public GroupApplier {
 public:
  explicit FakeApplier(FakeTarget& target) : target_(target) {}

  Result<void> execute(const std::vector<const SourceTransaction*>& group) override {
    int delay_us = 0;
    {
      std::lock_guard lock(target_.mu);
      std::set<int64_t> in_group;
      for (const auto* t : group) {
        for (int64_t before : target_.after[t->seq])
          if (!target_.committed_set.count(before) && !in_group.count(before))
            target_.violations.push_back(std::to_string(t->seq) + " executed before " +
                                         std::to_string(before) + " committed");
        in_group.insert(t->seq);
        if (target_.broken.count(t->seq))
          return tl::unexpected(Error{ErrorCode::kDatabase, "disk full", "53100", {}});
        if (target_.conflicts_left[t->seq] > 0) {
          --target_.conflicts_left[t->seq];
          return tl::unexpected(Error{ErrorCode::kDatabase, "deadlock", "40P01", {}});
        }
      }
      target_.group_sizes.push_back(group.size());
      target_.most_executing = std::max(target_.most_executing, ++target_.executing);
      delay_us = std::uniform_int_distribution<int>(0, 1500)(target_.random);
    }
    open_ = group;
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
    std::unique_lock lock(target_.mu);
    for (const auto* t : group) target_.executed.insert(t->seq);
    target_.changed.notify_all();
    const bool held = std::any_of(group.begin(), group.end(),
                                  [&](const auto* t) { return t->seq == target_.hold; });
    if (held) target_.changed.wait(lock, [&] { return target_.released; });
    --target_.executing;
    return {};
  }

  Result<void> commit() override {
    std::lock_guard lock(target_.mu);
    for (const auto* t : open_) {
      if (!target_.committed.empty() && t->seq != target_.committed.back() + 1)
        target_.violations.push_back("committed " + std::to_string(t->seq) + " after " +
                                     std::to_string(target_.committed.back()));
      target_.committed.push_back(t->seq);
      target_.committed_set.insert(t->seq);
    }
    open_.clear();
    return {};
  }

  Result<void> rollback() override {
    open_.clear();
    return {};
  }
  int64_t rows_in_transaction() const override {
    int64_t rows = 0;
    for (const auto* t : open_) rows += static_cast<int64_t>(t->changes.size());
    return rows;
  }

 private:
  FakeTarget& target_;
  std::vector<const SourceTransaction*> open_;
};

std::shared_ptr<const TargetRelation> relation(uint32_t id, bool keyless, bool insert_only) {
  auto r = std::make_shared<TargetRelation>();
  r->id = id;
  r->display = "public.t" + std::to_string(id);
  r->key = {true, false};
  r->keyless = keyless;
  r->insert_only = insert_only;
  return r;
}

const auto kKeyed = relation(1, false, false);
const auto kKeyless = relation(2, true, false);
const auto kInsertOnly = relation(3, false, true);

Change row_change(Kind kind, const std::shared_ptr<const TargetRelation>& rel, int key) {
  Change c;
  c.kind = kind;
  c.relation = rel;
  pg::Tuple tuple{{pg::TupleValue::Kind::kText, std::to_string(key)},
                  {pg::TupleValue::Kind::kText, "v"}};
  if (kind == Kind::kDelete)
    c.old_key = tuple;
  else
    c.new_tuple = tuple;
  return c;
}

Change truncate_of(const std::shared_ptr<const TargetRelation>& rel) {
  Change c;
  c.kind = Kind::kTruncate;
  c.truncated = {rel};
  return c;
}

class ApplyPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* env = std::getenv("FERRY_TEST_SEED");
    seed_ = env ? static_cast<unsigned>(std::strtoul(env, nullptr, 10)) : std::random_device{}();
    std::cout << "seed " << seed_ << " (FERRY_TEST_SEED=" << seed_ << " repeats it)\n";
    target_.random.seed(seed_);
  }

  void start(int workers, size_t max_queued = 4096) {
    std::vector<std::unique_ptr<GroupApplier>> appliers;
    for (int i = 0; i < workers; ++i) appliers.push_back(std::make_unique<FakeApplier>(target_));
    pool_ = ApplyPool::start(std::move(appliers), max_queued);
  }

  // Submits a transaction of `changes`, numbered next, that must follow
  // the transactions in `after`.
  void submit(std::vector<Change> changes, std::set<int64_t> after = {}) {
    auto t = std::make_unique<SourceTransaction>();
    t->seq = ++seq_;
    t->commit.end_lsn = static_cast<pg::Lsn>(1000 + seq_);
    t->changes = std::move(changes);
    {
      std::lock_guard lock(target_.mu);
      target_.after[t->seq] = std::move(after);
    }
    while (true) {
      auto queued = pool_->submit(t, 1000);
      ASSERT_TRUE(queued) << queued.error().to_string();
      if (*queued) return;
    }
  }

  void drain() {
    auto done = pool_->drain(10000);
    ASSERT_TRUE(done) << done.error().to_string();
    ASSERT_TRUE(*done) << "the pool did not drain in 10 s";
  }

  void expect_all_committed_in_order() {
    std::lock_guard lock(target_.mu);
    EXPECT_TRUE(target_.violations.empty()) << target_.violations.front();
    ASSERT_EQ(target_.committed.size(), static_cast<size_t>(seq_));
    for (int64_t i = 0; i < seq_; ++i) EXPECT_EQ(target_.committed[static_cast<size_t>(i)], i + 1);
  }

  unsigned seed_ = 0;
  FakeTarget target_;
  std::unique_ptr<ApplyPool> pool_;
  int64_t seq_ = 0;
};

TEST_F(ApplyPoolTest, ChangesToTheSameRowWaitForTheEarlierCommit) {
  start(4);
  // Rows 1..8 touched by one transaction each, then each row again.
  for (int round = 0; round < 3; ++round)
    for (int row = 1; row <= 8; ++row) {
      std::set<int64_t> after;
      if (round > 0) after.insert(seq_ + 1 - 8);
      submit({row_change(round == 0 ? Kind::kInsert : Kind::kUpdate, kKeyed, row)}, after);
    }
  drain();
  expect_all_committed_in_order();
  EXPECT_EQ(pool_->progress().committed_end, static_cast<pg::Lsn>(1000 + seq_));
}

TEST_F(ApplyPoolTest, IndependentTransactionsRunOnSeveralWorkersAtOnce) {
  start(4);
  {
    std::lock_guard lock(target_.mu);
    target_.hold = 1;
  }
  submit({row_change(Kind::kInsert, kKeyed, 1)});
  {
    // Held in its worker before the second arrives, so they are not grouped.
    std::unique_lock lock(target_.mu);
    ASSERT_TRUE(target_.changed.wait_for(lock, std::chrono::seconds(10),
                                         [&] { return target_.executed.count(1) > 0; }));
  }
  submit({row_change(Kind::kInsert, kKeyed, 2)});
  {
    // The second runs on another worker while the first is still held...
    std::unique_lock lock(target_.mu);
    ASSERT_TRUE(target_.changed.wait_for(lock, std::chrono::seconds(10), [&] {
      return target_.executed.count(2) > 0;
    })) << "transaction 2 did not start while 1 was held";
    // ...but commits only after it.
    EXPECT_TRUE(target_.committed.empty());
    target_.released = true;
    target_.changed.notify_all();
  }
  drain();
  expect_all_committed_in_order();
}

TEST_F(ApplyPoolTest, AKeylessTableAndATruncateOrderTheWholeTable) {
  start(4);
  submit({row_change(Kind::kInsert, kKeyless, 1)});
  submit({row_change(Kind::kInsert, kKeyless, 2)}, {1});
  submit({row_change(Kind::kInsert, kInsertOnly, 1)});
  submit({row_change(Kind::kInsert, kInsertOnly, 1)});  // inserts commute: no order
  submit({truncate_of(kInsertOnly)}, {3, 4});
  submit({row_change(Kind::kInsert, kInsertOnly, 2)}, {5});
  submit({row_change(Kind::kInsert, kKeyed, 1)});
  submit({truncate_of(kKeyed)}, {7});
  submit({row_change(Kind::kInsert, kKeyed, 9)}, {8});
  drain();
  expect_all_committed_in_order();
}

TEST_F(ApplyPoolTest, AConflictRedoesTheTransactionAndWhatFollowsInOrder) {
  start(4);
  {
    std::lock_guard lock(target_.mu);
    target_.conflicts_left[5] = 2;
    target_.conflicts_left[40] = 1;
  }
  for (int i = 1; i <= 60; ++i) submit({row_change(Kind::kInsert, kKeyed, i)});
  drain();
  expect_all_committed_in_order();
  EXPECT_EQ(pool_->progress().conflicts, 3);
  EXPECT_FALSE(pool_->failure().has_value());
}

TEST_F(ApplyPoolTest, AnErrorThatIsNotAConflictStopsThePoolNamingTheTransaction) {
  start(2);
  {
    std::lock_guard lock(target_.mu);
    target_.broken.insert(3);
  }
  for (int i = 1; i <= 5; ++i) submit({row_change(Kind::kInsert, kKeyed, i)});
  auto done = pool_->drain(10000);
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().sqlstate, "53100");
  EXPECT_NE(done.error().to_string().find("applying source transaction"), std::string::npos)
      << done.error().to_string();
  std::lock_guard lock(target_.mu);
  // Neither it nor anything after it committed (what came before may have,
  // unless it was in the same group).
  for (int64_t seq : target_.committed) EXPECT_LT(seq, 3);
}

TEST_F(ApplyPoolTest, ABacklogIsAppliedInGroups) {
  // One slow worker and a queue filled before it starts: the transactions
  // waiting together go as one target transaction.
  start(1);
  for (int i = 1; i <= 300; ++i) submit({row_change(Kind::kInsert, kKeyed, i)});
  drain();
  expect_all_committed_in_order();
  std::lock_guard lock(target_.mu);
  EXPECT_LT(target_.group_sizes.size(), 300u) << "every transaction went on its own";
}

TEST_F(ApplyPoolTest, SubmitWaitsWhileTheQueueIsFull) {
  start(1, 4);
  for (int i = 1; i <= 50; ++i) {
    submit({row_change(Kind::kInsert, kKeyed, i)});
    EXPECT_LE(pool_->progress().queued, 4);
  }
  drain();
  expect_all_committed_in_order();
  EXPECT_LE(pool_->progress().queued, 0);
}

}  // namespace
}  // namespace ferry::db
