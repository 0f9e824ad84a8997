#include "db/follow/follow_status.h"

#include <errno.h>
#include <fmt/format.h>
#include <signal.h>

#include <chrono>
#include <ctime>
#include <filesystem>

#include "core/files.h"
#include "core/json_writer.h"
#include "core/metrics_endpoint.h"
#include "core/text.h"
#include "core/yaml.h"

namespace ferry::db {

namespace {

constexpr std::pair<FollowState, const char*> kStateNames[] = {
    {FollowState::kStarting, "starting"},   {FollowState::kCatchingUp, "catching-up"},
    {FollowState::kFollowing, "following"}, {FollowState::kReconnecting, "reconnecting"},
    {FollowState::kStopped, "stopped"},     {FollowState::kSwitched, "switched"},
    {FollowState::kFailed, "failed"},
};

}  // namespace

const char* follow_state_name(FollowState state) {
  for (const auto& [s, name] : kStateNames)
    if (s == state) return name;
  return "failed";
}

std::optional<FollowState> parse_follow_state(std::string_view name) {
  for (const auto& [s, n] : kStateNames)
    if (name == n) return s;
  return std::nullopt;
}

bool is_streaming(FollowState state) {
  return state == FollowState::kCatchingUp || state == FollowState::kFollowing;
}

bool has_ended(FollowState state) {
  return state == FollowState::kStopped || state == FollowState::kSwitched ||
         state == FollowState::kFailed;
}

std::string follow_status_path(const std::string& dir, bool reverse) {
  return (std::filesystem::path(dir) /
          (reverse ? "follow-reverse-status.json" : "follow-status.json"))
      .string();
}

std::string render_follow_status_json(const FollowStatus& s) {
  JsonWriter w;
  w.begin_object()
      .field("state", follow_state_name(s.state))
      .field("running", s.running)
      .field("direction", s.direction)
      .field("pid", s.pid)
      .field("slot", s.slot)
      .field("publication", s.publication)
      .field("source", s.source)
      .field("target", s.target)
      .field("apply_jobs", s.apply_jobs)
      .field("metrics_url", s.metrics_url)
      .field("started_at", s.started_at)
      .field("updated_at", s.updated_at)
      .field("updated_unix", s.updated_unix)
      .field("applied_lsn", s.applied_lsn)
      .field("confirmed_lsn", s.confirmed_lsn)
      .field("source_wal_lsn", s.source_wal_lsn)
      .field("lag_bytes", s.lag_bytes)
      .field("lag_seconds", s.lag_seconds)
      .field("lag_p99_ms", s.lag_p99_ms)
      .field("transactions", s.transactions)
      .field("rows", s.rows)
      .field("transactions_per_second", s.transactions_per_second)
      .field("rows_per_second", s.rows_per_second)
      .field("conflicts", s.conflicts)
      .field("skipped", s.skipped)
      .field("queued", s.queued)
      .field("reconnects", s.reconnects)
      .field("insert_only_tables", s.insert_only_tables)
      .field("resync", s.resync);
  w.key("diverged_tables").begin_array();
  for (const auto& d : s.diverged_tables)
    w.begin_object()
        .field("table", d.table)
        .field("detected_at", d.detected_at)
        .field("detail", d.detail)
        .end_object();
  w.end_array().field("warnings", s.warnings).field("error", s.error).end_object();
  return w.take();
}

std::string render_follow_status_text(const FollowStatus& s) {
  std::string out = fmt::format(
      "follow ({}) {}{}: {} -> {}, slot {}\n"
      "  lag            {} bytes, {:.1f} s (p99 last minute {:.0f} ms)\n"
      "  applied        {} (slot confirmed {}, source WAL {})\n"
      "  applied so far {} transactions, {} rows; now {:.0f} tx/s, {:.0f} rows/s\n"
      "  apply jobs     {} ({} conflicts retried in order, {} queued)\n"
      "  updated        {} (pid {}, started {}, {} reconnects)\n",
      s.direction, follow_state_name(s.state), s.running ? "" : " (not running)", s.source,
      s.target, s.slot, s.lag_bytes, s.lag_seconds, s.lag_p99_ms, s.applied_lsn, s.confirmed_lsn,
      s.source_wal_lsn, s.transactions, s.rows, s.transactions_per_second, s.rows_per_second,
      s.apply_jobs, s.conflicts, s.queued, s.updated_at, s.pid, s.started_at, s.reconnects);
  if (!s.insert_only_tables.empty())
    out += fmt::format("  insert-only    {} (no replica identity: inserts and TRUNCATE carried)\n",
                       join(s.insert_only_tables, ", "));
  if (!s.resync.empty()) out += "  resync         " + s.resync + "\n";
  for (const auto& d : s.diverged_tables)
    out += fmt::format("  DIVERGED       {} since {}: {}\n", d.table, d.detected_at, d.detail);
  for (const auto& w : s.warnings) out += "  warning: " + w + "\n";
  if (!s.error.empty()) out += "  error: " + s.error + "\n";
  return out;
}

std::string render_follow_status_prometheus(const FollowStatus& s) {
  const std::string labels =
      fmt::format("{{direction=\"{}\",slot=\"{}\"}}", s.direction, prometheus_label(s.slot));
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help, double value) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n{0}{3} {4}\n", name, help, type, labels,
                       value);
  };
  metric("ferry_follow_lag_bytes", "gauge", "WAL bytes the target is behind the source",
         static_cast<double>(s.lag_bytes));
  metric("ferry_follow_lag_seconds", "gauge", "Seconds the target is behind the source",
         s.lag_seconds);
  metric("ferry_follow_lag_p99_seconds", "gauge",
         "99th percentile of commit-to-apply delay over the last minute", s.lag_p99_ms / 1000.0);
  metric("ferry_follow_transactions_total", "counter", "Source transactions applied",
         static_cast<double>(s.transactions));
  metric("ferry_follow_rows_total", "counter", "Rows applied", static_cast<double>(s.rows));
  metric("ferry_follow_conflicts_total", "counter",
         "Transactions re-applied in order after a conflict between workers",
         static_cast<double>(s.conflicts));
  metric("ferry_follow_queued_transactions", "gauge", "Transactions received, not yet applied",
         static_cast<double>(s.queued));
  metric("ferry_follow_reconnects_total", "counter", "Reconnections after a lost connection",
         static_cast<double>(s.reconnects));
  metric("ferry_follow_up", "gauge", "1 while following, 0 otherwise",
         is_streaming(s.state) ? 1 : 0);
  metric("ferry_follow_insert_only_tables", "gauge",
         "Tables only inserts and TRUNCATEs are carried for (no replica identity)",
         static_cast<double>(s.insert_only_tables.size()));
  metric("ferry_follow_diverged_tables", "gauge",
         "Tables an UPDATE or DELETE on the source made different from the target",
         static_cast<double>(s.diverged_tables.size()));
  if (!s.diverged_tables.empty()) {
    out +=
        "# HELP ferry_follow_table_diverged 1 for each diverged table\n"
        "# TYPE ferry_follow_table_diverged gauge\n";
    for (const auto& d : s.diverged_tables)
      out += fmt::format(
          "ferry_follow_table_diverged{{direction=\"{}\",slot=\"{}\",table=\"{}\"}} 1\n",
          s.direction, prometheus_label(s.slot), prometheus_label(d.table));
  }
  return out;
}

Result<void> write_follow_status(const std::string& path, const FollowStatus& s) {
  return write_file_atomically(path, render_follow_status_json(s));
}

Result<FollowStatus> read_follow_status(const std::string& path) {
  auto text = with_context(read_text_file(path), "reading " + path);
  if (!text) return tl::unexpected(text.error());
  auto doc = parse_yaml(*text, path);
  if (!doc) return tl::unexpected(doc.error());
  // Something else, or a file cut short: an error, never an empty status.
  if (!doc->is_mapping() || !doc->find("state") || !doc->find("pid") || !doc->find("updated_unix"))
    return fail(ErrorCode::kInvalidInput,
                path +
                    ": not a follow status (no state, pid and updated_unix); it is written by "
                    "ferry db follow, and may have been damaged");
  FollowStatus s;
  auto str = [&](const char* key, std::string& out) {
    if (const YamlNode* n = doc->find(key)) out = n->scalar();
  };
  auto num = [&](const char* key, auto& out) {
    if (const YamlNode* n = doc->find(key))
      if (auto v = n->as_number()) out = static_cast<std::remove_reference_t<decltype(out)>>(*v);
  };
  const std::string state = doc->find("state")->scalar();
  const auto parsed_state = parse_follow_state(state);
  if (!parsed_state)
    return fail(ErrorCode::kInvalidInput,
                path + ": state '" + state + "' is not one a follow writes (damaged?)");
  s.state = *parsed_state;
  s.running = false;
  str("direction", s.direction);
  num("pid", s.pid);
  str("slot", s.slot);
  str("publication", s.publication);
  str("source", s.source);
  str("target", s.target);
  num("apply_jobs", s.apply_jobs);
  str("metrics_url", s.metrics_url);
  str("started_at", s.started_at);
  str("updated_at", s.updated_at);
  num("updated_unix", s.updated_unix);
  str("applied_lsn", s.applied_lsn);
  str("confirmed_lsn", s.confirmed_lsn);
  str("source_wal_lsn", s.source_wal_lsn);
  num("lag_bytes", s.lag_bytes);
  num("lag_seconds", s.lag_seconds);
  num("lag_p99_ms", s.lag_p99_ms);
  num("transactions", s.transactions);
  num("rows", s.rows);
  num("transactions_per_second", s.transactions_per_second);
  num("rows_per_second", s.rows_per_second);
  num("conflicts", s.conflicts);
  num("skipped", s.skipped);
  num("queued", s.queued);
  num("reconnects", s.reconnects);
  if (const YamlNode* t = doc->find("insert_only_tables"))
    for (size_t i = 0; i < t->size(); ++i) s.insert_only_tables.push_back((*t)[i].scalar());
  str("resync", s.resync);
  if (const YamlNode* d = doc->find("diverged_tables"))
    for (size_t i = 0; i < d->size(); ++i) {
      DivergedTable t;
      if (const YamlNode* v = (*d)[i].find("table")) t.table = v->scalar();
      if (const YamlNode* v = (*d)[i].find("detected_at")) t.detected_at = v->scalar();
      if (const YamlNode* v = (*d)[i].find("detail")) t.detail = v->scalar();
      s.diverged_tables.push_back(std::move(t));
    }
  if (const YamlNode* w = doc->find("warnings"))
    for (size_t i = 0; i < w->size(); ++i) s.warnings.push_back((*w)[i].scalar());
  str("error", s.error);
  return s;
}

std::string diverged_table_fix(const std::string& table, const std::string& dir, bool reverse) {
  if (reverse)
    return fmt::format(
        "an UPDATE or DELETE on the target cannot be carried back for a table without replica "
        "identity, so the source lacks it: after a rollback, copy {} back from the target by "
        "hand (pg_dump --data-only -t {} | psql, after emptying it on the source), or roll back "
        "with --allow-diverged knowing it; set REPLICA IDENTITY FULL on such tables on the "
        "target to avoid it (work directory {})",
        table, table, dir);
  return fmt::format(
      "copy it again while follow runs: ferry db clone --resync --tables {} --source ... "
      "--target ... --dir {}. First, for a table without replica identity (an UPDATE or DELETE "
      "cannot be carried for it): on the source, ALTER TABLE {} REPLICA IDENTITY FULL (or add a "
      "primary key), else its next UPDATE or DELETE diverges it again; for a table created "
      "after the clone: create it on the target (pg_dump --schema-only --table)",
      table, dir, table);
}

MetricsEndpoint::Readiness follow_readiness(const FollowStatus& s) {
  // Lag is known once a status has been measured from both servers.
  const bool ready = is_streaming(s.state) && !s.source_wal_lsn.empty();
  JsonWriter w;
  w.begin_object()
      .field("ready", ready)
      .field("state", follow_state_name(s.state))
      .field("lag_seconds", s.lag_seconds)
      .field("lag_bytes", s.lag_bytes)
      .field("error", s.error)
      .end_object();
  return {ready, w.take()};
}

bool follow_process_exists(const FollowStatus& s) {
  // EPERM: it runs, as another user (the service's): alive all the same.
  return s.pid > 0 && (kill(static_cast<pid_t>(s.pid), 0) == 0 || errno == EPERM);
}

bool follow_is_alive(const FollowStatus& s, double max_age_seconds) {
  if (!follow_process_exists(s)) return false;
  return unix_now() - s.updated_unix <= max_age_seconds;
}

}  // namespace ferry::db
