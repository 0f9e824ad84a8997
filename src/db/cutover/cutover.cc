#include "db/cutover/cutover.h"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>

#include "core/files.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/measure.h"
#include "core/process.h"
#include "core/step_timer.h"
#include "core/text.h"
#include "db/cutover/cutover_checks.h"
#include "db/follow/divergence_monitor.h"
#include "db/follow/follow.h"
#include "db/follow/follow_journal.h"
#include "db/follow/follow_status.h"
#include "db/publication.h"
#include "db/verify/verify.h"
#include "pg/connection.h"

namespace ferry::db {

std::string cutover_state_path(const std::string& dir) {
  return (std::filesystem::path(dir) / "cutover.json").string();
}

namespace {

using Clock = std::chrono::steady_clock;

class Cutover {
 public:
  explicit Cutover(const CutoverOptions& o) : o_(o) {
    old_ = o.rollback ? o.target : o.source;
    new_ = o.rollback ? o.source : o.target;
    reverse_slot_ = reverse_slot_name(o.slot);
    slot_ = o.rollback ? reverse_slot_ : o.slot;
    r_.kind = o.rollback ? "rollback" : "cutover";
  }

  Result<CutoverReport> run() {
    auto old_conn = pg::Connection::open(old_, {"ferry cutover"});
    if (!old_conn) return tl::unexpected(old_conn.error());
    auto new_conn = pg::Connection::open(new_, {"ferry cutover"});
    if (!new_conn) return tl::unexpected(new_conn.error());
    old_conn_ = std::make_unique<pg::Connection>(std::move(*old_conn));
    new_conn_ = std::make_unique<pg::Connection>(std::move(*new_conn));
    // ferry's own sessions write (the marker, setval) whatever the default.
    for (auto* c : {old_conn_.get(), new_conn_.get()})
      if (auto ok = c->exec("SET default_transaction_read_only = off"); !ok)
        return tl::unexpected(ok.error());

    bool ok = step("preflight", [&] { return preflight(); }) &&
              step("read-only", [&] { return freeze(); }) &&
              step("drain", [&] { return drain(); }) && step("verify", [&] { return verify(); }) &&
              step("sequences", [&] { return sequences(); }) &&
              step("switch", [&] { return switch_over(); });
    r_.changed_anything = frozen_;
    if (!ok && frozen_) restore();
    if (ok && o_.reverse && !o_.rollback) {
      if (o_.start_reverse_follow) {
        start_reverse_follow();
      } else {
        r_.reverse_follow_external = true;
        log_info(fmt::format(
            "reverse stream prepared (slot {} on {}); start it under its supervisor: "
            "systemctl start ferry-follow-reverse@NAME, or ferry db follow --reverse --dir {}",
            reverse_slot_, o_.target.redacted(), o_.dir));
      }
    }
    r_.total_seconds = timer_.total_seconds();
    return r_;
  }

 private:
  // Runs one timed step, prints it as it ends, records it.
  template <typename F>
  bool step(const std::string& name, F&& body) {
    const auto running = timer_.start(name);
    CutoverStep s;
    s.name = name;
    detail_.clear();
    Result<void> done = body();
    s.seconds = timer_.finish(running);
    s.ok = done.has_value();
    s.detail = done ? detail_ : done.error().to_string();
    std::cerr << fmt::format("{} {:<10} {:>7.3f} s  {}\n", s.ok ? "ok  " : "FAIL", name, s.seconds,
                             s.detail);
    if (!done) {
      r_.failure = name + ": " + done.error().to_string();
      r_.failure_code = done.error().code;
    }
    r_.steps.push_back(std::move(s));
    return done.has_value();
  }

  double pause_left() const { return o_.max_write_pause - seconds_since(paused_at_); }

  Result<void> over_budget(const std::string& what) const {
    return fail(
        ErrorCode::kDatabase,
        fmt::format("{} did not finish within --max-write-pause ({} s)", what, o_.max_write_pause));
  }

  Result<void> preflight() {
    std::vector<std::string> problems;
    if (auto ok = wait_for_follow(problems); !ok) return ok;
    if (o_.rollback) {
      auto state = read_text_file(cutover_state_path(o_.dir));
      if (!state || state->find("\"reverse\": true") == std::string::npos)
        problems.push_back("rollback needs a cutover made with --reverse in " + o_.dir +
                           " (the source must have been kept in step)");
    }
    auto checks = preflight_checks(*old_conn_, *new_conn_, o_.reverse && !o_.rollback);
    if (!checks) return tl::unexpected(checks.error());
    problems.insert(problems.end(), checks->begin(), checks->end());
    // Schema and settings: the rows are compared once nothing moves (step 4).
    VerifyOptions v;
    v.source = old_;
    v.target = new_;
    v.rows = v.sequences = false;
    auto verified = run_verify(v);
    if (!verified) return tl::unexpected(verified.error());
    for (const auto* list : {&verified->schema, &verified->settings})
      for (const auto& d : *list)
        problems.push_back(fmt::format("{} {} differs: '{}' on the old side, '{}' on the new",
                                       d.kind, d.name, d.source, d.target));
    if (!problems.empty())
      return fail(ErrorCode::kInvalidInput,
                  fmt::format("{} problem(s):\n  {}", problems.size(), join(problems, "\n  ")));
    detail_ = "follow running, schema and settings agree";
    return {};
  }

  // A follow still starting or catching up is waited for, up to
  // --catch-up-timeout, with its lag shown as it falls; one that is not
  // running, has failed, or leaves a table diverged is a problem at once.
  Result<void> wait_for_follow(std::vector<std::string>& problems) {
    const std::string path = follow_status_path(o_.dir, o_.rollback);
    const std::string which = o_.rollback ? "ferry db follow --reverse" : "ferry db follow";
    const auto t0 = Clock::now();
    auto last_shown = t0 - std::chrono::seconds(1);
    while (true) {
      if (!std::filesystem::exists(path)) {
        problems.push_back(fmt::format("no follow status in {}: start {} first", o_.dir, which));
        return {};
      }
      auto status = read_follow_status(path);
      if (!status) return tl::unexpected(status.error());
      const FollowStatus& s = *status;
      follow_publication_ = s.publication.empty()
                                ? std::string(o_.rollback ? kReversePublication : "ferry")
                                : s.publication;
      if (!follow_process_exists(s)) {
        problems.push_back(fmt::format("{} is not running (its status in {} is {})", which, path,
                                       follow_state_name(s.state)));
        return {};
      }
      if (has_ended(s.state)) {
        problems.push_back(fmt::format("the follow is {}, not following{}",
                                       follow_state_name(s.state),
                                       s.error.empty() ? "" : ": " + s.error));
        return {};
      }
      if (!s.diverged_tables.empty() && s.resync.empty()) {
        for (const auto& d : s.diverged_tables) accept_or_refuse(d.table, d.detail, problems);
        if (!problems.empty()) return {};
      }
      // A resync asked for and not yet taken up by follow counts as running.
      std::string resync = s.resync;
      if (resync.empty() && !o_.rollback) {
        auto journal = follow_journal();
        if (!journal) return tl::unexpected(journal.error());
        auto open_request = (*journal)->next_resync();
        if (!open_request) return tl::unexpected(open_request.error());
        if (*open_request)
          resync = fmt::format("{} ({})", join((*open_request)->tables, ", "),
                               resync_state_name((*open_request)->state));
      }
      const bool fresh = follow_is_alive(s);
      const bool caught_up = fresh && resync.empty() &&
                             (s.state == FollowState::kFollowing ||
                              (s.state == FollowState::kCatchingUp && s.transactions > 0 &&
                               s.lag_seconds <= o_.max_lag_seconds));
      if (caught_up) {
        if (seconds_since(t0) >= 0.5)
          log_info(fmt::format("the follow has caught up after {:.1f} s", seconds_since(t0)));
        return {};
      }
      const char* state = follow_state_name(s.state);
      const std::string now =
          !fresh ? fmt::format("{}, no report for {:.0f} s", state, unix_now() - s.updated_unix)
          : !resync.empty()
              ? "resync of " + resync
              : fmt::format("{}, lag {} bytes, {:.1f} s", state, s.lag_bytes, s.lag_seconds);
      if (seconds_since(t0) >= o_.catch_up_timeout_seconds) {
        problems.push_back(
            fmt::format("the follow did not catch up within --catch-up-timeout "
                        "({} s): {}",
                        o_.catch_up_timeout_seconds, now));
        return {};
      }
      if (Clock::now() - last_shown >= std::chrono::seconds(1)) {
        last_shown = Clock::now();
        std::cerr << fmt::format("     waiting for the follow to catch up: {}\n", now);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  Result<void> freeze() {
    auto db = old_conn_->query("SELECT current_database()");
    if (!db) return tl::unexpected(db.error());
    database_ = std::string(db->at(0, 0));
    paused_at_ = Clock::now();
    if (auto ok =
            old_conn_->exec(fmt::format("ALTER DATABASE {} SET default_transaction_read_only = on",
                                        pg::quote_ident(database_)));
        !ok)
      return ok;
    frozen_ = true;
    auto ended = end_sessions(*old_conn_, o_.grace_seconds);
    if (!ended) return tl::unexpected(ended.error());
    auto marker =
        old_conn_->query("SELECT pg_logical_emit_message(false, 'ferry-cutover', 'stop')::text");
    if (!marker) return tl::unexpected(marker.error());
    stop_lsn_ = std::string(marker->at(0, 0));
    // A message alone waits for the WAL writer before a walsender sends it;
    // a synchronous commit flushes it now.
    if (auto ok = old_conn_->exec("SELECT txid_current()"); !ok) return ok;
    r_.stop_lsn = stop_lsn_;
    detail_ = fmt::format("{}; stop position {}", *ended, stop_lsn_);
    return {};
  }

  Result<void> drain() {
    auto last_check = Clock::now();
    while (true) {
      auto slot = old_conn_->query(
          "SELECT confirmed_flush_lsn >= $1::pg_lsn FROM pg_replication_slots WHERE slot_name = $2",
          {stop_lsn_, slot_});
      if (!slot) return tl::unexpected(slot.error());
      if (slot->size() == 0)
        return fail(ErrorCode::kDatabase, "the replication slot " + slot_ + " is gone");
      if (slot->bool_at(0, 0)) break;
      if (pause_left() <= 0) return over_budget("applying up to the stop position");
      if (seconds_since(last_check) > 1) {
        last_check = Clock::now();
        auto status = read_follow_status(follow_status_path(o_.dir, o_.rollback));
        if (!status || !follow_is_alive(*status))
          return fail(ErrorCode::kDatabase,
                      "ferry db follow stopped before reaching the stop "
                      "position");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    detail_ = "everything up to " + stop_lsn_ + " applied";
    return {};
  }

  Result<void> verify() {
    if (auto ok = last_look_for_divergence(); !ok) return ok;
    const std::set<std::string> accepted(r_.diverged_accepted.begin(), r_.diverged_accepted.end());
    auto differences = final_verify(old_, new_, o_.final_verify, o_.verify_tables, accepted);
    if (!differences) return tl::unexpected(differences.error());
    detail_ = differences->summary;
    if (!differences->lines.empty()) {
      r_.differences = differences->lines;
      return fail(ErrorCode::kDatabase,
                  fmt::format("the two sides differ:\n  {}", join(differences->lines, "\n  ")));
    }
    if (pause_left() <= 0) return over_budget("the final verify");
    return {};
  }

  // Sessions ended at read-only publish their statistics as they end: an
  // UPDATE made just before, which follow's 2-second watch may not have seen
  // yet, shows now. Row counts would not catch it.
  Result<void> last_look_for_divergence() {
    auto journal = follow_journal();
    if (!journal) return tl::unexpected(journal.error());
    auto late = diverged_since_baselines(*old_conn_, follow_publication_, **journal, direction());
    if (!late) return tl::unexpected(late.error());
    // A divergence recorded since the preflight without a counter behind it
    // (a resync that failed or overflowed) counts the same.
    auto recorded = (*journal)->diverged(direction());
    if (!recorded) return tl::unexpected(recorded.error());
    for (const auto& d : *recorded) late->try_emplace(d.table, d.detail);
    // A table created since follow last looked is in no publication either.
    auto uncarried = tables_no_publication_carries(*old_conn_, follow_publication_);
    if (!uncarried) return tl::unexpected(uncarried.error());
    for (const auto& t : *uncarried)
      late->try_emplace(t, "no publication carries it (created after the clone)");
    std::vector<std::string> problems;
    for (const auto& [table, detail] : *late) {
      if (accepted(table)) continue;
      if (auto ok = (*journal)->mark_diverged(direction(), {table, iso_time(unix_now()), detail});
          !ok)
        return ok;
      accept_or_refuse(table, detail, problems);
    }
    if (problems.empty()) return {};
    return fail(ErrorCode::kDatabase, join(problems, "\n  "));
  }

  // A diverged table: with --allow-diverged accepted (once, said in the log
  // and the report), otherwise a problem naming what to do.
  void accept_or_refuse(const std::string& table, const std::string& detail,
                        std::vector<std::string>& problems) {
    if (!o_.allow_diverged) {
      problems.push_back(fmt::format("{} has diverged ({}): {}", table, detail,
                                     diverged_table_fix(table, o_.dir, o_.rollback)));
      return;
    }
    if (accepted(table)) return;
    log_warn(fmt::format(
        "event=diverged_table_accepted table={} detail={}: --allow-diverged, going on; the "
        "{} side will not have it",
        table, log_value(detail), o_.rollback ? "old" : "new"));
    r_.diverged_accepted.push_back(table);
  }

  bool accepted(const std::string& table) const {
    return std::find(r_.diverged_accepted.begin(), r_.diverged_accepted.end(), table) !=
           r_.diverged_accepted.end();
  }

  // The journal's side of the stream being cut over.
  const char* direction() const { return o_.rollback ? "reverse" : "forward"; }

  // WORKDIR/follow.db, opened once for all the steps that use it.
  Result<FollowJournal*> follow_journal() {
    if (!journal_) {
      auto opened = FollowJournal::open(o_.dir);
      if (!opened) return tl::unexpected(opened.error());
      journal_ = std::make_unique<FollowJournal>(std::move(*opened));
    }
    return journal_.get();
  }

  Result<void> sequences() {
    auto set = copy_sequences(*old_conn_, *new_conn_);
    if (!set) return tl::unexpected(set.error());
    detail_ = *set;
    return {};
  }

  Result<void> switch_over() {
    if (o_.reverse && !o_.rollback) {
      // Before anything can write on the new side: its every change is kept.
      auto created = create_publications(*new_conn_, kReversePublication);
      if (!created) return tl::unexpected(created.error());
      publication_created_ = !created->existed;
      auto slot = new_conn_->query(
          "SELECT pg_create_logical_replication_slot($1, 'pgoutput') WHERE NOT EXISTS "
          "(SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)",
          {reverse_slot_});
      if (!slot) return tl::unexpected(slot.error());
      slot_created_ = slot->size() > 0;
      if (!created->insert_only.empty())
        log_warn("reverse stream: only inserts and TRUNCATEs are carried back for " +
                 join(created->insert_only, ", ") +
                 " (no replica identity on the target); an UPDATE or DELETE there is reported "
                 "by ferry db status --reverse");
      // A new reverse history: watch the target's insert-only tables from now.
      auto journal = follow_journal();
      if (!journal) return tl::unexpected(journal.error());
      if (auto ok = (*journal)->reset_direction("reverse"); !ok) return ok;
      if (auto ok =
              record_insert_only_baselines(*new_conn_, kReversePublication, **journal, "reverse");
          !ok)
        return ok;
    }
    if (pause_left() <= 0) return over_budget("the steps before the switch");
    if (!o_.then_command.empty()) {
      ProcessSpec spec{{"/bin/sh", "-c", o_.then_command},
                       {{"FERRY_WRITABLE", new_.without_password()},
                        {"FERRY_READ_ONLY", old_.without_password()},
                        {"FERRY_STOP_LSN", stop_lsn_},
                        {"FERRY_STEP", r_.kind}}};
      auto ran = run_process(spec);
      if (!ran) return tl::unexpected(ran.error());
      if (ran->exit_status != 0)
        return fail(ErrorCode::kDatabase, fmt::format("--then exited with status {}: {}",
                                                      ran->exit_status, tail_lines(ran->err, 5)));
      std::cerr << ran->out;
    }
    // Last, and only once nothing can fail any more (else both sides would
    // take writes): the new side loses a read-only default a rollback (or an
    // earlier cutover) left on it.
    auto database = new_conn_->query("SELECT current_database()");
    if (!database) return tl::unexpected(database.error());
    if (auto ok =
            new_conn_->exec(fmt::format("ALTER DATABASE {} RESET default_transaction_read_only",
                                        pg::quote_ident(std::string(database->at(0, 0)))));
        !ok)
      return ok;
    r_.switched = true;
    // The follow carrying old -> new ends once it has seen this; if it cannot
    // be written, the switch stands and the follow is stopped by hand.
    if (auto ok =
            old_conn_->query("SELECT pg_logical_emit_message(false, 'ferry-switch', 'switched')");
        !ok)
      log_warn("could not tell the follow to end (stop it yourself): " + ok.error().to_string());
    r_.write_unavailable_seconds = seconds_since(paused_at_);
    r_.writable = new_.redacted();
    JsonWriter w;
    w.begin_object()
        .field("state", o_.rollback ? std::string("rolled back") : std::string("switched"))
        .field("reverse", o_.reverse || o_.rollback)
        .field("stop_lsn", stop_lsn_)
        .field("writable", new_.redacted())
        .field("at", iso_time(unix_now()))
        .end_object();
    if (auto ok = write_file_atomically(cutover_state_path(o_.dir), w.take()); !ok)
      log_warn("could not record the cutover in " + o_.dir + ": " + ok.error().to_string());
    detail_ = fmt::format("writes go to {}; write-unavailable {:.3f} s", new_.redacted(),
                          r_.write_unavailable_seconds);
    return {};
  }

  // Puts the old side back as it was; each part tried even if one fails.
  void restore() {
    std::vector<std::string> problems;
    auto conn = pg::Connection::open(old_, {"ferry cutover"});
    if (!conn) {
      problems.push_back(conn.error().to_string());
    } else if (auto ok =
                   [&] {
                     // A new session starts read-only here: say otherwise first,
                     // in a statement (a transaction) of its own.
                     if (auto set = conn->exec("SET default_transaction_read_only = off"); !set)
                       return set;
                     return conn->exec(
                         fmt::format("ALTER DATABASE {} RESET default_transaction_read_only",
                                     pg::quote_ident(database_)));
                   }();
               !ok) {
      problems.push_back(ok.error().to_string());
    }
    if (slot_created_)
      if (auto ok = new_conn_->query("SELECT pg_drop_replication_slot($1)", {reverse_slot_}); !ok)
        problems.push_back(ok.error().to_string());
    if (publication_created_)
      if (auto ok =
              new_conn_->exec(fmt::format("DROP PUBLICATION IF EXISTS {}, {}", kReversePublication,
                                          insert_only_publication(kReversePublication)));
          !ok)
        problems.push_back(ok.error().to_string());
    r_.restored = problems.empty();
    if (problems.empty())
      log_warn(fmt::format("restored: {} takes writes again (write-unavailable {:.3f} s)",
                           old_.redacted(), seconds_since(paused_at_)));
    else
      log_error(
          "restoring the old side failed; do it by hand (ALTER DATABASE ... RESET "
          "default_transaction_read_only): " +
          join(problems, "; "));
  }

  void start_reverse_follow() {
    const std::string log = (std::filesystem::path(o_.dir) / "follow-reverse.log").string();
    // Connection strings through the environment, never the command line (a
    // password there would show in every `ps` on the host); set before the
    // fork, since the child must not allocate, and taken back after it.
    setenv("FERRY_SOURCE", o_.source.original.c_str(), 1);
    setenv("FERRY_TARGET", o_.target.original.c_str(), 1);
    // Closed by a successful exec, or carrying exec's errno: the report says
    // a reverse stream runs only once it does.
    int exec_pipe[2];
    const bool piped = pipe2(exec_pipe, O_CLOEXEC) == 0;
    const bool log_format_is_json = log_format() == LogFormat::kJson;
    const pid_t pid = fork();
    if (pid == 0) {
      setsid();
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      const int devnull = open("/dev/null", O_RDONLY);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
      }
      if (devnull >= 0) dup2(devnull, 0);
      // Its log is written as this command's is (--log-format).
      const char* log_format = log_format_is_json ? "json" : "text";
      execl(o_.ferry_binary.c_str(), o_.ferry_binary.c_str(), "--log-format", log_format, "db",
            "follow", "--reverse", "--dir", o_.dir.c_str(), "--slot", o_.slot.c_str(),
            static_cast<char*>(nullptr));
      const int err = errno;
      if (piped) (void)!write(exec_pipe[1], &err, sizeof err);
      _exit(127);
    }
    unsetenv("FERRY_SOURCE");
    unsetenv("FERRY_TARGET");
    int exec_errno = 0;
    if (piped) {
      close(exec_pipe[1]);
      if (pid > 0 && read(exec_pipe[0], &exec_errno, sizeof exec_errno) != sizeof exec_errno)
        exec_errno = 0;
      close(exec_pipe[0]);
    }
    if (pid < 0 || exec_errno != 0) {
      log_error(
          fmt::format("the reverse stream could not be started ({}): run ferry db follow "
                      "--reverse --dir {} yourself before any rollback",
                      std::strerror(pid < 0 ? errno : exec_errno), o_.dir));
      return;
    }
    r_.reverse_follow_pid = pid;
    log_info(
        fmt::format("reverse stream started (pid {}, log {}): {} -> {}; see ferry db status "
                    "--reverse --dir {}",
                    pid, log, o_.target.redacted(), o_.source.redacted(), o_.dir));
  }

  const CutoverOptions& o_;
  pg::ConnInfo old_, new_;
  std::string slot_, reverse_slot_;
  CutoverReport r_;
  std::unique_ptr<pg::Connection> old_conn_, new_conn_;
  std::string database_, stop_lsn_, detail_;
  StepTimer timer_;  // from construction: the steps and the total
  Clock::time_point paused_at_ = Clock::now();
  bool frozen_ = false, slot_created_ = false, publication_created_ = false;
  std::unique_ptr<FollowJournal> journal_;    // see follow_journal()
  std::string follow_publication_ = "ferry";  // the streaming side's, from the follow's status
};

}  // namespace

Result<CutoverReport> run_cutover(const CutoverOptions& options) { return Cutover(options).run(); }

}  // namespace ferry::db
