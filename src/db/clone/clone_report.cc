// The clone's final summary: per-table rows, bytes and seconds, the steps'
// times, and what was created on the source.
#include <fmt/format.h>

#include "core/json_writer.h"
#include "core/measure.h"
#include "db/clone/clone.h"

namespace ferry::db {

namespace {

std::string rows_text(int64_t rows) { return rows < 0 ? "?" : std::to_string(rows); }

}  // namespace

std::string render_clone_summary_text(const CloneSummary& s) {
  std::string out;
  size_t width = 5;
  for (const auto& t : s.tables) width = std::max(width, t.table.size());
  width = std::min<size_t>(width, 60);
  out += fmt::format("{:<{}}  {:>5}  {:>12}  {:>10}  {:>8}  {:>7}\n", "table", width, "parts",
                     "rows", "MB", "seconds", "format");
  int64_t rows = 0, bytes = 0;
  double seconds = 0;
  for (const auto& t : s.tables) {
    out += fmt::format("{:<{}}  {:>5}  {:>12}  {:>10.1f}  {:>8.2f}  {:>7}{}\n", t.table, width,
                       t.parts, rows_text(t.rows), static_cast<double>(t.bytes) / kMiB, t.seconds,
                       t.binary ? "binary" : "text", t.unlogged ? "  (unlogged)" : "");
    rows = rows < 0 || t.rows < 0 ? -1 : rows + t.rows;
    bytes += t.bytes;
    seconds += t.seconds;
  }
  out += fmt::format("{:<{}}  {:>5}  {:>12}  {:>10.1f}  {:>8.2f}\n", "total", width,
                     s.tables.size(), rows_text(rows), static_cast<double>(bytes) / kMiB, seconds);
  out += "\nsteps:";
  for (const auto& [name, secs] : s.steps) out += fmt::format(" {} {:.2f} s,", name, secs);
  out +=
      fmt::format(" total {:.2f} s{}\n", s.total_seconds, s.resumed ? " (this run, resumed)" : "");
  out += fmt::format("sequences set: {}, large objects: {}, materialized views refreshed: {}\n",
                     s.sequences, s.large_objects, s.materialized_views);
  if (!s.foreign_keys_not_valid.empty())
    out += fmt::format(
        "foreign keys left NOT VALID (their tables were copied at different instants); run once "
        "`ferry db follow` has caught up:\n  {};\n",
        fmt::join(s.foreign_keys_not_valid, ";\n  "));
  if (!s.toast_compression.empty())
    out += fmt::format(
        "large values (TOAST) written with {} compression on the target{}\n", s.toast_compression,
        s.toast_compression == "lz4" ? " (--toast-compression server keeps the target's default)"
                                     : "");
  if (!s.replica_identity_set.empty())
    out += fmt::format("REPLICA IDENTITY FULL set on the source (--replica-identity-full): {}\n",
                       fmt::join(s.replica_identity_set, ", "));
  if (!s.slot_name.empty()) {
    out += fmt::format(
        "created on the source: publication '{}' and replication slot '{}' starting at {}; "
        "`ferry db follow` streams from there. The slot keeps WAL on the source until it is "
        "consumed or dropped (SELECT pg_drop_replication_slot('{}')).\n",
        s.publication, s.slot_name, s.snapshot_lsn, s.slot_name);
    if (!s.insert_only_tables.empty())
      out += fmt::format(
          "insert-only (no primary key or replica identity; follow carries their inserts and "
          "TRUNCATEs, and reports an UPDATE or DELETE as a divergence): {}\n",
          fmt::join(s.insert_only_tables, ", "));
  } else {
    out += fmt::format("one-shot copy at {} (--no-slot): nothing was created on the source\n",
                       s.snapshot_lsn);
  }
  return out;
}

std::string render_clone_summary_json(const CloneSummary& s) {
  JsonWriter w(2);
  w.begin_object();
  w.field("snapshot_lsn", s.snapshot_lsn);
  w.field("slot", s.slot_name);
  w.field("publication", s.publication);
  w.field("insert_only_tables", s.insert_only_tables);
  w.field("replica_identity_set", s.replica_identity_set);
  w.field("resumed", s.resumed);
  w.field("total_seconds", s.total_seconds);
  w.field("sequences", s.sequences);
  w.field("large_objects", s.large_objects);
  w.field("materialized_views", s.materialized_views);
  w.field("toast_compression", s.toast_compression);
  w.field("foreign_keys_not_valid", s.foreign_keys_not_valid);
  w.key("steps").begin_object();
  for (const auto& [name, secs] : s.steps) w.field(name, secs);
  w.end_object();
  w.key("tables").begin_array();
  for (const auto& t : s.tables) {
    w.begin_object();
    w.field("table", t.table);
    w.field("parts", t.parts);
    w.key("rows");
    if (t.rows < 0)
      w.null();
    else
      w.value(t.rows);
    w.field("bytes", t.bytes);
    w.field("seconds", t.seconds);
    w.field("format", t.binary ? "binary" : "text");
    w.field("unlogged", t.unlogged);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.take();
}

}  // namespace ferry::db
