// verify's report: a table for people, JSON for scripts. Both name every
// difference; long rows are shortened in the text form only.
#include <fmt/format.h>

#include "core/json_writer.h"
#include "db/verify/verify.h"

namespace ferry::db {

namespace {

std::string shortened(const std::string& row, size_t max = 160) {
  if (row.size() <= max) return row;
  return row.substr(0, max) + fmt::format("... ({} bytes)", row.size());
}

const char* kind_name(RowDifference::Kind k) {
  switch (k) {
    case RowDifference::Kind::kMissing:
      return "missing";
    case RowDifference::Kind::kExtra:
      return "extra";
    case RowDifference::Kind::kChanged:
      return "changed";
  }
  return "changed";
}

std::string table_result(const TableVerdict& t) {
  if (t.equal()) return "equal";
  std::vector<std::string> parts;
  if (t.missing) parts.push_back(fmt::format("{} missing on target", t.missing));
  if (t.extra) parts.push_back(fmt::format("{} extra on target", t.extra));
  if (t.changed) parts.push_back(fmt::format("{} changed", t.changed));
  if (!t.problem.empty()) parts.push_back(t.problem);
  return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace

std::string render_verify_text(const VerifyReport& r) {
  std::string out;
  size_t width = 5;
  for (const auto& t : r.tables) width = std::max(width, t.table.size());
  width = std::min<size_t>(width, 60);
  int64_t rows = 0;
  size_t differing_tables = 0;
  if (!r.tables.empty())
    out += fmt::format("{:<{}}  {:<16}  {:>12}  {:>12}  {}\n", "table", width, "compared by",
                       "source rows", "target rows", "result");
  for (const auto& t : r.tables) {
    rows += t.source_rows;
    differing_tables += !t.equal();
    out += fmt::format("{:<{}}  {:<16}  {:>12}  {:>12}  {}\n", t.table, width, t.method,
                       t.source_rows, t.target_rows, table_result(t));
    for (const auto& d : t.differences) {
      out += fmt::format("    {} {}\n", kind_name(d.kind), shortened(d.key));
      if (d.kind == RowDifference::Kind::kChanged) {
        out += fmt::format("      source: {}\n      target: {}\n", shortened(d.source_row),
                           shortened(d.target_row));
      } else if (d.source_count + d.target_count > 1) {
        out += fmt::format("      {} on source, {} on target\n", d.source_count, d.target_count);
      } else {
        out += fmt::format(
            "      {}\n",
            shortened(d.kind == RowDifference::Kind::kMissing ? d.source_row : d.target_row));
      }
    }
    const int64_t listed = static_cast<int64_t>(t.differences.size());
    if (t.missing + t.extra + t.changed > listed && listed > 0)
      out += fmt::format("    ... {} more (raise --max-rows-reported to list them)\n",
                         t.missing + t.extra + t.changed - listed);
  }
  size_t behind = 0;
  for (const auto& s : r.sequences) {
    if (s.ok()) continue;
    ++behind;
    if (s.missing_on_target)
      out += fmt::format("sequence {}: missing on target\n", s.sequence);
    else
      out += fmt::format("sequence {}: target would hand out {}, source is at {} (behind by {})\n",
                         s.sequence, s.target_next, s.source_next, s.source_next - s.target_next);
  }
  for (const auto* list : {&r.schema, &r.settings}) {
    for (const auto& d : *list) {
      if (d.target.empty())
        out += fmt::format("{} {}: missing on target ({})\n", d.kind, d.name, shortened(d.source));
      else if (d.source.empty())
        out += fmt::format("{} {}: only on target ({})\n", d.kind, d.name, shortened(d.target));
      else
        out += fmt::format("{} {}: differs\n    source: {}\n    target: {}\n", d.kind, d.name,
                           shortened(d.source), shortened(d.target));
    }
  }
  out += fmt::format(
      "verify: {} tables ({} rows), {} sequences, schema and settings compared in {:.2f} s: {}\n",
      r.tables.size(), rows, r.sequences.size(), r.seconds,
      r.ok() ? "everything matches"
             : fmt::format("{} table(s) differ, {} sequence(s) behind, {} schema and {} setting "
                           "difference(s)",
                           differing_tables, behind, r.schema.size(), r.settings.size()));
  return out;
}

std::string render_verify_json(const VerifyReport& r) {
  JsonWriter w(3);
  w.begin_object();
  w.field("ok", r.ok());
  w.field("seconds", r.seconds);
  w.key("tables").begin_array();
  for (const auto& t : r.tables) {
    w.begin_object();
    w.field("table", t.table);
    w.field("equal", t.equal());
    w.field("method", t.method);
    w.field("source_rows", t.source_rows);
    w.field("target_rows", t.target_rows);
    w.field("missing", t.missing);
    w.field("extra", t.extra);
    w.field("changed", t.changed);
    w.field("problem", t.problem);
    w.field("seconds", t.seconds);
    w.key("differences").begin_array();
    for (const auto& d : t.differences) {
      w.begin_object();
      w.field("kind", kind_name(d.kind));
      w.field("key", d.key);
      w.field("source", d.source_row);
      w.field("target", d.target_row);
      w.field("source_count", d.source_count);
      w.field("target_count", d.target_count);
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.key("sequences").begin_array();
  for (const auto& s : r.sequences) {
    w.begin_object();
    w.field("sequence", s.sequence);
    w.field("ok", s.ok());
    w.field("missing_on_target", s.missing_on_target);
    w.field("source_next", s.source_next);
    w.field("target_next", s.target_next);
    w.end_object();
  }
  w.end_array();
  for (const auto& [name, list] : {std::pair{"schema", &r.schema}, {"settings", &r.settings}}) {
    w.key(name).begin_array();
    for (const auto& d : *list) {
      w.begin_object();
      w.field("kind", d.kind);
      w.field("name", d.name);
      w.field("source", d.source);
      w.field("target", d.target);
      w.end_object();
    }
    w.end_array();
  }
  w.end_object();
  return w.take();
}

}  // namespace ferry::db
