// Builds a clone's indexes and key constraints, then ANALYZEs each table, on
// its own pool of target connections, table by table as soon as a table's data
// is in, while the copy workers go on with the others. The last big table's
// copy then overlaps everything else's index builds instead of waiting for
// them.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "db/clone/schema_steps.h"
#include "pg/conninfo.h"

namespace ferry::db {

struct IndexBuilderOptions {
  int jobs = 2;
  std::string maintenance_work_mem;  // "256MB"; empty: the server's
  bool analyze = true;
};

class IndexBuilder {
 public:
  IndexBuilder(const pg::ConnInfo& target, std::vector<IndexStatement> statements,
               const IndexBuilderOptions& options);
  ~IndexBuilder();
  IndexBuilder(const IndexBuilder&) = delete;
  IndexBuilder& operator=(const IndexBuilder&) = delete;

  // All of a table's data is on the target: build its indexes, then analyze
  // it. `display` is "schema.name" as in IndexStatement, `qualified` quoted.
  void table_copied(const std::string& display, const std::string& qualified);
  // Queues the copied tables not queued yet, waits for them, then builds the
  // statements of tables that hold no data themselves (partitioned parents),
  // and returns the first failure.
  Result<void> finish(const std::vector<std::pair<std::string, std::string>>& tables);
  // A build failed already (finish() will return why).
  bool failed();

 private:
  struct Task {
    std::string table;  // for messages
    std::vector<IndexStatement> indexes;
    std::string analyze;  // ANALYZE statement, or ""
  };
  void work();
  void enqueue(const std::string& display, const std::string& qualified);

  const pg::ConnInfo target_;
  const IndexBuilderOptions options_;
  std::map<std::string, std::vector<IndexStatement>> by_table_;
  std::set<std::string> queued_;
  std::deque<Task> queue_;
  std::mutex mutex_;
  std::condition_variable wake_;
  int running_ = 0;
  bool closing_ = false;
  std::optional<Error> error_;
  std::vector<std::thread> threads_;
};

}  // namespace ferry::db
