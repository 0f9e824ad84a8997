#include "db/clone/resync_request.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <thread>

#include "core/json_writer.h"
#include "core/log.h"
#include "core/text.h"
#include "db/follow/follow_status.h"
#include "db/publication.h"
#include "pg/catalog.h"
#include "pg/connection.h"

namespace ferry::db {

namespace {

// Every named table, found on both sides; all problems at once.
Result<std::vector<pg::Table>> resolve_tables(pg::Connection& source, pg::Connection& target,
                                              const std::vector<std::string>& names) {
  auto on_source = pg::list_tables(source);
  if (!on_source) return tl::unexpected(on_source.error());
  auto on_target = pg::list_tables(target);
  if (!on_target) return tl::unexpected(on_target.error());
  std::vector<pg::Table> found;
  std::vector<std::string> problems;
  for (const auto& raw : names) {
    const std::string name = raw.find('.') == std::string::npos ? "public." + raw : raw;
    auto it = std::find_if(on_source->begin(), on_source->end(),
                           [&](const pg::Table& t) { return t.display() == name; });
    if (it == on_source->end()) {
      problems.push_back(fmt::format("--tables {}: no such table on the source", raw));
      continue;
    }
    if (it->unlogged) {
      problems.push_back(
          fmt::format("--tables {}: unlogged, so no stream carries its changes "
                      "(ALTER TABLE ... SET LOGGED first)",
                      raw));
      continue;
    }
    if (std::none_of(on_target->begin(), on_target->end(),
                     [&](const pg::Table& t) { return t.display() == name; })) {
      problems.push_back(fmt::format("--tables {}: no such table on the target", raw));
      continue;
    }
    if (std::none_of(found.begin(), found.end(),
                     [&](const pg::Table& t) { return t.display() == name; }))
      found.push_back(*it);
  }
  if (!problems.empty()) return fail(ErrorCode::kInvalidInput, join(problems, "\n  "));
  return found;
}

// The forward follow must run: the copy happens inside it.
Result<FollowStatus> running_follow(const std::string& dir) {
  const std::string path = follow_status_path(dir, false);
  auto status = read_follow_status(path);
  if (!status || !follow_is_alive(*status))
    return fail(ErrorCode::kInvalidInput,
                fmt::format("ferry db follow is not running with --dir {}: a resync copies the "
                            "tables inside the running follow; start it first",
                            dir));
  return *status;
}

}  // namespace

Result<ResyncReport> run_resync_request(const ResyncRequestOptions& o,
                                        const std::atomic<bool>& stop) {
  if (o.tables.empty())
    return fail(ErrorCode::kInvalidInput, "--resync needs --tables (the tables to copy again)");
  auto follow = running_follow(o.dir);
  if (!follow) return tl::unexpected(follow.error());
  auto source = pg::Connection::open(o.source, {"ferry resync"});
  if (!source) return tl::unexpected(source.error());
  auto target = pg::Connection::open(o.target, {"ferry resync"});
  if (!target) return tl::unexpected(target.error());
  auto tables = resolve_tables(*source, *target, o.tables);
  if (!tables) return tl::unexpected(tables.error());
  // A new session takes the database's default: read-only during and after a cutover.
  auto read_only = source->query("SELECT current_setting('default_transaction_read_only')");
  if (!read_only) return tl::unexpected(read_only.error());
  if (read_only->at(0, 0) == "on")
    return fail(ErrorCode::kInvalidInput,
                "the source database is read-only: a cutover is in progress or done, and a "
                "resync copies from the source while it takes writes");

  // The move to the main publication happens inside follow, once it holds
  // the tables' changes: what is said here is what it will find.
  ResyncReport report;
  std::vector<std::string> names;
  auto insert_only = insert_only_tables(*source, o.publication);
  if (!insert_only) return tl::unexpected(insert_only.error());
  auto second = publication_exists(*source, insert_only_publication(o.publication));
  if (!second) return tl::unexpected(second.error());
  std::vector<std::string> problems;
  for (const auto& t : *tables) {
    names.push_back(t.display());
    const bool listed =
        std::find(insert_only->begin(), insert_only->end(), t.display()) != insert_only->end();
    if (t.has_replica_identity()) {
      if (listed) report.now_fully_carried.push_back(t.display());
    } else if (listed || *second) {
      report.still_insert_only.push_back(t.display());
    } else {
      // No publication could carry even its inserts: a copy would be stale at once.
      problems.push_back(
          fmt::format("--tables {}: no replica identity, and there is no {} to "
                      "carry its inserts: ALTER TABLE {} REPLICA IDENTITY FULL "
                      "on the source first",
                      t.display(), insert_only_publication(o.publication), t.qualified()));
    }
  }
  if (!problems.empty()) return fail(ErrorCode::kInvalidInput, join(problems, "\n  "));
  for (const auto& t : report.still_insert_only)
    log_warn(
        fmt::format("{} still has no replica identity: its inserts are carried, but the "
                    "next UPDATE or DELETE makes it diverge again (ALTER TABLE {} REPLICA "
                    "IDENTITY FULL on the source, then resync)",
                    t, t));

  auto journal = FollowJournal::open(o.dir);
  if (!journal) return tl::unexpected(journal.error());
  auto id = journal->request_resync(names);
  if (!id) return tl::unexpected(id.error());
  log_info(fmt::format("resync {} requested: {}; the running follow (pid {}) copies {} again", *id,
                       join(names, ", "), follow->pid, names.size() > 1 ? "them" : "it"));
  std::optional<ResyncState> last_state;
  const auto t0 = std::chrono::steady_clock::now();
  while (true) {
    auto record = journal->resync(*id);
    if (!record) return tl::unexpected(record.error());
    if (!*record)
      return fail(ErrorCode::kIo, fmt::format("resync {} vanished from the journal", *id));
    if ((*record)->state != last_state) {
      last_state = (*record)->state;
      log_info(fmt::format("resync {}: {}", *id, resync_state_name(*last_state)));
    }
    if (last_state == ResyncState::kDone || last_state == ResyncState::kFailed) {
      report.record = **record;
      return report;
    }
    if (stop)
      return fail(ErrorCode::kInvalidInput,
                  fmt::format("stopped waiting; follow goes on with resync {} (see ferry db "
                              "status --dir {})",
                              *id, o.dir));
    auto alive = running_follow(o.dir);
    if (!alive)
      return fail(
          ErrorCode::kDatabase,
          fmt::format(
              "ferry db follow stopped during resync {} after {:.0f} s; the "
              "request stays open and the next ferry db follow copies the tables "
              "again from the start",
              *id, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

std::string render_resync_text(const ResyncReport& r) {
  std::string out = fmt::format("resync {} {}: {} ({} rows in {:.1f} s)\n", r.record.id,
                                resync_state_name(r.record.state), join(r.record.tables, ", "),
                                r.record.rows, r.record.seconds);
  if (!r.record.detail.empty()) out += "  " + r.record.detail + "\n";
  if (!r.now_fully_carried.empty())
    out += "  every change is carried from now on for: " + join(r.now_fully_carried, ", ") + "\n";
  if (!r.still_insert_only.empty())
    out += "  still insert-only (no replica identity): " + join(r.still_insert_only, ", ") + "\n";
  return out;
}

std::string render_resync_json(const ResyncReport& r) {
  JsonWriter w(2);
  w.begin_object()
      .field("id", r.record.id)
      .field("state", resync_state_name(r.record.state))
      .field("tables", r.record.tables)
      .field("horizon", r.record.horizon)
      .field("rows", r.record.rows)
      .field("seconds", r.record.seconds)
      .field("detail", r.record.detail)
      .field("now_fully_carried", r.now_fully_carried)
      .field("still_insert_only", r.still_insert_only)
      .end_object();
  return w.take();
}

}  // namespace ferry::db
