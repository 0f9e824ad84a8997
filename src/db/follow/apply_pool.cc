#include "db/follow/apply_pool.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>

#include "core/log.h"
#include "core/measure.h"
#include "pg/connection.h"

namespace ferry::db {

namespace {

// A transaction that keeps conflicting with something outside ferry (a lock
// held on the target by another session) is given up after this many tries.
constexpr int kMaxRetries = 30;

// A group of source transactions applied as one target transaction stays
// below these: a conflict redoes the whole group, and the batch is one string.
constexpr size_t kMaxGroupTransactions = 1000;
constexpr size_t kMaxGroupChanges = 10000;

uint64_t row_key(const TargetRelation& rel, const pg::Tuple& tuple) {
  std::string key = std::to_string(rel.id);
  for (size_t i = 0; i < tuple.size() && i < rel.key.size(); ++i) {
    if (!rel.key[i]) continue;
    key.push_back('\x1f');
    if (tuple[i].kind == pg::TupleValue::Kind::kNull) key.push_back('\x1e');
    key += tuple[i].text;
  }
  return std::hash<std::string>{}(key);
}

}  // namespace

std::string apply_origin_prefix(const std::string& database, const std::string& slot) {
  return "ferry:" + database + ":" + slot;
}

Result<void> drop_apply_origins(pg::Connection& target, const std::string& slot) {
  auto dropped = target.query(
      "SELECT pg_replication_origin_drop(roname) FROM pg_replication_origin "
      "WHERE starts_with(roname, 'ferry:' || current_database() || ':' || $1 || ':')",
      {slot});
  if (!dropped) return tl::unexpected(dropped.error());
  return {};
}

// A ChangeApplier as one of the pool's workers.
class ChangeApplierWorker final : public GroupApplier {
 public:
  explicit ChangeApplierWorker(ChangeApplier applier) : applier_(std::move(applier)) {}
  Result<void> execute(const std::vector<const SourceTransaction*>& group) override {
    return applier_.execute(group);
  }
  Result<void> commit() override { return applier_.commit(); }
  Result<void> rollback() override { return applier_.rollback(); }
  int64_t rows_in_transaction() const override { return applier_.rows_in_transaction(); }
  ChangeApplier& applier() { return applier_; }

 private:
  ChangeApplier applier_;
};

Result<std::unique_ptr<ApplyPool>> ApplyPool::open(const ApplyPoolOptions& options) {
  std::vector<std::unique_ptr<GroupApplier>> appliers;
  ChangeApplier* first = nullptr;
  for (int i = 0; i < options.jobs; ++i) {
    auto applier = ChangeApplier::open(
        options.target, fmt::format("{}:{}", options.origin_prefix, i), options.settings);
    if (!applier) return tl::unexpected(applier.error());
    auto worker = std::make_unique<ChangeApplierWorker>(std::move(*applier));
    if (!first) first = &worker->applier();
    appliers.push_back(std::move(worker));
  }
  // Origins of an earlier run with more workers count too.
  auto conn = pg::Connection::open(options.target);
  if (!conn) return tl::unexpected(conn.error());
  auto furthest = conn->query(
      "SELECT coalesce(max(pg_replication_origin_progress(roname, true)), '0/0')::text "
      "FROM pg_replication_origin WHERE starts_with(roname, $1)",
      {options.origin_prefix + ":"});
  if (!furthest) return tl::unexpected(furthest.error());
  auto pool =
      start(std::move(appliers), options.max_queued, pg::parse_lsn(furthest->at(0, 0)).value_or(0));
  pool->serial_ = first;
  return pool;
}

std::unique_ptr<ApplyPool> ApplyPool::start(std::vector<std::unique_ptr<GroupApplier>> appliers,
                                            size_t max_queued, pg::Lsn restart_point) {
  std::unique_ptr<ApplyPool> pool(new ApplyPool());
  pool->max_queued_ = max_queued;
  pool->restart_point_ = restart_point;
  pool->progress_.committed_end = restart_point;
  for (auto& applier : appliers) {
    auto w = std::make_unique<Worker>();
    w->applier = std::move(applier);
    pool->workers_.push_back(std::move(w));
  }
  for (auto& w : pool->workers_) {
    Worker* raw = w.get();
    ApplyPool* self = pool.get();
    w->thread = std::thread([self, raw] { self->run_worker(*raw); });
  }
  return pool;
}

ApplyPool::~ApplyPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
}

std::vector<int64_t> ApplyPool::dependencies(const SourceTransaction& t) {
  std::vector<int64_t> deps;
  // Its own earlier changes to the same row or table order nothing; what has
  // committed orders nothing either.
  auto note = [&](int64_t seq) {
    if (seq < t.seq && seq > progress_.committed_seq) deps.push_back(seq);
  };
  auto whole_table = [&](uint32_t id) {
    note(table_any_[id]);
    note(table_whole_[id]);
    table_any_[id] = table_whole_[id] = t.seq;
  };
  for (const auto& c : t.changes) {
    if (c.kind == Change::Kind::kTruncate) {
      for (const auto& rel : c.truncated) whole_table(rel->id);
      continue;
    }
    const TargetRelation& rel = *c.relation;
    if (rel.insert_only) {
      // Inserts into a table without identity commute: only a TRUNCATE orders them.
      note(table_whole_[rel.id]);
      table_any_[rel.id] = t.seq;
      continue;
    }
    if (rel.keyless) {
      whole_table(rel.id);
      continue;
    }
    note(table_whole_[rel.id]);
    table_any_[rel.id] = t.seq;
    std::vector<uint64_t> keys;
    if (c.kind != Change::Kind::kDelete) keys.push_back(row_key(rel, c.new_tuple));
    if (c.old_key) keys.push_back(row_key(rel, *c.old_key));
    for (uint64_t k : keys) {
      auto [it, inserted] = row_last_.try_emplace(k, t.seq);
      if (!inserted) {
        note(it->second);
        it->second = t.seq;
      }
    }
  }
  std::sort(deps.begin(), deps.end());
  deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
  return deps;
}

Result<bool> ApplyPool::submit(std::unique_ptr<SourceTransaction>& t, int wait_ms) {
  std::unique_lock lock(mu_);
  const bool room = cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] {
    return failure_ || static_cast<size_t>(submitted_seq_ - progress_.committed_seq) < max_queued_;
  });
  if (failure_) return tl::unexpected(*failure_);
  if (!room) return false;
  // Entries at or below the committed position order nothing any more.
  if (row_last_.size() > 1'000'000) {
    std::erase_if(row_last_, [&](const auto& kv) { return kv.second <= progress_.committed_seq; });
  }
  auto task = std::make_shared<Task>();
  task->deps = dependencies(*t);
  submitted_seq_ = t->seq;
  task->t = std::move(t);
  pending_.push_back(std::move(task));
  lock.unlock();
  cv_.notify_all();
  return true;
}

Result<bool> ApplyPool::drain(int wait_ms) {
  std::unique_lock lock(mu_);
  const bool done = cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] {
    return failure_ || progress_.committed_seq >= submitted_seq_;
  });
  if (failure_) return tl::unexpected(*failure_);
  return done;
}

bool ApplyPool::ready(const Task& task) const {
  if (!task.deps.empty() && progress_.committed_seq < task.deps.back()) return false;
  if (task.t->seq <= serial_until_) return progress_.committed_seq == task.t->seq - 1;
  return true;
}

void ApplyPool::record_commit(const SourceTransaction& t, int64_t rows) {
  progress_.committed_seq = t.seq;
  progress_.committed_end = t.commit.end_lsn;
  progress_.commit_time = t.commit.commit_time;
  ++progress_.transactions;
  progress_.rows += rows;
  if (lag_samples_.size() < 100'000)
    lag_samples_.push_back(static_cast<double>(pg::micros_since_2000() - t.commit.commit_time) /
                           1000.0);
}

void ApplyPool::committed_outside(int64_t seq, const pg::CommitMessage& commit, int64_t rows) {
  std::lock_guard lock(mu_);
  SourceTransaction t;
  t.seq = seq;
  t.commit = commit;
  record_commit(t, rows);
  submitted_seq_ = std::max(submitted_seq_, seq);
}

void ApplyPool::fail_with(Error e) {
  if (!failure_) failure_ = std::move(e);
}

// The first pending task, when ready, and the tasks right after it in source
// order that can join it in one target transaction: consecutive, their rows
// either committed or touched only inside the group. A backlog is applied in
// groups (fewer commits and round trips). After a conflict, until the pool
// is past what was queued then, one group at a time.
std::vector<std::shared_ptr<ApplyPool::Task>> ApplyPool::take_group() {
  std::vector<std::shared_ptr<Task>> group;
  // Only from the front: taking ready transactions from the middle would
  // split the backlog into many small groups, and a group of a hundred
  // coalesced transactions applies far faster than a hundred one-transaction
  // groups on four connections.
  auto it = pending_.begin();
  if (it == pending_.end() || !ready(**it)) return group;
  group.push_back(*it);
  size_t changes = (*it)->t->changes.size();
  const int64_t first = (*it)->t->seq;
  for (auto next = std::next(it); next != pending_.end(); ++next) {
    const Task& n = **next;
    if (n.t->seq != group.back()->t->seq + 1) break;
    // Every row it shares with an earlier transaction: committed, or in the group.
    if (std::any_of(n.deps.begin(), n.deps.end(),
                    [&](int64_t d) { return d > progress_.committed_seq && d < first; }))
      break;
    if (group.size() >= kMaxGroupTransactions || changes + n.t->changes.size() > kMaxGroupChanges)
      break;
    changes += n.t->changes.size();
    group.push_back(*next);
  }
  pending_.erase(it, it + static_cast<long>(group.size()));
  return group;
}

void ApplyPool::run_worker(Worker& w) {
  GroupApplier& applier = *w.applier;
  std::unique_lock lock(mu_);
  while (true) {
    std::vector<std::shared_ptr<Task>> group;
    cv_.wait(lock, [&] {
      if (stopping_ || failure_) return true;
      group = take_group();
      return !group.empty();
    });
    if (group.empty()) return;  // stopping or failed
    std::vector<const SourceTransaction*> transactions;
    for (auto& task : group) {
      task->must_abort = false;
      running_.push_back(task);
      transactions.push_back(task->t.get());
    }
    const int64_t first = group.front()->t->seq, last = group.back()->t->seq;
    auto aborted = [&] {
      return std::any_of(group.begin(), group.end(), [](const auto& t) { return t->must_abort; });
    };
    lock.unlock();

    const auto started = std::chrono::steady_clock::now();
    auto executed = applier.execute(transactions);
    log_debug(fmt::format("source transactions {}..{} ({}) sent in {:.1f} ms", first, last,
                          group.size(), seconds_since(started) * 1000));
    lock.lock();
    if (executed) {
      // Commit in source order: wait for the predecessor, unless a conflict
      // earlier in the order means this group must be undone and redone.
      cv_.wait(lock, [&] {
        return failure_ || stopping_ || aborted() || progress_.committed_seq == first - 1;
      });
      if (!failure_ && !stopping_ && !aborted()) {
        lock.unlock();
        executed = applier.commit();
        lock.lock();
        if (executed) {
          for (auto& task : group) {
            std::erase(running_, task);
            record_commit(*task->t, 0);
          }
          progress_.rows += applier.rows_in_transaction();
          cv_.notify_all();
          continue;
        }
      }
    }
    // Not committed: undo on the target, then decide what happens to it.
    lock.unlock();
    auto rolled_back = applier.rollback();
    lock.lock();
    for (auto& task : group) std::erase(running_, task);
    const SourceTransaction& t = *group.front()->t;
    if (!executed && !is_conflict(executed.error())) {
      fail_with(std::move(executed.error())
                    .with_context(group.size() == 1
                                      ? fmt::format("applying source transaction {} (commit {})",
                                                    t.begin.xid, pg::lsn_text(t.commit.commit_lsn))
                                      : fmt::format("applying source transactions {} to {}",
                                                    t.begin.xid, group.back()->t->begin.xid)));
    } else if (!rolled_back) {
      fail_with(std::move(rolled_back.error()));
    } else if (!executed && ++group.front()->retries > kMaxRetries) {
      fail_with(std::move(executed.error())
                    .with_context(fmt::format("source transaction {} still conflicts after {} "
                                              "tries, one at a time",
                                              t.begin.xid, kMaxRetries)));
    } else {
      if (!executed) {
        // Everything later still open is undone; from here to what is
        // already queued, one at a time.
        ++progress_.conflicts;
        log_debug(fmt::format("conflict applying source transaction {}: {}; retrying in order",
                              t.begin.xid, executed.error().to_string()));
        for (auto& r : running_)
          if (r->t->seq > last) r->must_abort = true;
        serial_until_ = std::max(serial_until_, submitted_seq_);
      }
      auto at = std::find_if(pending_.begin(), pending_.end(),
                             [&](const auto& p) { return p->t->seq > first; });
      pending_.insert(at, group.begin(), group.end());
    }
    cv_.notify_all();
  }
}

ApplyProgress ApplyPool::progress() const {
  std::lock_guard lock(mu_);
  ApplyProgress p = progress_;
  p.queued = submitted_seq_ - progress_.committed_seq;
  return p;
}

std::vector<double> ApplyPool::take_lag_samples() {
  std::lock_guard lock(mu_);
  return std::exchange(lag_samples_, {});
}

std::optional<Error> ApplyPool::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

}  // namespace ferry::db
