#include "run/live_verify.h"

#include <fmt/format.h>

#include <algorithm>

namespace ferry::run {

namespace {

const char* kind_name(db::RowDifference::Kind k) {
  switch (k) {
    case db::RowDifference::Kind::kMissing:
      return "missing on the target";
    case db::RowDifference::Kind::kExtra:
      return "extra on the target";
    case db::RowDifference::Kind::kChanged:
      return "changed";
  }
  return "";
}

// What the target holds of a row: unchanged across a catch-up, it did not
// take a value the source had before the marker.
std::string target_side(const db::RowDifference& d) {
  return fmt::format("{}\x1f{}\x1f{}", static_cast<int>(d.kind), d.target_row, d.target_count);
}

int64_t differing_rows(const db::TableVerdict& t) { return t.missing + t.extra + t.changed; }

std::string describe(const std::string& table, const db::RowDifference& d) {
  std::string out = fmt::format("{} {}: {}", table, d.key, kind_name(d.kind));
  if (d.kind == db::RowDifference::Kind::kChanged) {
    out += fmt::format(" (source {}, target {})", d.source_row, d.target_row);
  }
  return out;
}

}  // namespace

SettleVerdict settle(const std::vector<db::VerifyReport>& rounds, bool last_round) {
  SettleVerdict v;
  if (rounds.empty()) return v;
  const db::VerifyReport& first = rounds.front();
  for (const auto* list : {&first.schema, &first.settings}) {
    for (const auto& d : *list) {
      v.real.push_back(fmt::format("{} {}: source {}, target {}", d.kind, d.name,
                                   d.source.empty() ? "(none)" : d.source,
                                   d.target.empty() ? "(none)" : d.target));
    }
  }
  // The latest verdict of each table, and the one before it.
  std::map<std::string, const db::TableVerdict*> latest, before;
  for (const auto& round : rounds) {
    for (const auto& t : round.tables) {
      if (auto it = latest.find(t.table); it != latest.end()) before[t.table] = it->second;
      latest[t.table] = &t;
    }
  }
  for (const auto& [table, t] : latest) {
    if (!t->problem.empty()) {
      v.real.push_back(table + ": " + t->problem);
      continue;
    }
    const auto b = before.find(table);
    if (b == before.end()) {
      // The first comparison: what differs is judged by the next.
      if (!t->equal()) v.recheck.insert(table);
      continue;
    }
    std::map<std::string, const db::RowDifference*> earlier;
    for (const auto& d : b->second->differences) earlier[d.key] = &d;
    std::set<std::string> now;
    for (const auto& d : t->differences) now.insert(d.key);
    // Rows that differed and no longer do arrived: in flight.
    for (const auto& [k, d] : earlier) v.in_flight += now.count(k) ? 0 : 1;
    for (const auto& d : t->differences) {
      const auto e = earlier.find(d.key);
      if (e == earlier.end()) {
        // Equal (or on neither side) the last time: written since, in flight.
        ++v.in_flight;
      } else if (target_side(*e->second) == target_side(d)) {
        v.real.push_back(describe(table, d));
      } else {
        ++v.tracking;
      }
    }
    // Rows counted but not listed cannot be followed one by one: compared
    // again while rounds are left.
    const int64_t unlisted = differing_rows(*t) - static_cast<int64_t>(t->differences.size());
    if (unlisted > 0) {
      if (last_round) {
        v.unsettled += unlisted;
      } else {
        v.recheck.insert(table);
      }
    }
  }
  v.settled = v.recheck.empty();
  v.ok = v.real.empty() && v.unsettled == 0 && v.settled;
  return v;
}

}  // namespace ferry::run
