#include "db/clone/part_copy.h"

#include <fmt/format.h>

#include "db/clone/clone_journal.h"
#include "pg/catalog.h"
#include "pg/connection.h"

namespace ferry::db {

namespace {

std::string format_clause(const pg::Table& table) {
  return table.binary_copy_ok() ? "(FORMAT binary)" : "(FORMAT text)";
}

// Rolls the target transaction back unless committed.
class TargetTransaction {
 public:
  explicit TargetTransaction(pg::Connection& c) : conn_(c) {}
  ~TargetTransaction() {
    if (open_) (void)conn_.exec("ROLLBACK");
  }
  Result<void> begin() {
    auto ok = conn_.exec("BEGIN");
    open_ = static_cast<bool>(ok);
    return ok;
  }
  Result<void> commit() {
    open_ = false;
    return conn_.exec("COMMIT");
  }

 private:
  pg::Connection& conn_;
  bool open_ = false;
};

}  // namespace

std::string copy_out_sql(const pg::Table& table, const PartRecord& part) {
  const std::string format = format_clause(table);
  if (part.whole_table())
    return fmt::format("COPY {} ({}) TO STDOUT {}", table.qualified(), table.copy_columns(),
                       format);
  return fmt::format("COPY (SELECT {} FROM ONLY {} WHERE {}) TO STDOUT {}", table.copy_columns(),
                     table.qualified(), pg::ctid_range(part.block_lo, part.block_hi), format);
}

std::string copy_in_sql(const pg::Table& table) {
  return fmt::format("COPY {} ({}) FROM STDIN {}", table.qualified(), table.copy_columns(),
                     format_clause(table));
}

Result<PartCopyResult> copy_part(
    pg::Connection& source, pg::Connection& target, const pg::Table& table, const PartRecord& part,
    CopyCounters& counters, const std::function<Result<void>(const std::string&)>& before_commit,
    const std::string& prelude) {
  TargetTransaction tx(target);
  if (auto ok = tx.begin(); !ok) return tl::unexpected(ok.error());
  if (!prelude.empty())
    if (auto ok = target.exec(prelude); !ok) return tl::unexpected(ok.error());
  auto xid = target.query("SELECT txid_current()");
  if (!xid) return tl::unexpected(xid.error());
  if (auto ok = target.start_copy_in(copy_in_sql(table)); !ok) return tl::unexpected(ok.error());
  if (auto ok = source.start_copy_out(copy_out_sql(table, part)); !ok) {
    target.abort_copy_in("source COPY failed");
    return tl::unexpected(ok.error());
  }
  PartCopyResult result;
  while (true) {
    auto chunk = source.read_copy();
    if (!chunk) {
      target.abort_copy_in("source COPY failed");
      return tl::unexpected(chunk.error());
    }
    if (chunk->size == 0) break;
    if (auto ok = target.write_copy(chunk->data.get(), chunk->size); !ok)
      return tl::unexpected(ok.error());
    result.bytes += static_cast<int64_t>(chunk->size);
    counters.bytes.fetch_add(static_cast<int64_t>(chunk->size), std::memory_order_relaxed);
    // The server sends one CopyData message per row, so chunks count rows
    // (the exact count comes from the target's COPY tag at the end); binary
    // COPY ends with a message of its own, the 16-bit -1 trailer.
    const bool trailer = chunk->size == 2 &&
                         static_cast<unsigned char>(chunk->data.get()[0]) == 0xFF &&
                         static_cast<unsigned char>(chunk->data.get()[1]) == 0xFF;
    if (!trailer) counters.rows.fetch_add(1, std::memory_order_relaxed);
  }
  auto rows = target.end_copy_in();
  if (!rows) return tl::unexpected(rows.error());
  result.rows = *rows;
  if (auto ok = before_commit(std::string(xid->at(0, 0))); !ok) return tl::unexpected(ok.error());
  if (auto ok = tx.commit(); !ok) return tl::unexpected(ok.error());
  return result;
}

}  // namespace ferry::db
