#include "db/follow/write_coalescer.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/json_writer.h"
#include "pg/connection.h"

namespace ferry::db {

namespace {

std::string literal(const pg::TupleValue& v) {
  return v.kind == pg::TupleValue::Kind::kNull ? std::string("NULL") : pg::quote_literal(v.text);
}

// The key's values as one string, to merge changes to the same row.
std::string key_text(const TargetRelation& rel, const pg::Tuple& t) {
  std::string k;
  for (size_t i = 0; i < t.size() && i < rel.key.size(); ++i)
    if (rel.key[i]) k += t[i].text + '\x1f';
  return k;
}

// Which columns an update sets (unchanged TOAST and key columns stay out).
std::string update_signature(const TargetRelation& rel, const Change& c) {
  std::string s;
  for (size_t i = 0; i < c.new_tuple.size() && i < rel.columns.size(); ++i)
    s.push_back(c.new_tuple[i].kind != pg::TupleValue::Kind::kUnchangedToast && !rel.key[i] ? '1'
                                                                                            : '0');
  return s;
}

constexpr uint32_t kJson = 114, kJsonb = 3802;
bool is_json(uint32_t type) { return type == kJson || type == kJsonb; }

// Values of built-in types (OIDs the same on every server) read back from a
// JSON string exactly; user-defined ones (composites, domains over json) may
// not, so their tables keep one statement per row.
bool builtin_types(const TargetRelation& rel) {
  return std::all_of(rel.types.begin(), rel.types.end(), [](uint32_t t) { return t < 16384; });
}

}  // namespace

void WriteCoalescer::add(const Change& c) {
  if (c.kind == Change::Kind::kTruncate) {
    // Spans tables: everything before it goes first.
    emit_all();
    single_(c);
    return;
  }
  const TargetRelation& rel = *c.relation;
  Run& run = runs_[rel.id];
  RunKind kind = RunKind::kNone;
  std::string signature;
  if (c.kind == Change::Kind::kInsert) {
    kind = RunKind::kInsert;
  } else if (!c.old_row && !(c.kind == Change::Kind::kUpdate && c.old_key) && !rel.keyless &&
             builtin_types(rel)) {
    kind = c.kind == Change::Kind::kUpdate ? RunKind::kUpdate : RunKind::kDelete;
    if (kind == RunKind::kUpdate) {
      signature = update_signature(rel, c);
      if (signature.find('1') == std::string::npos) return;  // sets nothing
    }
  }
  if (run.kind != kind || run.relation != &rel || run.signature != signature) emit(run);
  if (kind == RunKind::kNone) {
    single_(c);
    return;
  }
  run.kind = kind;
  run.relation = &rel;
  run.signature = signature;
  if (kind == RunKind::kInsert) {
    run.changes.push_back(&c);
    return;
  }
  const std::string key = key_text(rel, kind == RunKind::kDelete ? *c.old_key : c.new_tuple);
  auto [it, inserted] = run.by_key.try_emplace(key, run.changes.size());
  if (inserted)
    run.changes.push_back(&c);
  else
    run.changes[it->second] = &c;  // the row's last values win
}

void WriteCoalescer::finish() { emit_all(); }

void WriteCoalescer::emit_all() {
  for (auto& [id, run] : runs_) emit(run);
}

void WriteCoalescer::emit(Run& run) {
  if (run.kind == RunKind::kNone || run.changes.empty()) {
    run = Run{};
    return;
  }
  const TargetRelation& rel = *run.relation;
  if (run.changes.size() == 1) {
    single_(*run.changes.front());
    run = Run{};
    return;
  }
  const int64_t n = static_cast<int64_t>(run.changes.size());
  if (run.kind == RunKind::kInsert) {
    std::string columns, rows;
    for (size_t i = 0; i < rel.columns.size(); ++i) columns += (i ? ", " : "") + rel.columns[i];
    for (const Change* c : run.changes) {
      rows += rows.empty() ? "(" : ", (";
      for (size_t i = 0; i < c->new_tuple.size() && i < rel.columns.size(); ++i)
        rows += (i ? ", " : "") + literal(c->new_tuple[i]);
      rows += ")";
    }
    statement_(fmt::format("INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE VALUES {}", rel.qualified,
                           columns, rows),
               n);
    run = Run{};
    return;
  }
  // The key columns, then (for updates) the columns set, as rows of the
  // table's own type: json_populate_recordset reads each value with the
  // column type's input function, as COPY text would.
  std::vector<size_t> picked;
  for (size_t i = 0; i < rel.columns.size(); ++i)
    if (rel.key[i]) picked.push_back(i);
  const size_t keys = picked.size();
  if (run.kind == RunKind::kUpdate)
    for (size_t i = 0; i < run.signature.size(); ++i)
      if (run.signature[i] == '1') picked.push_back(i);
  std::string match, set;
  for (size_t j = 0; j < picked.size(); ++j) {
    const std::string& col = rel.columns[picked[j]];
    if (j < keys)
      match += (j ? " AND " : "") + fmt::format("x.{0} = v.{0}", col);
    else
      set += (set.empty() ? "" : ", ") + fmt::format("{0} = v.{0}", col);
  }
  JsonWriter rows(0);
  rows.begin_array();
  for (const Change* c : run.changes) {
    const pg::Tuple& t = run.kind == RunKind::kDelete ? *c->old_key : c->new_tuple;
    rows.begin_object();
    for (size_t i : picked) {
      rows.key(rel.names[i]);
      if (t[i].kind == pg::TupleValue::Kind::kNull)
        rows.null();
      else if (is_json(rel.types[i]))
        rows.raw(t[i].text);  // a json value is taken as JSON, not as a string
      else
        rows.value(t[i].text);
    }
    rows.end_object();
  }
  rows.end_array();
  const std::string source = fmt::format("json_populate_recordset(NULL::{}, {}) AS v",
                                         rel.qualified, pg::quote_literal(rows.take()));
  statement_(
      run.kind == RunKind::kUpdate
          ? fmt::format("UPDATE ONLY {} AS x SET {} FROM {} WHERE {}", rel.qualified, set, source,
                        match)
          : fmt::format("DELETE FROM ONLY {} AS x USING {} WHERE {}", rel.qualified, source, match),
      n);
  run = Run{};
}

}  // namespace ferry::db
