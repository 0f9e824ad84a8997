#include "db/clone/clone_parts.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

#include "pg/connection.h"

namespace ferry::db {

std::vector<PartRecord> plan_parts(const std::vector<pg::Table>& tables, int64_t split_bytes,
                                   int max_parts_per_table) {
  std::vector<PartRecord> parts;
  for (const auto& t : tables) {
    int count = 1;
    if (split_bytes > 0 && t.bytes > split_bytes && t.pages > 1)
      count = static_cast<int>(std::min<int64_t>(
          {(t.bytes + split_bytes - 1) / split_bytes, max_parts_per_table, t.pages}));
    const int64_t per_part = t.pages / count;
    for (int i = 0; i < count; ++i) {
      PartRecord p;
      p.schema = t.schema;
      p.name = t.name;
      p.part_no = i + 1;
      p.part_count = count;
      p.block_lo = i * per_part;
      // The last part is open-ended: nothing visible to the snapshot lies past
      // the table's end, and the table may have grown since it was measured.
      p.block_hi = i + 1 == count ? -1 : (i + 1) * per_part;
      p.estimated_bytes = t.bytes / count;
      parts.push_back(std::move(p));
    }
  }
  std::stable_sort(parts.begin(), parts.end(), [](const PartRecord& a, const PartRecord& b) {
    return a.estimated_bytes > b.estimated_bytes;
  });
  return parts;
}

int64_t automatic_split_bytes(const std::vector<pg::Table>& tables, int jobs) {
  int64_t total = 0;
  for (const auto& t : tables) total += t.bytes;
  return std::max<int64_t>(int64_t{1} << 30, total / std::max(1, jobs));
}

Result<bool> transaction_committed(pg::Connection& target, const std::string& xid) {
  for (int attempt = 0;; ++attempt) {
    auto status = target.query("SELECT txid_status($1::bigint)", {xid});
    if (!status) return tl::unexpected(status.error());
    if (status->is_null(0, 0))
      return fail(ErrorCode::kDatabase,
                  "the target no longer knows whether transaction " + xid +
                      " of the interrupted clone committed (too old); start the clone afresh");
    const auto state = status->at(0, 0);
    if (state != "in progress") return state == "committed";
    if (attempt == 300)
      return fail(ErrorCode::kDatabase,
                  "transaction " + xid +
                      " of the interrupted clone is still running on the "
                      "target after a minute; end its session (pg_terminate_backend) and resume");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

Result<std::vector<std::string>> reconcile_parts(CloneJournal& journal, pg::Connection& target,
                                                 const std::string& new_snapshot_lsn,
                                                 bool truncate_allowed) {
  auto parts = journal.parts();
  if (!parts) return tl::unexpected(parts.error());
  for (auto& p : *parts) {
    if (p.state != PartState::kCopying) continue;
    bool committed = false;
    if (!p.target_xid.empty()) {
      auto status = transaction_committed(target, p.target_xid);
      if (!status) return tl::unexpected(status.error());
      committed = *status;
    }
    auto ok = committed ? journal.part_done(p.id, -1, -1, 0) : journal.part_pending(p.id);
    if (!ok) return tl::unexpected(ok.error());
    p.state = committed ? PartState::kDone : PartState::kPending;
  }
  // Tables split over parts copied at another snapshot than the coming one.
  std::map<std::pair<std::string, std::string>, std::vector<PartRecord*>> by_table;
  for (auto& p : *parts) by_table[{p.schema, p.name}].push_back(&p);
  std::vector<std::string> reset;
  for (auto& [key, table_parts] : by_table) {
    const bool any_done = std::any_of(table_parts.begin(), table_parts.end(),
                                      [](auto* p) { return p->state == PartState::kDone; });
    const bool all_done = std::all_of(table_parts.begin(), table_parts.end(),
                                      [](auto* p) { return p->state == PartState::kDone; });
    const bool other_snapshot = std::any_of(table_parts.begin(), table_parts.end(), [&](auto* p) {
      return p->state == PartState::kDone && p->snapshot_lsn != new_snapshot_lsn;
    });
    if (!any_done || all_done || !other_snapshot) continue;
    const std::string name = pg::qualified_name(key.first, key.second);
    auto ok = target.exec(truncate_allowed ? "TRUNCATE ONLY " + name : "DELETE FROM ONLY " + name);
    if (!ok) return tl::unexpected(ok.error());
    for (auto* p : table_parts) {
      if (auto r = journal.part_pending(p->id); !r) return tl::unexpected(r.error());
    }
    reset.push_back(key.first + "." + key.second);
  }
  return reset;
}

}  // namespace ferry::db
