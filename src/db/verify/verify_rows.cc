#include "db/verify/verify_rows.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "core/measure.h"
#include "db/verify/row_checksums.h"
#include "pg/catalog.h"
#include "pg/connection.h"

namespace ferry::db {

namespace {

using Clock = std::chrono::steady_clock;

// Ranges narrowed to this many rows (on the larger side) are fetched whole.
constexpr int64_t kFetchRows = 256;
constexpr int64_t kSubBuckets = 16;
// Beyond this many differing leaf ranges or buckets, rows are no longer
// fetched: the counts come from the checksums and say so.
constexpr size_t kMaxFetches = 256;
constexpr int64_t kPagesPerSlice = 8192;  // 64 MB of heap per parallel scan

struct Pair {
  pg::Connection source, target;
};

// Runs one statement on both servers at once.
Result<std::pair<pg::Rows, pg::Rows>> both(Pair& p, const std::string& source_sql,
                                           const std::string& target_sql) {
  if (auto ok = p.source.send(source_sql); !ok) return tl::unexpected(ok.error());
  if (auto ok = p.target.send(target_sql); !ok) {
    (void)p.source.receive();
    return tl::unexpected(ok.error());
  }
  auto s = p.source.receive();
  auto t = p.target.receive();
  if (!s) return tl::unexpected(s.error());
  if (!t) return tl::unexpected(t.error());
  return std::make_pair(std::move(*s), std::move(*t));
}

Result<std::pair<pg::Rows, pg::Rows>> both(Pair& p, const std::string& sql) {
  return both(p, sql, sql);
}

struct TableJob {
  TableVerdict verdict;
  RowSql sql;
  std::vector<std::string> key_names;  // unquoted, for the report
  int64_t source_pages = 0, target_pages = 0;
  int slices = 1;
  int slices_left = 1;
  BucketMap source_buckets, target_buckets;
  Clock::time_point started;
  size_t fetches = 0;
  bool partial = false;
};

std::string key_display(const std::vector<std::string>& key_names, const std::string& key_text) {
  if (key_names.size() == 1) return key_names[0] + "=" + (key_text.empty() ? "''" : key_text);
  std::string names;
  for (const auto& k : key_names) names += (names.empty() ? "" : ", ") + k;
  return "(" + names + ")=" + key_text;
}

class RowVerifier {
 public:
  RowVerifier(const VerifyOptions& o) : o_(o) {}

  Result<std::vector<TableVerdict>> run(pg::Connection& source, pg::Connection& target) {
    if (auto ok = plan(source, target); !ok) return tl::unexpected(ok.error());
    const int workers = std::max(1, o_.jobs);
    std::vector<std::thread> threads;
    for (int i = 0; i < workers; ++i) threads.emplace_back([this] { work(); });
    for (auto& t : threads) t.join();
    if (error_) return tl::unexpected(*error_);
    std::vector<TableVerdict> out;
    for (auto& j : jobs_) out.push_back(std::move(j.verdict));
    for (auto& v : missing_) out.push_back(std::move(v));
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.table < b.table; });
    return out;
  }

 private:
  Result<void> plan(pg::Connection& source, pg::Connection& target) {
    auto s = pg::list_tables(source);
    if (!s) return tl::unexpected(s.error());
    auto t = pg::list_tables(target);
    if (!t) return tl::unexpected(t.error());
    std::map<std::string, const pg::Table*> on_target;
    for (const auto& table : *t) on_target[table.display()] = &table;
    std::map<std::string, bool> seen;
    for (const auto& st : *s) {
      if (!o_.selects(st.display())) continue;
      seen[st.display()] = true;
      auto it = on_target.find(st.display());
      if (it == on_target.end()) {
        TableVerdict v;
        v.table = st.display();
        v.problem = "missing on the target";
        missing_.push_back(std::move(v));
        continue;
      }
      auto job = plan_table(source, target, st, *it->second);
      if (!job) return tl::unexpected(job.error());
      jobs_.push_back(std::move(*job));
    }
    for (const auto& tt : *t) {
      if (!o_.selects(tt.display()) || seen.count(tt.display())) continue;
      TableVerdict v;
      v.table = tt.display();
      v.problem = "exists only on the target";
      missing_.push_back(std::move(v));
    }
    for (size_t i = 0; i < jobs_.size(); ++i) {
      for (int slice = 0; slice < jobs_[i].slices; ++slice) queue_.push_back({i, slice});
    }
    // Largest tables first, so the long scans start early.
    std::stable_sort(queue_.begin(), queue_.end(), [&](const Task& a, const Task& b) {
      return jobs_[a.table].source_pages / jobs_[a.table].slices >
             jobs_[b.table].source_pages / jobs_[b.table].slices;
    });
    return {};
  }

  Result<TableJob> plan_table(pg::Connection& source, pg::Connection& target, const pg::Table& st,
                              const pg::Table& tt) {
    TableJob job;
    job.verdict.table = st.display();
    job.sql.table = st.qualified();
    std::map<std::string, bool> target_columns;
    for (const auto& c : tt.columns) target_columns[c.name] = true;
    for (const auto& c : st.columns)
      if (target_columns.count(c.name)) job.sql.columns.push_back(pg::quote_ident(c.name));
    for (const auto& k : st.primary_key) job.sql.key.push_back(pg::quote_ident(k));
    job.key_names = st.primary_key;
    job.source_pages = st.pages;
    job.target_pages = tt.pages;
    const int64_t estimated_rows = std::max<int64_t>(
        {st.estimated_rows, tt.estimated_rows, std::max(st.pages, tt.pages) * 60, 1});
    const int64_t buckets = std::clamp<int64_t>(estimated_rows / o_.rows_per_bucket, 1, 1 << 16);
    int64_t mask = 1;
    while (mask < buckets) mask <<= 1;
    job.sql.mask = mask - 1;
    job.sql.scheme = job.sql.key.empty() ? BucketScheme::kRowHash : BucketScheme::kKeyHash;
    job.verdict.method = job.sql.key.empty() ? "row multiset" : "key hash buckets";
    if (st.primary_key.size() == 1) {
      const auto* key = &st.columns.front();
      for (const auto& c : st.columns)
        if (c.name == st.primary_key[0]) key = &c;
      if (key->type == "integer" || key->type == "bigint" || key->type == "smallint") {
        const std::string sql = fmt::format("SELECT min({0})::text, max({0})::text FROM ONLY {1}",
                                            job.sql.key[0], job.sql.table);
        auto r = both_plain(source, target, sql);
        if (!r) return tl::unexpected(r.error());
        auto& [s, t] = *r;
        std::optional<__int128> lo, hi;
        for (const auto* rows : {&s, &t}) {
          if (rows->is_null(0, 0)) continue;
          const __int128 a = rows->int_at(0, 0), b = rows->int_at(0, 1);
          lo = lo ? std::min(*lo, a) : a;
          hi = hi ? std::max(*hi, b) : b;
        }
        const __int128 span = lo ? *hi - *lo + 1 : 1;
        if (span < (__int128(1) << 62)) {
          job.sql.scheme = BucketScheme::kKeyRange;
          job.sql.low = lo ? static_cast<int64_t>(*lo) : 0;
          job.sql.width =
              std::max<int64_t>(1, static_cast<int64_t>((span + buckets - 1) / buckets));
          job.verdict.method = "key ranges";
        }
      }
    }
    job.slices = static_cast<int>(
        std::clamp<int64_t>(std::max(job.source_pages, job.target_pages) / kPagesPerSlice, 1, 64));
    if (job.slices == 1 && o_.jobs > 1 && std::max(job.source_pages, job.target_pages) > 2048)
      job.slices = o_.jobs;
    // Before PostgreSQL 14 a ctid range is no TID range scan: every slice
    // would read the whole table.
    if (source.server_version() < 140000 || target.server_version() < 140000) job.slices = 1;
    job.slices_left = job.slices;
    return job;
  }

  static Result<std::pair<pg::Rows, pg::Rows>> both_plain(pg::Connection& s, pg::Connection& t,
                                                          const std::string& sql) {
    auto a = s.query(sql);
    if (!a) return tl::unexpected(a.error());
    auto b = t.query(sql);
    if (!b) return tl::unexpected(b.error());
    return std::make_pair(std::move(*a), std::move(*b));
  }

  struct Task {
    size_t table;
    int slice;  // -1: the table's slices are in; compare and narrow down
  };

  void work() {
    auto s = pg::Connection::open(o_.source, {"ferry verify"});
    auto t = s ? pg::Connection::open(o_.target, {"ferry verify"})
               : Result<pg::Connection>(tl::unexpected(s.error()));
    if (!s || !t) return record(s ? t.error() : s.error());
    Pair pair{std::move(*s), std::move(*t)};
    while (auto task = next_task()) {
      auto ok = task->slice >= 0 ? scan_slice(pair, *task) : finish_table(pair, task->table);
      if (!ok) {
        record(std::move(ok.error()).with_context("verifying " + jobs_[task->table].verdict.table));
      }
      done_task();
    }
  }

  std::optional<Task> next_task() {
    std::unique_lock lock(mutex_);
    while (true) {
      if (error_) return std::nullopt;
      if (!queue_.empty()) {
        Task t = queue_.front();
        queue_.pop_front();
        ++running_;
        return t;
      }
      if (running_ == 0) return std::nullopt;
      wake_.wait(lock);
    }
  }

  void done_task() {
    std::lock_guard lock(mutex_);
    --running_;
    wake_.notify_all();
  }

  void record(Error e) {
    std::lock_guard lock(mutex_);
    if (!error_) error_ = std::move(e);
    wake_.notify_all();
  }

  static std::pair<int64_t, int64_t> slice_blocks(int64_t pages, int slice, int slices) {
    if (slices == 1) return {0, -1};
    const int64_t per = pages / slices;
    return {slice * per, slice + 1 == slices ? -1 : (slice + 1) * per};
  }

  Result<void> scan_slice(Pair& pair, const Task& task) {
    TableJob& job = jobs_[task.table];
    {
      std::lock_guard lock(mutex_);
      if (job.slices_left == job.slices) job.started = Clock::now();
    }
    const auto [slo, shi] = slice_blocks(job.source_pages, task.slice, job.slices);
    const auto [tlo, thi] = slice_blocks(job.target_pages, task.slice, job.slices);
    auto r = both(pair, job.sql.bucket_scan(slo, shi), job.sql.bucket_scan(tlo, thi));
    if (!r) return tl::unexpected(r.error());
    std::lock_guard lock(mutex_);
    add_bucket_rows(r->first, job.source_buckets);
    add_bucket_rows(r->second, job.target_buckets);
    if (--job.slices_left == 0) queue_.push_front({task.table, -1});
    return {};
  }

  Result<void> finish_table(Pair& pair, size_t index) {
    TableJob& job = jobs_[index];
    TableVerdict& v = job.verdict;
    std::vector<int64_t> differing;
    for (const auto& [bucket, sum] : job.source_buckets) {
      v.source_rows += sum.count;
      if (!(get(job.target_buckets, bucket) == sum)) differing.push_back(bucket);
    }
    for (const auto& [bucket, sum] : job.target_buckets) {
      v.target_rows += sum.count;
      if (!job.source_buckets.count(bucket)) differing.push_back(bucket);
    }
    std::sort(differing.begin(), differing.end());
    if (!differing.empty()) {
      auto ok = job.sql.scheme == BucketScheme::kKeyRange ? narrow_ranges(pair, job, differing)
                                                          : fetch_buckets(pair, job, differing);
      if (!ok) return ok;
    }
    if (job.partial)
      v.problem = fmt::format(
          "too many differences to list: rows were fetched for {} differing ranges only; the "
          "counts are lower bounds",
          kMaxFetches);
    v.seconds = seconds_since(job.started);
    job.source_buckets.clear();
    job.target_buckets.clear();
    return {};
  }

  static BucketSum get(const BucketMap& m, int64_t b) {
    auto it = m.find(b);
    return it == m.end() ? BucketSum{} : it->second;
  }

  // Integer keys: split each differing range into sub-ranges by index scans
  // until few rows are left, then fetch those rows from both sides.
  Result<void> narrow_ranges(Pair& pair, TableJob& job, const std::vector<int64_t>& buckets) {
    struct Range {
      int64_t from, to;
      BucketSum s, t;
    };
    std::vector<Range> work;
    for (auto b : buckets)
      work.push_back({job.sql.low + b * job.sql.width, job.sql.low + (b + 1) * job.sql.width,
                      get(job.source_buckets, b), get(job.target_buckets, b)});
    while (!work.empty()) {
      Range r = work.back();
      work.pop_back();
      if (std::max(r.s.count, r.t.count) <= kFetchRows || r.to - r.from <= kSubBuckets) {
        if (auto ok = fetch_range(pair, job, r.from, r.to, r.s, r.t); !ok) return ok;
        continue;
      }
      // Keys can be sparse (one outlier stretches the first pass's ranges):
      // cut at the keys actually present, not at the range's nominal ends.
      auto bounds = both(pair, job.sql.range_bounds(r.from, r.to));
      if (!bounds) return tl::unexpected(bounds.error());
      int64_t from = r.to, to = r.from;
      for (const auto* side : {&bounds->first, &bounds->second}) {
        if (side->is_null(0, 0)) continue;
        from = std::min(from, side->int_at(0, 0));
        to = std::max(to, side->int_at(0, 1) + 1);
      }
      r.from = from;
      r.to = to;
      const int64_t sub = (r.to - r.from + kSubBuckets - 1) / kSubBuckets;
      auto rows = both(pair, job.sql.range_scan(r.from, r.to, sub));
      if (!rows) return tl::unexpected(rows.error());
      BucketMap s, t;
      add_bucket_rows(rows->first, s);
      add_bucket_rows(rows->second, t);
      for (int64_t i = 0; i < kSubBuckets; ++i) {
        const BucketSum a = get(s, i), b = get(t, i);
        if (a == b) continue;
        work.push_back({r.from + i * sub, std::min(r.to, r.from + (i + 1) * sub), a, b});
      }
    }
    return {};
  }

  // Counts alone, for ranges past the fetch budget.
  void count_only(TableJob& job, const BucketSum& s, const BucketSum& t) {
    job.partial = true;
    auto& v = job.verdict;
    if (s.count > t.count)
      v.missing += s.count - t.count;
    else if (t.count > s.count)
      v.extra += t.count - s.count;
    else
      v.changed += 1;
  }

  Result<void> fetch_range(Pair& pair, TableJob& job, int64_t from, int64_t to, const BucketSum& s,
                           const BucketSum& t) {
    if (job.fetches >= kMaxFetches) {
      count_only(job, s, t);
      return {};
    }
    ++job.fetches;
    auto rows = both(pair, job.sql.range_rows(from, to));
    if (!rows) return tl::unexpected(rows.error());
    diff_keyed(job, rows->first, rows->second);
    return {};
  }

  Result<void> fetch_buckets(Pair& pair, TableJob& job, const std::vector<int64_t>& buckets) {
    std::vector<int64_t> fetched(
        buckets.begin(),
        buckets.begin() + static_cast<long>(std::min(buckets.size(), kMaxFetches)));
    for (size_t i = fetched.size(); i < buckets.size(); ++i)
      count_only(job, get(job.source_buckets, buckets[i]), get(job.target_buckets, buckets[i]));
    auto rows = both(pair, job.sql.bucket_rows(fetched));
    if (!rows) return tl::unexpected(rows.error());
    if (job.sql.scheme == BucketScheme::kRowHash)
      diff_multiset(job, rows->first, rows->second);
    else
      diff_keyed(job, rows->first, rows->second);
    return {};
  }

  void report(TableJob& job, RowDifference d) {
    if (job.verdict.differences.size() < o_.max_rows_reported)
      job.verdict.differences.push_back(std::move(d));
  }

  void diff_keyed(TableJob& job, const pg::Rows& s, const pg::Rows& t) {
    std::map<std::string_view, std::string_view> target_rows;
    for (int i = 0; i < t.size(); ++i) target_rows[t.at(i, 0)] = t.at(i, 1);
    const auto& key_names = job.key_names;
    auto& v = job.verdict;
    for (int i = 0; i < s.size(); ++i) {
      auto it = target_rows.find(s.at(i, 0));
      if (it == target_rows.end()) {
        ++v.missing;
        report(job, {RowDifference::Kind::kMissing, key_display(key_names, std::string(s.at(i, 0))),
                     std::string(s.at(i, 1)), "", 1, 0});
        continue;
      }
      if (it->second != s.at(i, 1)) {
        ++v.changed;
        report(job, {RowDifference::Kind::kChanged, key_display(key_names, std::string(s.at(i, 0))),
                     std::string(s.at(i, 1)), std::string(it->second), 1, 1});
      }
      target_rows.erase(it);
    }
    for (const auto& [key, row] : target_rows) {
      ++v.extra;
      report(job, {RowDifference::Kind::kExtra, key_display(key_names, std::string(key)), "",
                   std::string(row), 0, 1});
    }
  }

  void diff_multiset(TableJob& job, const pg::Rows& s, const pg::Rows& t) {
    std::map<std::string_view, std::pair<int64_t, int64_t>> counts;
    for (int i = 0; i < s.size(); ++i) counts[s.at(i, 0)].first = s.int_at(i, 1);
    for (int i = 0; i < t.size(); ++i) counts[t.at(i, 0)].second = t.int_at(i, 1);
    auto& v = job.verdict;
    for (const auto& [row, c] : counts) {
      if (c.first == c.second) continue;
      const bool missing = c.first > c.second;
      (missing ? v.missing : v.extra) += missing ? c.first - c.second : c.second - c.first;
      report(job, {missing ? RowDifference::Kind::kMissing : RowDifference::Kind::kExtra,
                   std::string(row), c.first ? std::string(row) : "",
                   c.second ? std::string(row) : "", c.first, c.second});
    }
  }

  const VerifyOptions& o_;
  std::vector<TableJob> jobs_;
  std::vector<TableVerdict> missing_;
  std::deque<Task> queue_;
  std::mutex mutex_;
  std::condition_variable wake_;
  int running_ = 0;
  std::optional<Error> error_;
};

}  // namespace

Result<std::vector<TableVerdict>> verify_rows(const VerifyOptions& options, pg::Connection& source,
                                              pg::Connection& target) {
  return RowVerifier(options).run(source, target);
}

}  // namespace ferry::db
