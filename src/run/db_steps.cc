// The database steps of LiveStepRunner: clone, follow, verify, and the
// database half of a cutover and its rollback (live_step_runner.h).
#include <fmt/format.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "core/files.h"
#include "core/log.h"
#include "core/measure.h"
#include "core/text.h"
#include "core/yaml.h"
#include "db/clone/clone_journal.h"
#include "db/cutover/cutover.h"
#include "db/follow/follow.h"
#include "db/follow/follow_status.h"
#include "db/verify/verify.h"
#include "pg/connection.h"
#include "run/live_step_runner.h"
#include "run/live_verify.h"
#include "run/plan_preflight.h"
#include "run/step_child.h"

namespace ferry::run {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// A follow just started has this long to write its first status before it
// counts as dead.
constexpr double kFollowStartSeconds = 20;
// A follow counts as caught up below this lag.
constexpr double kCaughtUpSeconds = 5;
constexpr double kMarkerTimeoutSeconds = 120;

// What cutover.json says of the database: "switched" (cut over), "rolled
// back", or "" (never cut over).
std::string switch_state(const std::string& dir) {
  auto text = read_text_file(db::cutover_state_path(dir));
  if (!text) return "";
  auto doc = parse_yaml(*text, "cutover.json");
  if (!doc) return "";
  const YamlNode* state = doc->find("state");
  return state ? state->scalar() : "";
}

}  // namespace

StepOutcome LiveStepRunner::clone(size_t index, const PlanDatabase& db, StopCheck& stop) {
  const std::string dir = database_dir(plan_, db);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return {false, "creating " + dir + ": " + ec.message()};
  const bool journal_exists = fs::exists(fs::path(dir) / "clone.db");
  if (journal_exists) {
    auto journal = db::CloneJournal::open(dir, true);
    if (!journal) return {false, journal.error().to_string()};
    auto finished = journal->get("finished");
    if (finished && finished->value_or("") == "yes") {
      return {true, "copied already (the clone journal in " + dir + " says it finished)"};
    }
  }
  std::vector<std::string> args = {"db",       "clone",
                                   "--dir",    dir,
                                   "--slot",   slot_name(plan_, db),
                                   "--jobs",   std::to_string(db.jobs),
                                   "--format", "json"};
  if (journal_exists) args.push_back("--resume");
  event("clone_started", fmt::format("step={} database={} dir={} resume={}", index + 1, db.name,
                                     dir, journal_exists ? "yes" : "no"));
  // How far it has got, from its journal (read while it writes: SQLite's
  // WAL lets a reader in), one event every 10 s.
  const auto progress = [&] {
    if (!fs::exists(fs::path(dir) / "clone.db")) return;
    auto journal = db::CloneJournal::open(dir, true);
    if (!journal) return;
    auto parts = journal->parts();
    if (!parts || parts->empty()) return;
    int64_t done = 0, rows = 0, bytes = 0, total_bytes = 0;
    for (const auto& p : *parts) {
      total_bytes += p.estimated_bytes;
      if (p.state != db::PartState::kDone) continue;
      ++done;
      rows += p.rows;
      bytes += p.estimated_bytes;
    }
    event("clone_progress",
          fmt::format("step={} database={} parts_done={} parts={} rows={} percent={:.0f}",
                      index + 1, db.name, done, parts->size(), rows,
                      total_bytes > 0
                          ? 100.0 * static_cast<double>(bytes) / static_cast<double>(total_bytes)
                          : 0.0));
  };
  auto result = run_step_child(
      ferry_child(options_.ferry_binary, args, db, dir, "clone", ChildLifetime::kDiesWithParent),
      &stop, options_.poll_ms, progress);
  if (!result) return {false, result.error().to_string()};
  if (result->stopped) return {false, "stopped; the next attempt resumes the copy"};
  if (result->exit_status != 0) {
    return {false, fmt::format("ferry db clone failed (exit {}; log {}/clone.log): {}",
                               result->exit_status, dir, result->log_tail)};
  }
  auto doc = parse_yaml(result->out, dir + "/clone.out");
  int64_t tables = 0, rows = 0, bytes = 0;
  std::string seconds;
  if (doc) {
    seconds = doc->text_at("total_seconds");
    if (const YamlNode* list = doc->find("tables")) {
      tables = static_cast<int64_t>(list->size());
      for (size_t i = 0; i < list->size(); ++i) {
        if (const YamlNode* r = (*list)[i].find("rows")) rows += r->as_integer().value_or(0);
        if (const YamlNode* b = (*list)[i].find("bytes")) bytes += b->as_integer().value_or(0);
      }
    }
  }
  remember(key(index, "rows"), std::to_string(rows));
  return {true, fmt::format("{} tables, {} rows, {:.1f} MiB copied in {:.1f} s{}", tables, rows,
                            static_cast<double>(bytes) / kMiB, parse_double(seconds).value_or(0),
                            journal_exists ? " (resumed)" : "")};
}

std::string LiveStepRunner::ensure_follow(const PlanDatabase& db, bool reverse) {
  const std::string dir = database_dir(plan_, db);
  const std::string which = reverse ? "reverse follow" : "follow";
  auto status = db::read_follow_status(db::follow_status_path(dir, reverse));
  if (status && db::follow_is_alive(*status)) return "";
  if (status && status->state == db::FollowState::kSwitched) {
    return which + " ended at a switch";  // its job is done: not to be restarted
  }
  // One just started may not have written its status yet.
  const std::string started_key = dir + (reverse ? "#reverse" : "#forward");
  if (auto it = follow_started_.find(started_key);
      it != follow_started_.end() && seconds_since(it->second) < kFollowStartSeconds) {
    return "";
  }
  std::vector<std::string> args = {"db", "follow", "--dir", dir, "--slot", slot_name(plan_, db)};
  if (reverse) args.push_back("--reverse");
  auto child = ChildProcess::start(ferry_child(options_.ferry_binary, args, db, dir,
                                               reverse ? "follow-reverse" : "follow",
                                               ChildLifetime::kDetached));
  if (!child) return "could not start the " + which + ": " + child.error().to_string();
  follow_started_[started_key] = Clock::now();
  const std::string why =
      !status ? "none ran yet"
              : fmt::format(
                    "the last one {} (state {}{})",
                    db::follow_process_exists(*status) ? "stopped writing its status" : "is gone",
                    db::follow_state_name(status->state),
                    status->error.empty() ? "" : ", error: " + status->error);
  event(reverse ? "reverse_follow_started" : "follow_started",
        fmt::format("database={} dir={} why={}", db.name, dir, log_value(why)));
  return which + " started (" + why + ")";
}

StepOutcome LiveStepRunner::follow(size_t index, const PlanDatabase& db, StopCheck& stop) {
  const std::string dir = database_dir(plan_, db);
  if (switch_state(dir) == "switched") {
    return {true, "cut over already: the reverse stream carries changes now"};
  }
  (void)index;
  int restarts = 0;
  std::string last;
  while (true) {
    const std::string started = ensure_follow(db, false);
    if (!started.empty()) {
      if (started.rfind("could not", 0) == 0) return {false, started};
      if (++restarts > 3) return {false, "the follow keeps stopping: " + started};
    }
    auto status = db::read_follow_status(db::follow_status_path(dir, false));
    if (status && db::follow_is_alive(*status)) {
      if (!status->diverged_tables.empty()) {
        return {false,
                fmt::format("table {} has diverged: {}", status->diverged_tables[0].table,
                            db::diverged_table_fix(status->diverged_tables[0].table, dir, false))};
      }
      last = fmt::format("{}, lag {:.1f} s, {} transactions applied",
                         db::follow_state_name(status->state), status->lag_seconds,
                         status->transactions);
      if (status->state == db::FollowState::kFollowing && status->lag_seconds < kCaughtUpSeconds) {
        return {true, "following (pid " + std::to_string(status->pid) + "): " + last +
                          "; it keeps running until the cutover"};
      }
    }
    if (stop.stop_requested())
      return {false, "stopped while " + (last.empty() ? "starting" : last)};
    sleep_poll();
  }
}

StepOutcome LiveStepRunner::verify(size_t index, const PlanDatabase& db, StopCheck& stop) {
  const std::string dir = database_dir(plan_, db);
  const bool cut_over = switch_state(dir) == "switched";
  if (const std::string started = ensure_follow(db, cut_over); started.rfind("could not", 0) == 0) {
    return {false, started};
  }
  auto source = pg::parse_conninfo(db.source, "databases." + db.name + ".source");
  auto target = pg::parse_conninfo(db.target, "databases." + db.name + ".target");
  if (!source || !target) return {false, (!source ? source : target).error().to_string()};
  db::VerifyOptions base;
  base.source = *source;
  base.target = *target;
  base.jobs = db.jobs;
  base.sequences = false;  // set by the cutover, not streamed
  base.max_rows_reported = 1000;
  // The side that takes writes, and the slot its changes leave through.
  const pg::ConnInfo& writing = cut_over ? *target : *source;
  const std::string slot =
      cut_over ? db::reverse_slot_name(slot_name(plan_, db)) : slot_name(plan_, db);
  const auto t0 = Clock::now();
  std::vector<db::VerifyReport> rounds;
  SettleVerdict verdict;
  int64_t rows = 0;
  while (true) {
    db::VerifyOptions o = base;
    if (!rounds.empty()) {
      o.schema = o.settings = false;
      o.tables.assign(verdict.recheck.begin(), verdict.recheck.end());
      // Everything written before the comparison must have arrived first.
      auto conn = pg::Connection::open(writing, {"ferry run verify"});
      if (!conn) return {false, conn.error().to_string()};
      auto marker =
          conn->query("SELECT pg_logical_emit_message(false, 'ferry-verify', 'settle')::text");
      if (!marker) return {false, marker.error().to_string()};
      const std::string lsn(marker->at(0, 0));
      if (auto ok = conn->exec("SELECT txid_current()"); !ok) {
        return {false, ok.error().to_string()};
      }
      const auto waiting = Clock::now();
      auto last_check = waiting;
      while (true) {
        auto applied = conn->query(
            "SELECT confirmed_flush_lsn >= $1::pg_lsn FROM pg_replication_slots WHERE slot_name = "
            "$2",
            {lsn, slot});
        if (!applied) return {false, applied.error().to_string()};
        if (applied->size() == 0) return {false, "the replication slot " + slot + " is gone"};
        if (applied->bool_at(0, 0)) break;
        if (seconds_since(waiting) > kMarkerTimeoutSeconds) {
          return {false,
                  fmt::format("the {} did not apply the changes made up to {} within {} s, "
                              "so the rows that differed could not be compared again",
                              cut_over ? "reverse follow" : "follow", lsn, kMarkerTimeoutSeconds)};
        }
        // The slot is asked often (the marker is usually applied within
        // milliseconds); the journal and the follow's status file once a poll.
        if (seconds_since(last_check) * 1000 >= static_cast<double>(options_.poll_ms)) {
          last_check = Clock::now();
          if (stop.stop_requested()) return {false, "stopped while waiting for the follow"};
          ensure_follow(db, cut_over);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    auto report = db::run_verify(o);
    if (!report) return {false, report.error().to_string()};
    if (rounds.empty()) {
      for (const auto& t : report->tables) rows += t.source_rows;
    }
    rounds.push_back(std::move(*report));
    verdict = settle(rounds, static_cast<int>(rounds.size()) >= kMaxVerifyRounds);
    if (!verdict.real.empty() || verdict.settled) break;
    if (stop.stop_requested()) return {false, "stopped between comparisons"};
  }
  const std::string numbers = fmt::format(
      "{} tables, {} rows compared in {} round(s), {:.1f} s; {} row(s) in flight",
      rounds[0].tables.size(), rows, rounds.size(), seconds_since(t0), verdict.in_flight);
  event("verify_result", fmt::format("step={} database={} ok={} rounds={} tables={} rows={} "
                                     "in_flight={} tracking={} real={} unsettled={}",
                                     index + 1, db.name, verdict.ok ? "yes" : "no", rounds.size(),
                                     rounds[0].tables.size(), rows, verdict.in_flight,
                                     verdict.tracking, verdict.real.size(), verdict.unsettled));
  if (!verdict.real.empty()) {
    std::vector<std::string> shown(verdict.real.begin(),
                                   verdict.real.begin() + std::min<size_t>(verdict.real.size(), 5));
    return {false, fmt::format("{} difference(s): {}{}; {}", verdict.real.size(), join(shown, "; "),
                               verdict.real.size() > 5 ? "; ..." : "", numbers)};
  }
  if (verdict.unsettled > 0) {
    return {false,
            fmt::format("{} row(s) still differed after {} comparisons, too many to follow "
                        "one by one (only the first {} per table are listed): the source "
                        "writes faster than the follow applies, or they differ for real; "
                        "{}",
                        verdict.unsettled, kMaxVerifyRounds, base.max_rows_reported, numbers)};
  }
  if (verdict.tracking > 0) {
    return {true, fmt::format("every row equal but {} hot row(s), written faster than the "
                              "comparisons go, whose every comparison found the target taking "
                              "the source's newer values: {}",
                              verdict.tracking, numbers)};
  }
  return {true, "every row equal: " + numbers};
}

bool LiveStepRunner::database_switched(const PlanDatabase& db) const {
  return switch_state(database_dir(plan_, db)) == "switched";
}

StepOutcome LiveStepRunner::switch_database(size_t index, const PlanStep& step,
                                            const PlanDatabase& db, bool rollback) {
  const std::string dir = database_dir(plan_, db);
  const std::string verb = rollback ? "rollback" : "cutover";
  const std::string done_state = rollback ? "rolled back" : "switched";
  const std::string pid_key = key(index, verb + "_pid");
  // An engine that died while one ran: wait for it to reach its own end.
  if (const std::string pid_text = recall(pid_key); !pid_text.empty()) {
    const auto pid = static_cast<pid_t>(std::stol(pid_text));
    if (process_alive(pid)) {
      event("waiting", fmt::format("step={} for the {} started before a restart (pid {})",
                                   index + 1, verb, pid));
      while (process_alive(pid)) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    remember(pid_key, "");
  }
  if (recall(key(index, verb + "_started")) == "yes" && switch_state(dir) == done_state) {
    return {true, fmt::format("{} done already ({})", verb, db::cutover_state_path(dir))};
  }
  std::vector<std::string> args = {"db",       verb,  "--dir", dir, "--slot", slot_name(plan_, db),
                                   "--format", "json"};
  if (!rollback && step.reverse) args.push_back("--reverse");
  const std::string& then = rollback ? step.rollback_then : step.then;
  if (!then.empty()) args.insert(args.end(), {"--then", then});
  if (!rollback) {
    if (const std::string started = ensure_follow(db, false); !started.empty()) {
      event("follow_needed", "database=" + db.name + " " + log_value(started));
    }
  } else if (const std::string started = ensure_follow(db, true); !started.empty()) {
    event("follow_needed", "database=" + db.name + " " + log_value(started));
  }
  remember(key(index, verb + "_started"), "yes");
  auto child = ChildProcess::start(
      ferry_child(options_.ferry_binary, args, db, dir, verb, ChildLifetime::kOwnSession));
  if (!child) return {false, child.error().to_string()};
  remember(pid_key, std::to_string(child->pid()));
  const int status = child->wait();
  remember(pid_key, "");
  const std::string out = read_text_file((fs::path(dir) / (verb + ".out")).string()).value_or("");
  auto doc = parse_yaml(out, dir + "/" + verb + ".out");
  std::string unavailable, failure;
  if (doc) {
    unavailable = doc->text_at("write_unavailable_seconds");
    failure = doc->text_at("failure");
  }
  if (status != 0 || switch_state(dir) != done_state) {
    return {false,
            fmt::format("ferry db {} failed (exit {}; log {}/{}.log): {}", verb, status, dir, verb,
                        failure.empty() ? file_tail(dir + "/" + verb + ".log", 4) : failure)};
  }
  const double unavailable_s = parse_double(unavailable).value_or(-1);
  remember(key(index, verb + "_write_unavailable_s"), fmt::format("{:.3f}", unavailable_s));
  return {true, unavailable_s < 0
                    ? verb + " done"
                    : fmt::format("{} done: write-unavailable {:.2f} s", verb, unavailable_s)};
}

}  // namespace ferry::run
