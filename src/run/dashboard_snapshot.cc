#include "run/dashboard_snapshot.h"

#include <filesystem>

#include "core/json_writer.h"
#include "db/follow/follow_status.h"
#include "run/run_status.h"

namespace ferry::run {

namespace {

namespace fs = std::filesystem;

DatabaseReplication replication_of(const PlanDatabase& db, const std::string& path, bool reverse) {
  DatabaseReplication r;
  r.name = db.name;
  r.route = db.route;
  // The reverse stream copies the new side back to the old one.
  r.source = reverse ? db.target_shown : db.source_shown;
  r.target = reverse ? db.source_shown : db.target_shown;
  r.direction = reverse ? "reverse" : "forward";
  std::error_code ec;
  if (!fs::exists(path, ec)) return r;
  auto status = db::read_follow_status(path);
  if (!status) {
    r.state = "unreadable";
    r.error = status.error().to_string();
    return r;
  }
  r.state = db::follow_state_name(status->state);
  r.running = db::follow_is_alive(*status);
  r.lag_seconds = status->lag_seconds;
  r.lag_bytes = status->lag_bytes;
  r.lag_p99_ms = status->lag_p99_ms;
  r.transactions_per_second = status->transactions_per_second;
  r.rows_per_second = status->rows_per_second;
  r.updated_at = status->updated_at;
  r.error = status->error;
  r.diverged_tables = static_cast<int64_t>(status->diverged_tables.size());
  return r;
}

void write_replication(JsonWriter& w, const DatabaseReplication& r) {
  w.begin_object().field("name", r.name).field("route", r.route);
  w.field("source", r.source).field("target", r.target).field("direction", r.direction);
  w.field("state", r.state).field("running", r.running).field("lag_seconds", r.lag_seconds);
  w.field("lag_bytes", r.lag_bytes).field("lag_p99_ms", r.lag_p99_ms);
  w.field("transactions_per_second", r.transactions_per_second);
  w.field("rows_per_second", r.rows_per_second).field("updated_at", r.updated_at);
  w.field("error", r.error).field("diverged_tables", r.diverged_tables).end_object();
}

}  // namespace

std::vector<DatabaseReplication> read_replication(const Plan& plan) {
  std::vector<DatabaseReplication> out;
  for (const PlanDatabase& db : plan.databases) {
    // A database's work directory in a run (clone, follow, cutover) is STATE_DIR/NAME.
    const std::string dir = (fs::path(plan.state_dir) / db.name).string();
    out.push_back(replication_of(db, db::follow_status_path(dir, false), false));
    const std::string reverse = db::follow_status_path(dir, true);
    std::error_code ec;
    if (fs::exists(reverse, ec)) out.push_back(replication_of(db, reverse, true));
  }
  return out;
}

std::string render_dashboard_snapshot(const Plan& plan, const RunJournal& journal,
                                      const std::vector<DatabaseReplication>& databases,
                                      const std::optional<ProxyReading>& proxy, size_t events) {
  JsonWriter w;
  w.begin_object();
  if (auto ok = write_status_fields(w, plan, journal, events); !ok) {
    // Nothing of the status was written (it reads everything first).
    w.field("name", plan.name).field("state", "unknown").field("why", "");
    w.key("steps").begin_array().end_array().key("events").begin_array().end_array();
    w.key("queued").begin_array().end_array();
    w.field("error", ok.error().to_string());
  } else {
    w.field("error", "");
  }
  w.key("plan").begin_object().field("file", plan.file);
  w.field("on_failure", plan.on_failure == OnFailure::kPause ? "pause" : "rollback");
  w.key("steps").begin_array();
  for (const PlanStep& s : plan.steps) w.value(s.describe());
  w.end_array().end_object();
  w.key("databases").begin_array();
  for (const DatabaseReplication& r : databases) write_replication(w, r);
  w.end_array().key("proxy");
  if (proxy) {
    write_proxy_reading(w, *proxy);
  } else {
    w.null();
  }
  w.end_object();
  return w.take();
}

}  // namespace ferry::run
