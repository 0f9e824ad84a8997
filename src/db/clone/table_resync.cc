#include "db/clone/table_resync.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "core/log.h"
#include "core/measure.h"
#include "core/text.h"
#include "db/clone/clone_journal.h"
#include "db/clone/part_copy.h"
#include "db/publication.h"
#include "pg/connection.h"
#include "pg/snapshot.h"

namespace ferry::db {

namespace {

size_t change_bytes(const Change& c) {
  size_t n = 64;
  for (const auto* t :
       {&c.new_tuple, c.old_key ? &*c.old_key : nullptr, c.old_row ? &*c.old_row : nullptr})
    if (t)
      for (const auto& v : *t) n += v.text.size() + sizeof(v);
  return n;
}

// As follow's apply: the source already ran triggers and key checks, and the
// target may default to read-only after a rollback.
constexpr const char* kTargetSession =
    "SET session_replication_role = replica; SET default_transaction_read_only = off";

}  // namespace

size_t held_bytes_bound(size_t max_transaction_bytes) {
  return std::max<size_t>(256u << 20, 4 * max_transaction_bytes);
}

TableResync::TableResync(TableResyncOptions options, ResyncRecord request)
    : o_(std::move(options)), request_(std::move(request)) {
  tables_.insert(request_.tables.begin(), request_.tables.end());
}

TableResync::~TableResync() {
  if (!thread_.joinable()) return;
  if (!finished_) {
    // Stopping before the copy is done: its sessions end (the snapshot's
    // too, which may be waiting for the source's running transactions), the
    // request stays open, and the next follow copies again.
    if (auto ctl = pg::Connection::open(o_.source, {"ferry follow"}))
      (void)ctl->query(
          "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = "
          "$1 AND active_pid IS NOT NULL",
          {snapshot_slot()});
    for (auto [info, pid] :
         {std::pair{&o_.source, source_pid_.load()}, std::pair{&o_.target, target_pid_.load()}}) {
      if (pid == 0) continue;
      auto ctl = pg::Connection::open(*info, {"ferry follow"});
      if (ctl) (void)ctl->query("SELECT pg_terminate_backend($1::int)", {std::to_string(pid)});
    }
  }
  thread_.join();
}

void TableResync::hold(pg::Lsn final_lsn, Change&& c) {
  const size_t bytes = change_bytes(c);
  if (held_bytes_ + bytes > o_.max_held_bytes) {
    // Dropped, not applied: the copy holds the table's lock; the table is
    // reported diverged once the copy ends.
    ++dropped_;
    return;
  }
  held_bytes_ += bytes;
  held_.emplace_back(final_lsn, std::move(c));
}

void TableResync::divert(SourceTransaction& t) {
  std::vector<Change> kept;
  kept.reserve(t.changes.size());
  for (auto& c : t.changes)
    if (!divert(c, t.begin.final_lsn)) kept.push_back(std::move(c));
  t.changes = std::move(kept);
}

bool TableResync::divert(Change& c, pg::Lsn final_lsn) {
  if (c.kind != Change::Kind::kTruncate) {
    if (!holds(c.relation->display)) return false;
    hold(final_lsn, std::move(c));
    return true;
  }
  // A TRUNCATE of several tables: the held ones wait, the others go on. The
  // held part lists every table it empties (the source's message names the
  // cascaded ones too), so it must not cascade into tables applied since.
  Change held = c;
  held.truncated.clear();
  held.cascade = false;
  std::vector<std::shared_ptr<const TargetRelation>> rest;
  for (auto& rel : c.truncated) (holds(rel->display) ? held.truncated : rest).push_back(rel);
  if (held.truncated.empty()) return false;
  const bool split = !rest.empty();
  held.partial = held.partial || split;
  hold(final_lsn, std::move(held));
  c.truncated = std::move(rest);
  if (split) {
    // Nor may the part applied now cascade into the tables being copied.
    c.cascade = false;
    c.partial = true;
  }
  return c.truncated.empty();
}

std::string TableResync::snapshot_slot() const {
  return fmt::format("{}_resync_{}", o_.slot, getpid());
}

void TableResync::start() {
  thread_ = std::thread([this] { copy(); });
}

void TableResync::copy() {
  const auto t0 = std::chrono::steady_clock::now();
  if (auto ok = copy_tables(); !ok) {
    outcome_.error = std::move(ok.error()).with_context("resync of " + join(request_.tables, ", "));
    tables_left_diverged();
  }
  outcome_.seconds = seconds_since(t0);
  finished_ = true;
}

// After a failed copy: the tables not copied whose held changes cannot simply
// be applied to what the target has. The others were left as they were.
void TableResync::tables_left_diverged() {
  for (const auto& t : tables_) {
    if (outcome_.copied_at.count(t)) continue;
    if (uncertain_.count(t)) {
      outcome_.diverged[t] = "the resync could not learn whether its copy committed";
    } else if (added_inserts_only_.count(t)) {
      outcome_.diverged[t] = "no publication carried it before this resync, whose copy failed";
    } else if (request_.state == ResyncState::kCopying) {
      // An earlier attempt copied it, then follow stopped before applying
      // what it held: the target misses those changes.
      outcome_.diverged[t] = "a resync was cut short by a restart and the next attempt failed";
    }
  }
  std::optional<Result<pg::Connection>> ctl;  // opened for the first table to move back
  for (const auto& t : moved_to_main_) {
    if (outcome_.copied_at.count(t.display())) continue;
    // Its updates and deletes would apply to rows the target never got.
    if (!ctl) ctl = pg::Connection::open(o_.source, {"ferry follow"});
    auto back = *ctl ? publish_inserts_only_of(**ctl, o_.publication, t)
                     : Result<void>(tl::unexpected(ctl->error()));
    outcome_.diverged[t.display()] =
        back ? "the resync's copy failed after its updates and deletes began to be published; "
               "it is published for its inserts only again"
             : "the resync's copy failed after its updates and deletes began to be published, "
               "and moving it back failed: " +
                   back.error().to_string();
  }
}

Result<void> TableResync::place_in_publications(pg::Connection& source, pg::Connection& target) {
  auto current = pg::list_tables(source);
  if (!current) return tl::unexpected(current.error());
  for (const auto& t : *current) {
    if (!tables_.count(t.display())) continue;
    auto placed = db::place_in_publications(source, o_.publication, t);
    if (!placed) return tl::unexpected(placed.error());
    if (!*placed) continue;
    if (!t.has_replica_identity()) {
      added_inserts_only_.insert(t.display());
      log_info(
          fmt::format("resync: {} was in no publication; its inserts are carried from the "
                      "new copy on (publication {})",
                      t.display(), insert_only_publication(o_.publication)));
      continue;
    }
    moved_to_main_.push_back(t);
    outcome_.now_fully_carried.push_back(t.display());
    log_info(
        fmt::format("resync: {} has replica identity now: its updates and deletes are "
                    "carried from the new copy on (publication {})",
                    t.display(), o_.publication));
    // The reverse stream after a cutover needs the same identity on the target.
    if (t.replica_identity == 'f')
      if (auto ok = target.exec("ALTER TABLE " + t.qualified() + " REPLICA IDENTITY FULL"); !ok)
        return tl::unexpected(std::move(ok.error()).with_context("on the target"));
  }
  return {};
}

Result<void> TableResync::copy_tables() {
  auto ctl = pg::Connection::open(o_.source, {"ferry follow"});
  if (!ctl) return tl::unexpected(ctl.error());
  auto target = pg::Connection::open(o_.target, {"ferry follow"});
  if (!target) return tl::unexpected(target.error());
  auto target_pid = target->query(std::string(kTargetSession) + "; SELECT pg_backend_pid()");
  if (!target_pid) return tl::unexpected(target_pid.error());
  target_pid_ = target_pid->int_at(0, 0);
  // Before the snapshot, while follow holds the tables' changes.
  if (auto ok = place_in_publications(*ctl, *target); !ok) return ok;
  // The counters before the snapshot: an update after it shows as more.
  for (const auto& table : tables_) {
    auto n = ctl->query(
        "SELECT coalesce(n_tup_upd + n_tup_del, 0) FROM pg_stat_user_tables WHERE "
        "schemaname || '.' || relname = $1",
        {table});
    if (!n) return tl::unexpected(n.error());
    outcome_.counters[table] = n->size() > 0 ? n->int_at(0, 0) : 0;
  }
  auto snapshot =
      with_context(pg::ExportedSnapshot::with_slot(o_.source, snapshot_slot(), /*temporary=*/true),
                   "taking a new snapshot on the source");
  if (!snapshot) return tl::unexpected(snapshot.error());
  auto source = pg::Connection::open(o_.source, {"ferry follow"});
  if (!source) return tl::unexpected(source.error());
  if (auto ok = pg::import_snapshot(*source, snapshot->name()); !ok) return ok;
  auto source_pid = source->query("SELECT pg_backend_pid()");
  if (!source_pid) return tl::unexpected(source_pid.error());
  source_pid_ = source_pid->int_at(0, 0);
  auto listed = pg::list_tables(*source);
  if (!listed) return tl::unexpected(listed.error());
  for (const auto& name : tables_) {
    const auto it = std::find_if(listed->begin(), listed->end(),
                                 [&](const pg::Table& t) { return t.display() == name; });
    if (it == listed->end())
      return fail(ErrorCode::kInvalidInput, "table " + name + " is not on the source");
    // TRUNCATE is refused on a table other tables reference, whatever the
    // session's role; DELETE (with their checks off) is not.
    auto referenced = target->query(
        "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE contype = 'f' AND confrelid = "
        "$1::regclass)",
        {it->qualified()});
    if (!referenced) return tl::unexpected(referenced.error());
    const std::string empty_it =
        (referenced->bool_at(0, 0) ? "DELETE FROM ONLY " : "TRUNCATE ONLY ") + it->qualified();
    PartRecord whole;
    whole.schema = it->schema;
    whole.name = it->name;
    CopyCounters counters;
    std::string xid;
    auto copied = copy_part(
        *source, *target, *it, whole, counters,
        [&](const std::string& id) -> Result<void> {
          xid = id;
          return {};
        },
        empty_it);
    if (!copied) {
      // A lost connection at COMMIT leaves the outcome open: the target knows.
      if (!xid.empty()) {
        auto again = pg::Connection::open(o_.target, {"ferry follow"});
        auto status = again ? again->query("SELECT txid_status($1::bigint)", {xid})
                            : Result<pg::Rows>(tl::unexpected(again.error()));
        // Only "aborted" means the target is as it was; "in progress" (a
        // commit still under way) or no answer leaves it open.
        if (status && status->size() > 0 && status->at(0, 0) == "committed")
          outcome_.copied_at[name] = snapshot->lsn();
        else if (!status || status->size() == 0 || status->at(0, 0) != "aborted")
          uncertain_.insert(name);
      }
      return tl::unexpected(std::move(copied.error()).with_context("copying " + name + " again"));
    }
    outcome_.copied_at[name] = snapshot->lsn();
    outcome_.rows += copied->rows;
    log_info(fmt::format("resync: {} copied again at {} ({} rows)", name, snapshot->lsn(),
                         copied->rows));
  }
  return {};
}

std::vector<Change> held_changes_to_apply(std::vector<HeldChange> held,
                                          const std::map<std::string, std::string>& copied_at,
                                          const std::map<std::string, std::string>& diverged) {
  std::vector<Change> out;
  for (auto& [final_lsn, c] : held) {
    // Captured by name: clang refuses a structured binding in a lambda's capture.
    auto needed = [&, lsn = final_lsn](const TargetRelation& rel) {
      if (diverged.count(rel.display)) return false;
      auto it = copied_at.find(rel.display);
      if (it == copied_at.end()) return true;
      // Committed before the snapshot: the copy has it.
      return lsn >= pg::parse_lsn(it->second).value_or(0);
    };
    if (c.kind != Change::Kind::kTruncate) {
      if (needed(*c.relation)) out.push_back(std::move(c));
      continue;
    }
    std::vector<std::shared_ptr<const TargetRelation>> kept;
    for (auto& rel : c.truncated)
      if (needed(*rel)) kept.push_back(rel);
    if (kept.empty()) continue;
    if (kept.size() < c.truncated.size()) c.partial = true;
    c.truncated = std::move(kept);
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<Change> TableResync::changes_to_apply() {
  std::vector<HeldChange> held = std::move(held_);
  held_.clear();
  held_bytes_ = 0;
  if (dropped_ > 0) return {};  // the tables are diverged either way
  return held_changes_to_apply(std::move(held), outcome_.copied_at, outcome_.diverged);
}

}  // namespace ferry::db
