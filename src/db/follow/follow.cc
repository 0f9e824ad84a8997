#include "db/follow/follow.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "core/failpoint.h"
#include "core/log.h"
#include "core/measure.h"
#include "core/metrics_endpoint.h"
#include "core/text.h"
#include "db/clone/clone_journal.h"
#include "db/clone/table_resync.h"
#include "db/follow/apply_pool.h"
#include "db/follow/divergence_monitor.h"
#include "db/follow/follow_journal.h"
#include "db/follow/schema_drift.h"
#include "db/follow/transaction_assembler.h"
#include "db/publication.h"
#include "pg/connection.h"
#include "pg/replication_stream.h"

namespace ferry::db {

std::string reverse_slot_name(const std::string& slot) { return slot + "_reverse"; }

std::string clone_slot_name(const std::string& dir) {
  if (!std::filesystem::exists(std::filesystem::path(dir) / "clone.db")) return "ferry";
  auto journal = CloneJournal::open(dir, /*resume=*/true);
  if (!journal) return "ferry";
  auto slot = journal->get("slot");
  return slot && *slot && **slot != "(none)" ? **slot : "ferry";
}

namespace {

using Clock = std::chrono::steady_clock;

// How long a follow that has never connected keeps trying (or --retry-for,
// when shorter): long enough for a server still starting.
constexpr int kFirstConnectSeconds = 30;

// Tables copied at a later snapshot than the slot's start (by a clone resumed
// after a crash, or a resync), with that snapshot: changes committed before
// it are already in their rows.
Result<std::map<std::string, pg::Lsn>> copy_horizons(const FollowOptions& o,
                                                     FollowJournal& follow_journal) {
  std::map<std::string, pg::Lsn> horizons;
  if (o.reverse) return horizons;
  auto resynced = follow_journal.resync_horizons();
  if (!resynced) return tl::unexpected(resynced.error());
  for (const auto& [table, lsn] : *resynced) horizons[table] = pg::parse_lsn(lsn).value_or(0);
  if (!std::filesystem::exists(std::filesystem::path(o.dir) / "clone.db")) return horizons;
  auto journal = CloneJournal::open(o.dir, /*resume=*/true);
  if (!journal) return tl::unexpected(journal.error());
  auto finished = journal->get("finished");
  if (!finished) return tl::unexpected(finished.error());
  if (!*finished)
    return fail(ErrorCode::kInvalidInput,
                fmt::format("the clone journaled in {} has not finished: run ferry db clone "
                            "--resume --dir {} first",
                            o.dir, o.dir));
  auto slot = journal->get("slot");
  if (!slot) return tl::unexpected(slot.error());
  if (*slot && **slot != o.slot)
    return fail(
        ErrorCode::kInvalidInput,
        fmt::format("the clone in {} created slot '{}', not '{}' (--slot)", o.dir, **slot, o.slot));
  auto parts = journal->parts();
  if (!parts) return tl::unexpected(parts.error());
  for (const auto& p : *parts) {
    if (p.snapshot_lsn.empty()) continue;
    const pg::Lsn lsn = pg::parse_lsn(p.snapshot_lsn).value_or(0);
    auto& h = horizons[p.schema + "." + p.name];
    h = std::max(h, lsn);
  }
  return horizons;
}

// Rates over a sliding window and the lag percentile over the last minute.
class FollowMeter {
 public:
  void sample(int64_t transactions, int64_t rows) {
    const auto now = Clock::now();
    window_.push_back({now, transactions, rows});
    while (window_.size() > 2 && now - window_.front().at > std::chrono::seconds(10))
      window_.pop_front();
  }
  void lags(const std::vector<double>& ms) {
    const auto now = Clock::now();
    for (double v : ms) lags_.push_back({now, v});
    while (!lags_.empty() && now - lags_.front().first > std::chrono::seconds(60))
      lags_.pop_front();
  }
  void fill(FollowStatus& s) const {
    if (window_.size() >= 2) {
      const double dt =
          std::chrono::duration<double>(window_.back().at - window_.front().at).count();
      if (dt > 0) {
        s.transactions_per_second =
            static_cast<double>(window_.back().transactions - window_.front().transactions) / dt;
        s.rows_per_second = static_cast<double>(window_.back().rows - window_.front().rows) / dt;
      }
    }
    std::vector<double> v;
    for (const auto& [at, ms] : lags_) v.push_back(ms);
    s.lag_p99_ms = 0;
    if (!v.empty()) {
      const size_t k =
          std::min(v.size() - 1, static_cast<size_t>(0.99 * static_cast<double>(v.size())));
      std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
      s.lag_p99_ms = std::max(0.0, v[k]);
    }
  }

 private:
  struct Point {
    Clock::time_point at;
    int64_t transactions, rows;
  };
  std::deque<Point> window_;
  std::deque<std::pair<Clock::time_point, double>> lags_;
};

// What earlier sessions of this follow applied: counters survive reconnections.
struct AppliedBefore {
  int64_t transactions = 0, rows = 0, conflicts = 0;
};

// One connected run: from connecting to a lost connection, a stop or a switch.
class FollowSession {
 public:
  FollowSession(const FollowOptions& o, const std::atomic<bool>& stop,
                std::map<std::string, pg::Lsn>& horizons, FollowStatus& status,
                std::mutex& status_mu, const AppliedBefore& before, FollowJournal& journal,
                DivergenceMonitor& monitor)
      : o_(o),
        stop_(stop),
        horizons_(horizons),
        status_(status),
        status_mu_(status_mu),
        before_(before),
        journal_(journal),
        monitor_(monitor) {}

  Result<FollowState> run() {
    if (auto ok = connect(); !ok) return tl::unexpected(ok.error());
    auto stream = pg::ReplicationStream::start(o_.from, o_.slot, publications_);
    if (!stream) return tl::unexpected(stream.error());
    stream_ = std::make_unique<pg::ReplicationStream>(std::move(*stream));
    connected_ = true;
    assembler_ = std::make_unique<TransactionAssembler>(pool_->restart_point(), horizons_,
                                                        o_.max_transaction_bytes);
    confirmed_ = pool_->restart_point();
    log_info(fmt::format(
        "following slot '{}' (publications {}) from {} (applied up to {} on the "
        "target)",
        o_.slot, publications_, o_.from.redacted(), pg::lsn_text(pool_->restart_point())));
    set_state(FollowState::kCatchingUp);
    std::optional<FollowState> reason;
    while (!reason) {
      if (stop_) {
        reason = FollowState::kStopped;
        break;
      }
      auto frame = stream_->next(confirm_now_ ? 5 : 50);
      if (!frame) return tl::unexpected(frame.error());
      idle_ = !*frame;
      if (*frame) {
        auto message = pg::decode_pgoutput((*frame)->payload);
        if (!message) return tl::unexpected(message.error());
        auto handled = handle(std::move(*message));
        if (!handled) return tl::unexpected(handled.error());
      }
      if (confirm_now_ && caught_up()) {
        // A cutover is waiting on this position: confirm it without delay.
        confirm_now_ = false;
        if (auto ok = confirm_flushed(/*wait=*/true); !ok) return tl::unexpected(ok.error());
      }
      if (auto ok = tick(); !ok) return tl::unexpected(ok.error());
      if (auto ok = resync_step(); !ok) return tl::unexpected(ok.error());
      if (switch_at_ && caught_up()) reason = FollowState::kSwitched;
    }
    // Everything received is applied and confirmed before leaving.
    if (large_open_) {
      if (auto ok = pool_->serial().rollback(); !ok) return tl::unexpected(ok.error());
    }
    if (auto ok = wait_drained(); !ok) return tl::unexpected(ok.error());
    if (auto ok = confirm_flushed(/*wait=*/true); !ok) return tl::unexpected(ok.error());
    update_status();
    return *reason;
  }

 private:
  Result<void> connect() {
    ApplyPoolOptions po;
    po.target = o_.to;

    po.jobs = o_.apply_jobs;
    po.settings.lock_timeout_ms = o_.apply_jobs > 1 ? 2000 : 0;
    po.settings.statement_timeout_ms = o_.stall_timeout_seconds * 1000;  // at most a day
    // The side being written is read-only for applications during and after
    // a cutover or rollback; ferry's own apply goes on.
    po.settings.override_read_only = true;
    auto from_ctl = pg::Connection::open(o_.from, {"ferry follow"});
    if (!from_ctl) return tl::unexpected(from_ctl.error());
    from_ctl_ = std::make_unique<pg::Connection>(std::move(*from_ctl));
    auto read_slot = [&] {
      return from_ctl_->query(
          "SELECT plugin, active_pid FROM pg_replication_slots WHERE slot_name = $1 AND "
          "database = current_database()",
          {o_.slot});
    };
    const auto asked = Clock::now();
    auto slot = read_slot();
    // A previous run killed a moment ago: its walsender ends once it notices.
    while (slot && slot->size() > 0 && !slot->is_null(0, 1) && seconds_since(asked) < 30) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      slot = read_slot();
    }
    if (!slot) return tl::unexpected(slot.error());
    if (slot->size() == 0)
      return fail(ErrorCode::kInvalidInput,
                  fmt::format("no replication slot '{}' for this database on {}: {}", o_.slot,
                              o_.from.redacted(),
                              o_.reverse ? "it is created by ferry db cutover --reverse"
                                         : "ferry db clone creates it (unless --no-slot)"));
    if (slot->at(0, 0) != "pgoutput")
      return fail(ErrorCode::kInvalidInput,
                  fmt::format("replication slot '{}' uses the {} plugin; follow needs pgoutput",
                              o_.slot, slot->at(0, 0)));
    if (!slot->is_null(0, 1))
      return fail(ErrorCode::kDatabase,
                  fmt::format("replication slot '{}' is in use by process {} on {} (another "
                              "ferry db follow?)",
                              o_.slot, slot->at(0, 1), o_.from.redacted()));
    auto publications = publications_to_stream(*from_ctl_, o_.publication);
    if (!publications) return tl::unexpected(publications.error());
    publications_ = std::move(*publications);
    auto to_ctl = pg::Connection::open(o_.to, {"ferry follow"});
    if (!to_ctl) return tl::unexpected(to_ctl.error());
    to_ctl_ = std::make_unique<pg::Connection>(std::move(*to_ctl));
    auto database = to_ctl_->query("SELECT current_database()");
    if (!database) return tl::unexpected(database.error());
    po.origin_prefix = apply_origin_prefix(std::string(database->at(0, 0)), o_.slot);
    auto pool = ApplyPool::open(po);
    if (!pool) return tl::unexpected(pool.error());
    pool_ = std::move(*pool);
    drift_ = std::make_unique<SchemaDriftCheck>(*from_ctl_, *to_ctl_);
    return {};
  }

  Result<void> handle(pg::PgOutputMessage&& message) {
    auto event = assembler_->feed(std::move(message));
    if (!event) return tl::unexpected(event.error());
    using Kind = AssemblerEvent::Kind;
    switch (event->kind) {
      case Kind::kNothing:
        return {};
      case Kind::kRelation:
        return schema_changed(*event->relation_message);
      case Kind::kTransaction:
        return submit(std::move(event->transaction));
      case Kind::kLargeBegin: {
        // Too large to hold: applied as it streams, alone.
        if (auto ok = wait_drained(); !ok) return ok;
        log_info(
            fmt::format("source transaction {} is larger than {} MiB: applying it as it "
                        "streams, alone",
                        event->transaction->begin.xid, o_.max_transaction_bytes >> 20));
        ChangeApplier& a = pool_->serial();
        if (auto ok = a.begin(event->transaction->begin); !ok) return ok;
        large_open_ = true;
        large_final_lsn_ = event->transaction->begin.final_lsn;
        if (resync_) resync_->divert(*event->transaction);
        monitor_.leave_out_diverged(*event->transaction);
        for (auto& c : event->transaction->changes)
          if (auto ok = a.change(std::move(c)); !ok) return ok;
        return {};
      }
      case Kind::kLargeChange:
        if (resync_ && resync_->divert(*event->change, large_final_lsn_)) return {};
        if (monitor_.leaves_out(*event->change)) return {};
        return pool_->serial().change(std::move(*event->change));
      case Kind::kLargeCommit: {
        ChangeApplier& a = pool_->serial();
        if (auto ok = a.commit(event->transaction->commit); !ok) return ok;
        large_open_ = false;
        last_begin_ = event->transaction->begin;
        last_commit_ = event->transaction->commit;
        pool_->committed_outside(event->transaction->seq, event->transaction->commit,
                                 a.rows_in_transaction());
        return {};
      }
      case Kind::kMarker:
        // A cutover waits for the slot to confirm its marker: everything
        // committed before it is then on the target.
        marker_at_ = std::max(marker_at_, event->marker_lsn);
        confirm_now_ = true;
        if (event->marker == "ferry-switch") {
          log_info(fmt::format("the cutover switched at {}: follow ends once all is applied",
                               pg::lsn_text(event->marker_lsn)));
          switch_at_ = event->marker_lsn;
        }
        return {};
    }
    return {};
  }

  Result<void> schema_changed(const pg::RelationMessage& relation) {
    auto drift = drift_->check(relation);
    if (!drift) return tl::unexpected(drift.error());
    for (const auto& w : drift->warnings) {
      log_warn(w);
      std::lock_guard lock(status_mu_);
      if (std::find(status_.warnings.begin(), status_.warnings.end(), w) == status_.warnings.end())
        status_.warnings.push_back(w);
    }
    if (drift->statements.empty()) return {};
    // Everything before the change to the table applies first.
    if (auto ok = wait_drained(); !ok) return ok;
    for (const auto& sql : drift->statements) {
      log_info("schema change on the source, applying on the target: " + sql);
      if (auto ok = to_ctl_->exec(sql); !ok) return ok;
    }
    return {};
  }

  Result<void> submit(std::unique_ptr<SourceTransaction> t) {
    if (resync_) resync_->divert(*t);
    monitor_.leave_out_diverged(*t);
    last_begin_ = t->begin;
    last_commit_ = t->commit;
    return submit_to_pool(std::move(t));
  }

  Result<void> submit_to_pool(std::unique_ptr<SourceTransaction> t) {
    while (t) {
      auto accepted = pool_->submit(t, 200);
      if (!accepted) return tl::unexpected(accepted.error());
      if (*accepted) return {};
      if (auto ok = tick(); !ok) return ok;
    }
    return {};
  }

  Result<void> wait_drained() {
    while (true) {
      auto done = pool_->drain(200);
      if (!done) return tl::unexpected(done.error());
      if (*done) return {};
      if (auto ok = tick(); !ok) return ok;
    }
  }

  // Never while a resync holds changes back: a cutover's marker is not
  // confirmed, nor its switch taken, until they are applied.
  bool caught_up() const {
    return idle_ && !resync_ && !assembler_->in_transaction() && pool_->progress().queued == 0;
  }

  // The slot may release what the target has flushed. Commits are
  // asynchronous on the target, so a position is confirmed only once the
  // target's WAL is flushed past the point where it was reached.
  Result<void> confirm_flushed(bool wait) {
    for (int round = 0; round < (wait ? 50 : 1); ++round) {
      pg::Lsn reached = pool_->progress().committed_end;
      // Held changes (a resync) are not on the target: nothing past them.
      if (caught_up() ||
          (wait && !resync_ && pool_->progress().queued == 0 && !assembler_->in_transaction()))
        reached = std::max({reached, stream_->server_end(), marker_at_});
      auto wal = to_ctl_->query(
          "SELECT pg_current_wal_flush_lsn()::text, pg_current_wal_insert_lsn()::text");
      if (!wal) return tl::unexpected(wal.error());
      const pg::Lsn flushed = pg::parse_lsn(wal->at(0, 0)).value_or(0);
      const pg::Lsn inserted = pg::parse_lsn(wal->at(0, 1)).value_or(0);
      if (fence_set_ && flushed >= fence_local_ && fence_confirm_ > confirmed_) {
        if (auto ok = stream_->confirm(fence_confirm_); !ok) return ok;
        confirmed_ = fence_confirm_;
        fence_set_ = false;
      }
      if (!fence_set_ && reached > confirmed_) {
        fence_set_ = true;
        fence_confirm_ = reached;
        fence_local_ = inserted;
      }
      if (!wait || (!fence_set_ && reached <= confirmed_)) return {};
      // A synchronous commit flushes the target's WAL past the fence now.
      if (fence_set_ && flushed < fence_local_) {
        if (auto ok = to_ctl_->exec("SET synchronous_commit = on; SELECT txid_current()"); !ok)
          return ok;
        continue;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return {};
  }

  Result<void> tick() {
    // Runs for every message received: the checks below take the pool's lock,
    // which the workers need, so they run at most every 10 ms.
    const auto now = Clock::now();
    if (now - last_tick_ < std::chrono::milliseconds(10)) return {};
    last_tick_ = now;
    // A worker's failure ends the session at once, not at the next submit.
    if (auto failed = pool_->failure()) return tl::unexpected(std::move(*failed));
    if (now - last_fence_ >= std::chrono::milliseconds(100)) {
      last_fence_ = now;
      if (auto ok = confirm_flushed(false); !ok) return ok;
    }
    const ApplyProgress p = pool_->progress();
    if (p.committed_seq != last_seq_ || (p.queued == 0 && !large_open_)) {
      last_seq_ = p.committed_seq;
      last_progress_ = now;
    } else if (now - last_progress_ > std::chrono::seconds(o_.stall_timeout_seconds)) {
      return fail(ErrorCode::kDatabase,
                  fmt::format("apply has made no progress for {} s with {} transactions waiting "
                              "(a lock held on the target? see pg_stat_activity there)",
                              o_.stall_timeout_seconds, p.queued));
    }
    if (now - last_watch_ >= std::chrono::seconds(2)) {
      last_watch_ = now;
      if (auto ok = monitor_.check(*from_ctl_, status_, status_mu_); !ok) return ok;
    }
    if (now - last_status_ >= std::chrono::seconds(1)) {
      last_status_ = now;
      if (auto ok = update_status(); !ok) return ok;
    }
    return {};
  }

  // A table copy `ferry db clone --resync` asked for (table_resync.h):
  // started when one is waiting, finished when its copy has ended.
  Result<void> resync_step() {
    // Between transactions only: the horizon must filter a whole transaction,
    // and the hold must take all of one (its changes are diverted at submit).
    if (o_.reverse || large_open_ || assembler_->in_transaction()) return {};
    if (resync_) return resync_->finished() ? finish_resync() : Result<void>{};
    const auto now = Clock::now();
    if (now - last_resync_poll_ < std::chrono::milliseconds(500)) return {};
    last_resync_poll_ = now;
    auto next = journal_.next_resync();
    if (!next) return tl::unexpected(next.error());
    if (!*next) return {};
    ResyncRecord request = std::move(**next);
    const std::string tables = join(request.tables, ", ");
    log_info(fmt::format(
        "event=resync_started id={} tables={}{}: holding their changes, "
        "copying them again at a new snapshot",
        request.id, tables,
        request.state == ResyncState::kCopying ? " (cut short by a restart before)" : ""));
    TableResyncOptions ro{o_.from, o_.to, o_.slot, o_.publication,
                          held_bytes_bound(o_.max_transaction_bytes)};
    resync_ = std::make_unique<TableResync>(std::move(ro), request);
    // What was queued for the tables before the hold commits first: the
    // copy's TRUNCATE must not wait on it, nor wipe what comes after.
    if (auto ok = wait_drained(); !ok) return ok;
    request.state = ResyncState::kCopying;
    request.detail = "";
    if (auto ok = journal_.update_resync(request); !ok) return ok;
    {
      std::lock_guard lock(status_mu_);
      status_.resync = fmt::format("{}: copying since {}", tables, iso_time(unix_now()));
    }
    resync_->start();
    return {};
  }

  Result<void> finish_resync() {
    // The copy committed, the held changes not yet applied: a restart must copy again.
    failpoint("follow.resync-copied");
    const ResyncOutcome out = resync_->outcome();
    ResyncRecord record = resync_->request();
    const size_t held = resync_->held();
    auto changes = resync_->changes_to_apply();
    const size_t applied_after = changes.size();
    if (!changes.empty()) {
      // The held changes the copy does not have, as one transaction at the
      // position already reached (the origin records nothing new).
      auto t = std::make_unique<SourceTransaction>();
      t->seq = assembler_->allocate_seq();
      t->begin = last_begin_;
      t->commit = last_commit_;
      if (t->commit.end_lsn == 0) {
        // Nothing else applied in this session yet: the position reached, now.
        t->begin.final_lsn = t->commit.commit_lsn = t->commit.end_lsn = pool_->restart_point();
        t->commit.commit_time = pg::micros_since_2000();
      }
      t->changes = std::move(changes);
      if (auto ok = submit_to_pool(std::move(t)); !ok) return ok;
    }
    if (auto ok = wait_drained(); !ok) return ok;
    for (const auto& [table, lsn] : out.copied_at) {
      if (auto ok = journal_.set_resync_horizon(table, lsn); !ok) return ok;
      const pg::Lsn horizon = pg::parse_lsn(lsn).value_or(0);
      horizons_[table] = std::max(horizons_[table], horizon);
      assembler_->add_horizon(table, horizon);
      auto counters = out.counters.find(table);
      if (auto ok = monitor_.restart(table, counters == out.counters.end() ? 0 : counters->second);
          !ok)
        return ok;
    }
    std::vector<std::string> left;
    for (const auto& t : record.tables)
      if (!out.copied_at.count(t)) left.push_back(t);
    record.rows = out.rows;
    record.seconds = out.seconds;
    record.horizon = out.copied_at.empty() ? "" : out.copied_at.begin()->second;
    if (resync_->dropped() > 0) {
      record.state = ResyncState::kFailed;
      record.detail = fmt::format(
          "{} changes to the tables arrived during the copy, more than the {} MiB follow holds, "
          "and were dropped: the tables are diverged; run the resync again when writes to them "
          "are fewer",
          resync_->dropped(), held_bytes_bound(o_.max_transaction_bytes) >> 20);
      for (const auto& t : record.tables)
        if (auto ok = monitor_.mark_diverged(t, record.detail); !ok) return ok;
    } else if (out.error) {
      record.state = ResyncState::kFailed;
      std::vector<std::string> as_they_were;
      for (const auto& t : left)
        if (!out.diverged.count(t)) as_they_were.push_back(t);
      record.detail = out.error->to_string();
      if (!as_they_were.empty())
        record.detail += "; not copied, left as they were: " + join(as_they_were, ", ");
      for (const auto& [t, why] : out.diverged) {
        record.detail += "; " + t + " is diverged: " + why;
        if (auto ok = monitor_.mark_diverged(t, why); !ok) return ok;
      }
    } else {
      record.state = ResyncState::kDone;
      record.detail = fmt::format(
          "{} rows copied at {}; {} changes to them arrived during the copy, {} of them after "
          "its snapshot were applied{}",
          out.rows, record.horizon, held, applied_after,
          out.now_fully_carried.empty()
              ? std::string()
              : "; every change is carried from now on for " + join(out.now_fully_carried, ", "));
    }
    {
      std::lock_guard lock(status_mu_);
      status_.resync.clear();
    }
    // The status says so before the request is marked finished: whoever
    // waits on it reads a status without the tables' divergence.
    if (auto ok = monitor_.check(*from_ctl_, status_, status_mu_); !ok) return ok;
    if (auto ok = update_status(); !ok) return ok;
    if (auto ok = journal_.update_resync(record); !ok) return ok;
    (record.state == ResyncState::kDone ? log_info : log_warn)(
        fmt::format("event=resync_{} id={} tables={} rows={} seconds={:.1f} detail={}",
                    resync_state_name(record.state), record.id, join(record.tables, ","),
                    record.rows, record.seconds, log_value(record.detail)));
    resync_.reset();
    return {};
  }

  Result<void> update_status() {
    auto wal = from_ctl_->query("SELECT pg_current_wal_lsn()::text");
    if (!wal) return tl::unexpected(wal.error());
    const pg::Lsn source_wal = pg::parse_lsn(wal->at(0, 0)).value_or(0);
    const ApplyProgress p = pool_->progress();
    meter_.sample(before_.transactions + p.transactions, before_.rows + p.rows);
    meter_.lags(pool_->take_lag_samples());
    std::lock_guard lock(status_mu_);
    FollowStatus& s = status_;
    const bool up_to_date = caught_up();
    s.state = up_to_date ? FollowState::kFollowing : FollowState::kCatchingUp;
    s.error.clear();  // a lost connection's error is over once streaming again
    const pg::Lsn applied = std::max(p.committed_end, up_to_date ? confirmed_ : pg::Lsn{0});
    s.applied_lsn = pg::lsn_text(applied);
    s.confirmed_lsn = pg::lsn_text(confirmed_);
    s.source_wal_lsn = pg::lsn_text(source_wal);
    s.lag_bytes = source_wal > applied ? static_cast<int64_t>(source_wal - applied) : 0;
    if (up_to_date) s.lag_bytes = 0;
    s.lag_seconds = up_to_date || p.commit_time == 0
                        ? 0
                        : static_cast<double>(pg::micros_since_2000() - p.commit_time) / 1e6;
    s.transactions = before_.transactions + p.transactions;
    s.rows = before_.rows + p.rows;
    s.conflicts = before_.conflicts + p.conflicts;
    s.queued = p.queued;
    s.skipped = assembler_->transactions_skipped();
    meter_.fill(s);
    s.updated_unix = unix_now();
    s.updated_at = iso_time(s.updated_unix);
    if (auto ok = write_follow_status(follow_status_path(o_.dir, o_.reverse), s); !ok) return ok;
    if (o_.live_progress)
      std::cerr << fmt::format(
          "\r\033[K{}: lag {} B / {:.1f} s (p99 {:.0f} ms) · {:.0f} tx/s · {:.0f} rows/s · {} "
          "tx applied",
          follow_state_name(s.state), s.lag_bytes, s.lag_seconds, s.lag_p99_ms,
          s.transactions_per_second, s.rows_per_second, s.transactions);
    return {};
  }

  void set_state(FollowState state) {
    std::lock_guard lock(status_mu_);
    status_.state = state;
  }

 public:
  // Adds what this session applied.
  void add_to(AppliedBefore& totals) const {
    if (!pool_) return;
    const ApplyProgress p = pool_->progress();
    totals.transactions += p.transactions;
    totals.rows += p.rows;
    totals.conflicts += p.conflicts;
  }
  bool connected() const { return connected_; }

 private:
  const FollowOptions& o_;
  const std::atomic<bool>& stop_;
  std::map<std::string, pg::Lsn>& horizons_;
  FollowStatus& status_;
  std::mutex& status_mu_;
  const AppliedBefore& before_;
  FollowJournal& journal_;
  DivergenceMonitor& monitor_;
  std::string publications_;  // publication_names of the stream
  std::unique_ptr<TableResync> resync_;
  pg::BeginMessage last_begin_;
  pg::CommitMessage last_commit_;
  pg::Lsn large_final_lsn_ = 0;
  std::unique_ptr<pg::Connection> from_ctl_, to_ctl_;
  std::unique_ptr<ApplyPool> pool_;
  std::unique_ptr<pg::ReplicationStream> stream_;
  std::unique_ptr<TransactionAssembler> assembler_;
  std::unique_ptr<SchemaDriftCheck> drift_;
  FollowMeter meter_;
  bool idle_ = false, large_open_ = false, connected_ = false, confirm_now_ = false;
  pg::Lsn confirmed_ = 0, switch_at_ = 0, marker_at_ = 0;
  bool fence_set_ = false;
  pg::Lsn fence_confirm_ = 0, fence_local_ = 0;
  int64_t last_seq_ = -1;
  Clock::time_point last_tick_{}, last_fence_{}, last_status_{}, last_watch_{}, last_resync_poll_{},
      last_progress_ = Clock::now();
};

}  // namespace

Result<FollowOutcome> run_follow(const FollowOptions& o, const std::atomic<bool>& stop) {
  auto journal = FollowJournal::open(o.dir);
  if (!journal) return tl::unexpected(journal.error());
  auto horizons = copy_horizons(o, *journal);
  if (!horizons) return tl::unexpected(horizons.error());
  const std::string direction = o.reverse ? "reverse" : "forward";
  auto monitor = DivergenceMonitor::open(*journal, direction, o.publication, o.dir);
  if (!monitor) return tl::unexpected(monitor.error());
  std::mutex status_mu;
  FollowStatus status;
  status.direction = direction;
  auto diverged = journal->diverged(direction);
  if (!diverged) return tl::unexpected(diverged.error());
  status.diverged_tables = std::move(*diverged);
  status.pid = getpid();
  status.slot = o.slot;
  status.publication = o.publication;
  status.source = o.from.redacted();
  status.target = o.to.redacted();
  status.apply_jobs = o.apply_jobs;
  status.started_at = iso_time(unix_now());
  const std::string status_path = follow_status_path(o.dir, o.reverse);
  std::error_code ec;
  std::filesystem::create_directories(o.dir, ec);
  auto write_status = [&](FollowState state, const std::string& error) {
    std::lock_guard lock(status_mu);
    status.state = state;
    status.error = error;
    status.updated_unix = unix_now();
    status.updated_at = iso_time(status.updated_unix);
    return write_follow_status(status_path, status);
  };
  if (auto ok = write_status(FollowState::kStarting, ""); !ok)
    return tl::unexpected(std::move(ok.error()).with_context("writing " + status_path));

  std::unique_ptr<MetricsEndpoint> metrics;
  if (!o.metrics_addr.empty()) {
    auto m = MetricsEndpoint::start(
        o.metrics_addr,
        [&] {
          std::lock_guard lock(status_mu);
          return render_follow_status_prometheus(status);
        },
        [&] {
          std::lock_guard lock(status_mu);
          return follow_readiness(status);
        });
    if (!m) return tl::unexpected(m.error());
    metrics = std::move(*m);
    std::lock_guard lock(status_mu);
    status.metrics_url = "http://" + metrics->address() + "/metrics";
    log_info("Prometheus metrics on " + status.metrics_url);
  }

  AppliedBefore applied;
  auto lost_since = Clock::now();
  bool losing = false, ever_connected = false;
  while (true) {
    FollowSession session(o, stop, *horizons, status, status_mu, applied, *journal, *monitor);
    auto reason = session.run();
    session.add_to(applied);
    {
      // A resync the session had started is taken up again by the next one.
      std::lock_guard lock(status_mu);
      status.resync.clear();
    }
    if (reason) {
      (void)write_status(*reason, "");
      FollowOutcome out{*reason, {}};
      std::lock_guard lock(status_mu);
      out.status = status;
      return out;
    }
    // Stopped while reconnecting: a stop, as asked, not a failure.
    if (stop && is_connection_loss(reason.error())) {
      (void)write_status(FollowState::kStopped, reason.error().to_string());
      FollowOutcome out{FollowState::kStopped, {}};
      std::lock_guard lock(status_mu);
      out.status = status;
      return out;
    }
    if (!is_connection_loss(reason.error()) || stop) {
      (void)write_status(FollowState::kFailed, reason.error().to_string());
      return tl::unexpected(reason.error());
    }
    ever_connected = ever_connected || session.connected();
    // The retry budget counts from the first failure since the last run that
    // got going; a follow that never connected (a wrong host or port, say)
    // gets a short one rather than minutes of warnings.
    const int budget =
        ever_connected ? o.retry_seconds : std::min(o.retry_seconds, kFirstConnectSeconds);
    if (!losing || session.connected()) {
      lost_since = Clock::now();
      if (!ever_connected)
        log_warn(fmt::format("{}; reconnecting for up to {} s (never connected yet)",
                             reason.error().to_string(), budget));
    }
    losing = true;
    if (seconds_since(lost_since) > budget) {
      (void)write_status(FollowState::kFailed, reason.error().to_string());
      return tl::unexpected(
          std::move(reason.error())
              .with_context(fmt::format("still failing after {} s of retries{}", budget,
                                        ever_connected ? "" : " (never connected)")));
    }
    (ever_connected ? log_warn
                    : log_debug)(fmt::format("{}; reconnecting", reason.error().to_string()));
    {
      std::lock_guard lock(status_mu);
      ++status.reconnects;
    }
    (void)write_status(FollowState::kReconnecting, reason.error().to_string());
    for (int i = 0; i < 10 && !stop; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace ferry::db
