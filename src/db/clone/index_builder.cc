#include "db/clone/index_builder.h"

#include <fmt/format.h>

#include <chrono>

#include "core/log.h"
#include "core/measure.h"
#include "pg/connection.h"

namespace ferry::db {

IndexBuilder::IndexBuilder(const pg::ConnInfo& target, std::vector<IndexStatement> statements,
                           const IndexBuilderOptions& options)
    : target_(target), options_(options) {
  for (auto& s : statements) by_table_[s.table].push_back(std::move(s));
  for (int i = 0; i < std::max(1, options_.jobs); ++i) threads_.emplace_back([this] { work(); });
}

IndexBuilder::~IndexBuilder() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
    queue_.clear();
  }
  wake_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void IndexBuilder::enqueue(const std::string& display, const std::string& qualified) {
  if (!queued_.insert(display).second) return;
  Task task;
  task.table = display;
  if (auto it = by_table_.find(display); it != by_table_.end()) task.indexes = it->second;
  if (options_.analyze && !qualified.empty()) task.analyze = "ANALYZE " + qualified;
  if (task.indexes.empty() && task.analyze.empty()) return;
  queue_.push_back(std::move(task));
  wake_.notify_one();
}

void IndexBuilder::table_copied(const std::string& display, const std::string& qualified) {
  std::lock_guard lock(mutex_);
  enqueue(display, qualified);
}

Result<void> IndexBuilder::finish(const std::vector<std::pair<std::string, std::string>>& tables) {
  {
    std::unique_lock lock(mutex_);
    for (const auto& [display, qualified] : tables) enqueue(display, qualified);
    wake_.wait(lock, [this] { return error_ || (queue_.empty() && running_ == 0); });
    // Indexes of tables that hold no rows themselves (partitioned parents)
    // once no other build can contend for their partitions' locks.
    for (const auto& entry : by_table_) enqueue(entry.first, "");
    closing_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  if (error_) return tl::unexpected(*error_);
  return {};
}

bool IndexBuilder::failed() {
  std::lock_guard lock(mutex_);
  return error_.has_value();
}

void IndexBuilder::work() {
  auto conn = pg::Connection::open(target_, {"ferry clone indexes"});
  if (conn && !options_.maintenance_work_mem.empty())
    if (auto ok = conn->exec("SET maintenance_work_mem = " +
                             pg::quote_literal(options_.maintenance_work_mem));
        !ok)
      conn = tl::unexpected(ok.error());
  while (true) {
    Task task;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return closing_ || error_ || !queue_.empty(); });
      if (error_ || queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    Result<void> ok = conn ? Result<void>() : Result<void>(tl::unexpected(conn.error()));
    const auto t0 = std::chrono::steady_clock::now();
    for (const auto& index : task.indexes) {
      if (!ok) break;
      ok = with_context(conn->exec(index.sql), index.name);
    }
    if (ok && !task.analyze.empty()) ok = conn->exec(task.analyze);
    std::lock_guard lock(mutex_);
    --running_;
    if (!ok) {
      if (!error_)
        error_ = std::move(ok.error()).with_context("building the indexes of " + task.table);
      queue_.clear();
      wake_.notify_all();
      return;
    }
    wake_.notify_all();
    log_debug(fmt::format("indexes of {}: {} statement(s){} in {:.2f} s", task.table,
                          task.indexes.size(), task.analyze.empty() ? "" : " and ANALYZE",
                          seconds_since(t0)));
  }
}

}  // namespace ferry::db
